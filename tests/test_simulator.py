"""The resident simulator: its page, its trip through the real `/wechat`, and its live inbox.

The app runs on a real test server, so the simulator's own HTTP call to the webhook is real too.
"""
from __future__ import annotations

import json
import re

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select
from wechatpy.crypto import WeChatCrypto

from bot.app import create_app
from bot.config import REAL_WECHAT_API
from bot.models import Message, Resident
from bot.simulator import wire
from bot.values import Article, Reply
from tests.conftest import AES_KEY, APPID, SECRET, make_config, settle

MENU = {"心理服务": ["MENU_ASSESS", "MENU_TIPS", "MENU_PRIVACY", "MENU_WITHDRAW"],
        "活动站点": ["MENU_EVENTS", "MENU_STATIONS"], "找咨询师": ["MENU_COUNSELLOR"]}
both_modes = pytest.mark.parametrize("aes_key", ["plain", "safe"], indirect=True)


async def send(client, **body):
    resp = await client.post("/simulator/api/send", json=body)
    return resp.status, await resp.json()


async def transcript(services, openid: str) -> list[Message]:
    await settle(services)
    async with services.db() as session:
        rows = await session.scalars(select(Message).join(Resident, Message.resident_id == Resident.id)
                                     .where(Resident.openid == openid).order_by(Message.id))
        return list(rows)


def answer_with(services, *replies: Reply) -> None:
    """Put a stage in front of whatever flows exist, so the reply under test is known."""
    async def stage(turn):
        return list(replies)
    services.pipeline.add(0, "test-answer", stage)


async def test_page_shows_the_account_and_its_menu(client):
    resp = await client.get("/simulator")
    html = await resp.text()
    boot = json.loads(re.search(r'<script type="application/json" id="boot">(.*?)</script>', html, re.S)[1])
    assert resp.status == 200
    assert "<b>心站</b>" in html
    assert {b["name"]: [s["key"] for s in b["sub"]] or [b["key"]] for b in boot["menu"]} == MENU  # the default menu


@both_modes
async def test_text_goes_through_the_webhook_and_is_recorded(client, services):
    status, body = await send(client, openid="sim-text", type="text", text="最近睡不好")
    assert status == 200 and body["status"] == 200
    assert body["reply"] is None or body["reply"]["type"] in ("text", "news")
    inbound = [m for m in await transcript(services, "sim-text") if m.direction == "in"]
    assert [(m.kind, m.content) for m in inbound] == [("text", "最近睡不好")]


@both_modes
async def test_text_reply_comes_back_as_text(client, services):
    answer_with(services, Reply(text="收到 ]]> <b>不是标签</b>"))
    _, body = await send(client, openid="sim-reply", type="text", text="你好")
    assert body == {"status": 200, "reply": {"type": "text", "text": "收到 ]]> <b>不是标签</b>"}}


@both_modes
async def test_news_reply_comes_back_as_articles(client, services):
    answer_with(services, Reply(articles=(Article("睡眠小贴士", "五个方法", "https://example.org/sleep"),)))
    _, body = await send(client, openid="sim-news", type="click", key="MENU_TIPS")
    assert body["reply"] == {"type": "news", "articles": [
        {"title": "睡眠小贴士", "description": "五个方法", "image": "", "url": "https://example.org/sleep"}]}


@pytest.mark.parametrize(("payload", "kind", "content"), [
    ({"type": "click", "key": "MENU_ASSESS"}, "event:click", "MENU_ASSESS"),
    ({"type": "view", "key": "https://example.org/x"}, "event:view", "https://example.org/x"),
    ({"type": "subscribe", "scene": "park-poster"}, "event:subscribe", "park-poster"),
    ({"type": "subscribe"}, "event:subscribe", ""),
    ({"type": "unsubscribe"}, "event:unsubscribe", ""),
    ({"type": "location", "lat": 30.5928, "lon": 114.3055, "label": "市民之家"}, "location", "30.5928,114.3055 市民之家"),
])
async def test_each_message_and_event_reaches_the_transcript(client, services, payload, kind, content):
    status, body = await send(client, openid="sim-kinds", **payload)
    assert status == 200 and body["status"] == 200
    inbound = [m for m in await transcript(services, "sim-kinds") if m.direction == "in"]
    assert [(m.kind, m.content) for m in inbound] == [(kind, content)]


async def test_follow_with_a_scene_marks_the_resident(client, services):
    await send(client, openid="sim-scene", type="subscribe", scene="park-poster")
    await send(client, openid="sim-scene", type="unsubscribe")
    await settle(services)
    async with services.db() as session:
        resident = await session.scalar(select(Resident).where(Resident.openid == "sim-scene"))
    assert resident.scene == "park-poster" and resident.subscribed is False


