"""The WeChat API answering errors and timeouts: a customer-service reply is retried on transient
errors and goes out once, or is recorded as failed and never resent; the turn still answers.

Most tests give the turn no time for a passive reply (reply deadline ~0, as under heavy load), so
every reply goes through the customer-service API, where the faults are.
"""
from __future__ import annotations

import aiohttp
import pytest
from sqlalchemy import select

from bot.app import create_app
from bot.appkeys import SERVICES
from bot.mock_wechat.state import Fault
from bot.models import Message, Resident
from tests.conftest import settle
from tests.faults.retrying import duplicate_pushes, text_xml
from tests.platform import Platform

CUSTOM_SEND = "/cgi-bin/message/custom/send"
API_TIMEOUT = 0.5  # shorter than WeChatAPI's 5 s, so a test need not wait for it


@pytest.fixture
async def past_deadline(aiohttp_client, app_config):
    """(platform, services) of an app whose turns always miss the passive deadline."""
    client = await aiohttp_client(create_app(app_config.with_(reply_deadline=0.001)))
    services = client.server.app[SERVICES]
    await services.redis.flushdb()
    services.api._backoff = 0.01  # the client's back-off between retries need not wait in a test
    return Platform(client, app_config), services


async def outbound(services, openid: str) -> list[Message]:
    async with services.db() as session:
        return list(await session.scalars(select(Message).join(Resident, Resident.id == Message.resident_id)
                                          .where(Resident.openid == openid, Message.direction == "out")))


def sent_to(mock_wechat, openid: str) -> list[dict]:
    return mock_wechat.state.sent_to(openid)


async def test_a_reply_survives_transient_api_errors_and_goes_out_once(past_deadline, mock_wechat):
    platform, services = past_deadline
    mock_wechat.state.faults.append(Fault(path=CUSTOM_SEND, errcode=-1, count=2))  # system busy, twice
    answer = await platform.send_xml(text_xml("o-busy", "菜单", 99001))
    assert answer.body == "success"
    await settle(services)
    rows = await outbound(services, "o-busy")
    assert rows and {m.delivery for m in rows} == {"cs"}
    assert len(sent_to(mock_wechat, "o-busy")) == len(rows) and duplicate_pushes(mock_wechat.state) == []


async def test_a_gateway_error_from_the_api_is_retried_and_the_reply_goes_out_once(past_deadline, mock_wechat):
    platform, services = past_deadline
    injected = await platform.client.session.post(str(mock_wechat.make_url("/mock/faults")),
                                                  json={"path": CUSTOM_SEND, "status": 502, "count": 1})
    assert injected.status == 200
    await platform.send_xml(text_xml("o-gateway", "菜单", 99002))
    await settle(services)
    rows = await outbound(services, "o-gateway")
    assert rows and {m.delivery for m in rows} == {"cs"}
    assert len(sent_to(mock_wechat, "o-gateway")) == len(rows) and duplicate_pushes(mock_wechat.state) == []


async def test_a_reply_the_api_keeps_refusing_is_recorded_failed_and_never_resent(past_deadline, mock_wechat):
    platform, services = past_deadline
    mock_wechat.state.faults.append(Fault(path=CUSTOM_SEND, errcode=-1, count=100))
    xml = text_xml("o-refused", "菜单", 99003)
    await platform.send_xml(xml)
    await settle(services)
    rows = await outbound(services, "o-refused")
    assert rows and all(m.delivery == "failed" and m.error.startswith("-1") for m in rows)
    mock_wechat.state.faults.clear()
    await platform.send_xml(xml)  # the platform's retry of the same message: no second turn, no send
    await settle(services)
    assert sent_to(mock_wechat, "o-refused") == [] and len(await outbound(services, "o-refused")) == len(rows)


async def test_a_timed_out_reply_is_not_sent_twice(past_deadline, mock_wechat):
    platform, services = past_deadline
    services.api._timeout = aiohttp.ClientTimeout(total=API_TIMEOUT)
    mock_wechat.state.faults.append(Fault(path=CUSTOM_SEND, errcode=0, delay=API_TIMEOUT * 3, deliver_first=True))
    await platform.send_xml(text_xml("o-slow", "菜单", 99004))
    await settle(services, timeout=API_TIMEOUT * 10)
    assert sent_to(mock_wechat, "o-slow"), "nothing was sent at all"
    assert duplicate_pushes(mock_wechat.state) == []


async def test_the_turn_answers_the_resident_while_the_api_is_down(platform, services, mock_wechat):
    mock_wechat.state.faults.append(Fault(path="/cgi-bin/", errcode=-1, count=100))
    answer = await platform.send_xml(text_xml("o-api-down", "菜单", 99005))
    assert answer.text, "a passive reply needs no API call, so the resident is answered"
    await settle(services)
    assert [m.delivery for m in await outbound(services, "o-api-down")] == ["passive"]
