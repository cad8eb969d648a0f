"""Uncertain template pushes are resent with the same client_msg_id, which the platform de-duplicates."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

import aiohttp
from sqlalchemy import insert, select, update

from bot.db import utcnow
from bot.mock_wechat.state import Fault
from scheduler import fanout, resend, runs
from scheduler.models import CampaignRun, Delivery
from tests.scheduler.conftest import make_campaign, make_residents

TEMPLATE_SEND = "/cgi-bin/message/template/send"


def template_sends(mock_wechat) -> Counter:
    return Counter(m["touser"] for m in mock_wechat.state.sent if m["kind"] == "template")


async def test_the_mock_platform_sends_one_message_per_openid_and_client_msg_id(services, mock_wechat):
    first = await services.api.send_template("o-a", "TPL1", {"thing1": "讲座"}, client_msg_id="xz-1-7")
    again = await services.api.send_template("o-a", "TPL1", {"thing1": "讲座"}, client_msg_id="xz-1-7")
    await services.api.send_template("o-b", "TPL1", {"thing1": "讲座"}, client_msg_id="xz-1-7")
    await services.api.send_template("o-a", "TPL1", {"thing1": "讲座"}, client_msg_id="xz-2-7")
    assert again.msgid == first.msgid
    assert template_sends(mock_wechat) == Counter({"o-a": 2, "o-b": 1})
    assert mock_wechat.state.deduplicated == 1
    assert mock_wechat.state.sent[0]["payload"]["client_msg_id"] == "xz-1-7"


async def test_a_template_push_whose_answer_was_lost_is_asked_again_and_arrives_once(out, services, mock_wechat):
    await make_residents(services, 3, prefix="lost")
    services.api._timeout = aiohttp.ClientTimeout(total=0.2)
    mock_wechat.state.faults.append(Fault(path=TEMPLATE_SEND, errcode=0, delay=0.5, deliver_first=True))
    run_id = await runs.open_run(out, await make_campaign(services), "x")
    assert await fanout.execute(out, run_id) == "done"
    assert template_sends(mock_wechat) == Counter({"lost-0": 1, "lost-1": 1, "lost-2": 1})
    assert mock_wechat.state.deduplicated == 1
    async with services.db() as session:
        run = await session.get(CampaignRun, run_id)
    assert (run.sent, run.uncertain) == (3, 0)


async def _uncertain_claims(services, run_id: int, resident_ids: list[int], claimed_ago: timedelta) -> None:
    async with services.db.begin() as session:
        await session.execute(insert(Delivery), [{"run_id": run_id, "resident_id": r, "status": "uncertain",
                                                  "error": fanout.UNCERTAIN, "created_at": utcnow() - claimed_ago}
                                                 for r in resident_ids])
        await session.execute(update(CampaignRun).where(CampaignRun.id == run_id)
                              .values(status="running", uncertain=len(resident_ids)))


async def test_an_uncertain_push_past_the_platform_window_is_not_resent(out, services, mock_wechat):
    ids = await make_residents(services, 2, prefix="late")
    run_id = await runs.open_run(out, await make_campaign(services), "x")
    await _uncertain_claims(services, run_id, ids[:1], resend.RESEND_WITHIN + timedelta(minutes=1))
    await _uncertain_claims(services, run_id, ids[1:], timedelta(minutes=1))
    async with services.db.begin() as session:
        await session.execute(update(CampaignRun).where(CampaignRun.id == run_id).values(uncertain=2))
    assert await fanout.execute(out, run_id) == "done"
    assert template_sends(mock_wechat) == Counter({"late-1": 1})
    async with services.db() as session:
        rows = dict((await session.execute(select(Delivery.resident_id, Delivery.error)
                                           .where(Delivery.run_id == run_id))).all())
        run = await session.get(CampaignRun, run_id)
    assert rows == {ids[0]: resend.TOO_LATE, ids[1]: resend.RESENT}
    assert (run.sent, run.uncertain) == (1, 1)


async def test_an_uncertain_customer_service_push_stays_at_most_once(out, services, mock_wechat):
    ids = await make_residents(services, 1, prefix="cs", last_inbound_at=utcnow())
    run_id = await runs.open_run(out, await make_campaign(services, channel="text", content={"text": "你好"}), "x")
    await _uncertain_claims(services, run_id, ids, timedelta(seconds=5))
    assert await fanout.execute(out, run_id) == "done"
    assert not mock_wechat.state.sent
    async with services.db() as session:
        assert (await session.get(CampaignRun, run_id)).uncertain == 1