def test_safe_mode_sends_only_the_signed_encrypted_envelope():
    crypto = WeChatCrypto("test-token", AES_KEY, APPID)
    xml = wire.to_xml(wire.SimMessage("sim-wire", "text", text="秘密"), now=1700000000)
    envelope = wire.seal(xml, openid="sim-wire", token="test-token", crypto=crypto)
    q = envelope.query
    assert q["encrypt_type"] == "aes" and "sim-wire" not in envelope.body and "秘密" not in envelope.body
    assert crypto.decrypt_message(envelope.body, q["msg_signature"], q["timestamp"], q["nonce"]) == xml


@pytest.mark.parametrize(("body", "message"), [
    ({"openid": "sim-x", "type": "image"}, "type must be one of"),
    ({"openid": "sim-x", "type": "text"}, "text is required"),
    ({"openid": "sim-x", "type": "text", "text": "   "}, "text is required"),
    ({"openid": "sim-x", "type": "text", "text": 5}, "text must be a string"),
    ({"openid": "sim-x", "type": "text", "text": "a\x00b"}, "cannot carry"),
    ({"openid": "sim-x", "type": "click"}, "key is required"),
    ({"openid": "sim-x", "type": "location", "lat": 91, "lon": 114}, "lat must be between"),
    ({"openid": "sim-x", "type": "location", "lat": 30.6}, "lon must be a number"),
    ({"openid": "bad id!", "type": "text", "text": "x"}, "openid must be"),
    ({"type": "text", "text": "x"}, "openid must be"),
    (["not", "an", "object"], "JSON object"),
])
async def test_bad_input_is_refused_with_a_reason(client, services, body, message):
    resp = await client.post("/simulator/api/send", json=body)
    assert resp.status == 400
    assert message in (await resp.json())["error"]


async def test_a_body_that_is_not_json_is_refused(client):
    resp = await client.post("/simulator/api/send", data="text=hello")
    assert resp.status == 400 and (await resp.json())["error"] == "the body must be JSON"


async def post_to_mock(mock_wechat, payload: dict) -> None:
    http = mock_wechat.make_url
    async with aiohttp.ClientSession() as session:
        async with session.get(http("/cgi-bin/token"), params={"grant_type": "client_credential",
                                                               "appid": APPID, "secret": SECRET}) as resp:
            token = (await resp.json())["access_token"]
        async with session.post(http("/cgi-bin/message/custom/send"), params={"access_token": token},
                                json=payload) as resp:
            assert (await resp.json())["errcode"] == 0


async def test_inbox_shows_customer_service_messages_after_a_sequence(client, mock_wechat):
    await post_to_mock(mock_wechat, {"touser": "sim-inbox", "msgtype": "text", "text": {"content": "稍后联系你"}})
    await post_to_mock(mock_wechat, {"touser": "someone-else", "msgtype": "text", "text": {"content": "别人的"}})
    await post_to_mock(mock_wechat, {"touser": "sim-inbox", "msgtype": "news", "news": {"articles": [
        {"title": "本周活动", "description": "正念", "url": "https://example.org/e", "picurl": ""}]}})
    resp = await client.get("/simulator/api/inbox", params={"openid": "sim-inbox", "after": "0"})
    messages = (await resp.json())["messages"]
    assert resp.status == 200
    assert [m["type"] for m in messages] == ["text", "news"]
    assert messages[0]["text"] == "稍后联系你"
    assert messages[1]["articles"][0]["title"] == "本周活动"
    resp = await client.get("/simulator/api/inbox", params={"openid": "sim-inbox", "after": messages[0]["seq"]})
    assert [m["type"] for m in (await resp.json())["messages"]] == ["news"]


async def test_inbox_refuses_a_bad_openid_or_sequence(client):
    assert (await client.get("/simulator/api/inbox", params={"openid": "a b"})).status == 400
    assert (await client.get("/simulator/api/inbox", params={"openid": "sim-a", "after": "x"})).status == 400


async def test_inbox_says_live_messages_are_unavailable_without_the_mock(aiohttp_client, aiohttp_server,
                                                                         clean_database):
    not_a_mock = await aiohttp_server(web.Application())
    config = make_config(clean_database, str(not_a_mock.make_url("")).rstrip("/"))
    client = await aiohttp_client(create_app(config))
    resp = await client.get("/simulator/api/inbox", params={"openid": "sim-a"})
    assert resp.status == 404
    assert "mock WeChat API" in (await resp.json())["error"]


async def test_simulator_is_off_unless_asked_for(aiohttp_client, clean_database, mock_wechat):
    config = make_config(clean_database, str(mock_wechat.make_url("")).rstrip("/"), XZ_SIMULATOR="")
    client = await aiohttp_client(create_app(config))
    assert (await client.get("/simulator")).status == 404
    assert (await client.post("/simulator/api/send", json={})).status == 404


async def test_simulator_is_off_against_the_real_wechat_api(aiohttp_client, clean_database):
    client = await aiohttp_client(create_app(make_config(clean_database, REAL_WECHAT_API)))
    assert (await client.get("/simulator")).status == 404
    assert (await client.post("/simulator/api/send", json={})).status == 404
