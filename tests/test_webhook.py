"""The `/wechat` transport: modes, message types, retries, deadline, ordering, bad input."""
from __future__ import annotations

import asyncio
import time
from contextlib import asynccontextmanager

import pytest
import xmltodict
from sqlalchemy import select

from bot.app import create_app
from bot.appkeys import SERVICES
from bot.auth import COOKIE
from bot.auth.sessions import SessionStore
from bot.logs import quiet_content_loggers
from bot.models import Message, Resident
from bot.values import Reply
from bot.wechat import parse
from tests.conftest import AES_KEY, make_config, settle
from tests.platform import Platform, message_xml

ECHO_ORDER = 1  # before any real stage, so these tests see only the transport


def echo_stage(calls: list | None = None, fail: bool = False):
    async def stage(turn):
        if calls is not None:
            calls.append(turn.inbound)
        if fail:
            raise RuntimeError("flow broke")
        return [Reply(text=f"echo:{turn.inbound.kind}:{turn.inbound.event or turn.inbound.text}")]
    return stage


async def messages(services) -> list[Message]:
    async with services.db() as session:
        return list(await session.scalars(select(Message).order_by(Message.id)))


async def test_url_verification_echoes_echostr(client, platform):
    resp = await client.get("/wechat", params={**platform.signed_query(), "echostr": "abc123"})
    assert resp.status == 200 and await resp.text() == "abc123"


async def test_url_verification_with_bad_signature_is_refused(client, platform):
    query = {**platform.signed_query(), "echostr": "abc123"}
    query["signature"] = "0" * 40
    resp = await client.get("/wechat", params=query)
    assert resp.status == 403 and "abc123" not in await resp.text()


@pytest.mark.parametrize("mode", ["plain", "compatible", "safe"])
async def test_each_mode_round_trips_a_text_message(aiohttp_client, clean_database, mock_wechat, mode):
    config = make_config(clean_database, str(mock_wechat.make_url("")).rstrip("/"),
                         XZ_WECHAT_AES_KEY="" if mode == "plain" else AES_KEY)
    client = await aiohttp_client(create_app(config))
    client.server.app[SERVICES].pipeline.add(ECHO_ORDER, "echo", echo_stage())
    answer = await Platform(client, config, mode=mode).text("o-mode", "你好 ]]> <b>")
    assert answer.status == 200
    if mode != "plain":
        assert "<Encrypt>" in answer.body and "你好" not in answer.body
    assert answer.text == "echo:text:你好 ]]> <b>"


async def test_bad_signature_is_refused_and_nothing_recorded(client, platform, services):
    query, body = platform.envelope(message_xml("o-bad", "text", {"Content": "hi"}))
    query["signature"] = query["signature"][::-1]
    answer = await platform.post_raw(query, body)
    assert answer.status == 403
    assert await messages(services) == []


async def test_stale_timestamp_is_refused_as_replay(client, platform, services):
    query = platform.signed_query(timestamp=int(time.time()) - 301)
    answer = await platform.post_raw(query, message_xml("o-old", "text", {"Content": "hi"}))
    assert answer.status == 403
    assert await messages(services) == []


async def test_bad_aes_signature_is_refused(aiohttp_client, clean_database, mock_wechat):
    config = make_config(clean_database, str(mock_wechat.make_url("")), XZ_WECHAT_AES_KEY=AES_KEY)
    client = await aiohttp_client(create_app(config))
    platform = Platform(client, config, mode="safe")
    query, body = platform.envelope(message_xml("o-x", "text", {"Content": "hi"}))
    query["msg_signature"] = "f" * 40
    assert (await platform.post_raw(query, body)).status == 403


MESSAGE_TYPES = {
    "text": {"Content": "在吗"},
    "image": {"PicUrl": "http://img/1.jpg", "MediaId": "m1"},
    "voice": {"MediaId": "m2", "Format": "amr", "Recognition": "我想聊聊"},
    "video": {"MediaId": "m3", "ThumbMediaId": "t3"},
    "shortvideo": {"MediaId": "m4", "ThumbMediaId": "t4"},
    "location": {"Location_X": "30.59", "Location_Y": "114.30", "Scale": "15", "Label": "某街道"},
    "link": {"Title": "文章", "Description": "d", "Url": "http://example.org/a"},
}
EVENTS = {
    "subscribe": {"EventKey": "qrscene_station_001", "Ticket": "tk"},
    "unsubscribe": {},
    "SCAN": {"EventKey": "station_002", "Ticket": "tk"},
    "LOCATION": {"Latitude": "30.6", "Longitude": "114.3", "Precision": "50"},
    "CLICK": {"EventKey": "MENU_ASSESS"},
    "VIEW": {"EventKey": "http://example.org/"},
    "TEMPLATESENDJOBFINISH": {"MsgID": "200163836", "Status": "success"},
    "MASSSENDJOBFINISH": {"MsgID": "1000001625", "Status": "sendsuccess", "TotalCount": "1"},
}


@pytest.mark.parametrize("msg_type", sorted(MESSAGE_TYPES))
async def test_every_message_type_answers_200_and_is_recorded(client, platform, services, msg_type):
    calls: list = []
    services.pipeline.add(ECHO_ORDER, "echo", echo_stage(calls))
    answer = await platform.send_xml(message_xml(f"o-{msg_type}", msg_type, MESSAGE_TYPES[msg_type]))
    assert answer.status == 200 and answer.text.startswith(f"echo:{msg_type}")
    [recorded] = [m for m in await messages(services) if m.direction == "in"]
    assert recorded.kind == msg_type
    if msg_type == "voice":
        assert calls[0].text == "我想聊聊" and recorded.content == "我想聊聊"
    if msg_type == "location":
        assert (calls[0].latitude, calls[0].longitude) == (30.59, 114.30)


@pytest.mark.parametrize("event", sorted(EVENTS))
async def test_every_event_type_answers_200(client, platform, services, event):
    services.pipeline.add(ECHO_ORDER, "echo", echo_stage())
    answer = await platform.event(f"o-{event}", event, **EVENTS[event])
    assert answer.status == 200
    assert answer.body == "success" or answer.text.startswith("echo:event")


async def test_subscribe_with_scene_records_scene(client, platform, services):
    await platform.event("o-scene", "subscribe", EventKey="qrscene_station_007")
    async with services.db() as session:
        resident = await session.scalar(select(Resident).where(Resident.openid == "o-scene"))
    assert resident.subscribed and resident.scene == "station_007"


async def test_a_follow_through_a_product_scan_is_a_follow(client, platform, services):
    calls: list = []
    services.pipeline.add(ECHO_ORDER, "echo", echo_stage(calls))
    await platform.event("o-product", "subscribe", EventKey="scanbarcode|code128|6901234567892")
    assert calls[0].event == "subscribe"  # wechatpy named it subscribe_scan_product, which nothing answered


async def test_a_safe_mode_message_is_parsed_once_per_document(aiohttp_client, clean_database, mock_wechat,
                                                                 monkeypatch):
    """The envelope and the message, each parsed once by defusedxml; nothing parses them again."""
    config = make_config(clean_database, str(mock_wechat.make_url("")).rstrip("/"), XZ_WECHAT_AES_KEY=AES_KEY)
    client = await aiohttp_client(create_app(config))
    client.server.app[SERVICES].pipeline.add(ECHO_ORDER, "echo", echo_stage())
    parsed, fromstring, again = [], parse.fromstring, []

    def counted(text, **kwargs):
        parsed.append("<Encrypt>" in text)
        return fromstring(text, **kwargs)

    monkeypatch.setattr(parse, "fromstring", counted)
    monkeypatch.setattr(xmltodict, "parse", lambda *args, **kwargs: again.append(args))  # wechatpy's parser
    query, body = Platform(client, config, mode="safe").envelope(message_xml("o-once", "text", {"Content": "一次"}))
    answer = await client.post("/wechat", params=query, data=body)
    assert answer.status == 200 and "<Encrypt>" in await answer.text()
    assert parsed == [True, False] and again == []


async def test_the_webhook_makes_no_page_context_and_passes_the_staff_guard_at_once(client, platform, monkeypatch):
    """The page middlewares (the staff member and CSRF token for templates, the staff-area guard) sit in
    front of every route but look up no session for `/wechat`, even when a cookie comes along; a staff
    page with the same cookie does."""
    looked_up: list[str] = []

    async def get(self, sid):
        looked_up.append(sid)
        return None

    monkeypatch.setattr(SessionStore, "get", get)
    query, body = platform.envelope(message_xml("o-guard", "text", {"Content": "你好"}))
    answer = await client.post("/wechat", params=query, data=body, cookies={COOKIE: "a-staff-session"})
    assert answer.status == 200 and looked_up == []
    page = await client.get("/console", cookies={COOKIE: "a-staff-session"}, allow_redirects=False)
    assert page.status in (302, 303, 401) and looked_up == ["a-staff-session"]


async def test_unsubscribe_marks_resident_unsubscribed(client, platform, services):
    await platform.text("o-leave", "hi")
    await platform.event("o-leave", "unsubscribe")
    async with services.db() as session:
        resident = await session.scalar(select(Resident).where(Resident.openid == "o-leave"))
    assert resident.subscribed is False and resident.unsubscribed_at is not None


async def test_retry_of_same_msgid_runs_one_turn(client, platform, services):
    calls: list = []
    services.pipeline.add(ECHO_ORDER, "echo", echo_stage(calls))
    xml = message_xml("o-retry", "text", {"Content": "同一条"}, msg_id=424242)
    first = await platform.send_xml(xml)
    second = await platform.send_xml(xml)
    assert len(calls) == 1
    assert second.text == first.text == "echo:text:同一条"
    assert len([m for m in await messages(services) if m.direction == "in"]) == 1


async def test_retry_arriving_while_first_still_runs_gets_the_first_answer(client, platform, services, monkeypatch):
    calls: list = []
    retry_waits = asyncio.Event()
    wait_answer = services.dedup.wait_answer

    async def wait_answer_noted(message_key, timeout):
        retry_waits.set()
        return await wait_answer(message_key, timeout)

    async def echo_once_the_retry_waits(turn):
        calls.append(turn.inbound)
        await retry_waits.wait()  # the first turn is still running when the retry comes
        return [Reply(text=f"echo:text:{turn.inbound.text}")]

    monkeypatch.setattr(services.dedup, "wait_answer", wait_answer_noted)
    services.pipeline.add(ECHO_ORDER, "echo", echo_once_the_retry_waits)
    xml = message_xml("o-overlap", "text", {"Content": "慢"}, msg_id=434343)
    first, second = await asyncio.gather(platform.send_xml(xml), platform.send_xml(xml))
    assert len(calls) == 1
    assert first.text == second.text == "echo:text:慢"


async def test_event_retry_is_deduplicated_on_sender_and_time(client, platform, services):
    calls: list = []
    services.pipeline.add(ECHO_ORDER, "echo", echo_stage(calls))
    created = int(time.time())
    await platform.event("o-click", "CLICK", create_time=created, EventKey="MENU_TIPS")
    await platform.event("o-click", "CLICK", create_time=created, EventKey="MENU_TIPS")
    assert len(calls) == 1


async def test_slow_turn_answers_success_then_sends_through_customer_service(
        aiohttp_client, clean_database, mock_wechat):
    config = make_config(clean_database, str(mock_wechat.make_url("")).rstrip("/")).with_(reply_deadline=0.2)
    client = await aiohttp_client(create_app(config))
    services = client.server.app[SERVICES]
    release = asyncio.Event()

    async def held_until_answered(turn):  # finishes only after the platform has had its answer
        await release.wait()
        return [Reply(text=f"echo:text:{turn.inbound.text}")]

    services.pipeline.add(ECHO_ORDER, "held", held_until_answered)
    answer = await Platform(client, config).text("o-slow", "等一下")
    assert answer.body == "success"
    release.set()
    await settle(services)
    [sent] = mock_wechat.state.sent_to("o-slow")
    assert sent["payload"]["text"]["content"] == "echo:text:等一下"
    outbound = [m for m in await messages(services) if m.direction == "out"]
    assert [(m.delivery, m.content) for m in outbound] == [("cs", "echo:text:等一下")]


async def test_one_residents_messages_are_handled_in_order(client, platform, services, monkeypatch):
    seen: list[str] = []
    first_inside, second_waits = asyncio.Event(), asyncio.Event()
    hold = services.locks.hold

    @asynccontextmanager
    async def hold_noting_the_second(openid, **reading):
        if first_inside.is_set():  # the second message's turn asks for the lock the first one holds
            second_waits.set()
        async with hold(openid, **reading) as read:
            yield read

    async def slow_first(turn):
        if turn.inbound.text == "第一":
            first_inside.set()
            await second_waits.wait()  # finish only once the second message is waiting behind this one
        seen.append(turn.inbound.text)
        return []

    monkeypatch.setattr(services.locks, "hold", hold_noting_the_second)
    services.pipeline.add(ECHO_ORDER, "order", slow_first)
    first = asyncio.create_task(platform.text("o-order", "第一"))
    await first_inside.wait()
    await asyncio.gather(first, platform.text("o-order", "第二"))
    assert seen == ["第一", "第二"]


async def test_different_residents_run_concurrently(client, platform, services):
    together = asyncio.Barrier(5)  # passes only when all five turns are inside the pipeline at once
    met: list[bool] = []

    async def meet(turn):
        try:
            await asyncio.wait_for(together.wait(), timeout=3)
            met.append(True)
        except asyncio.TimeoutError:
            met.append(False)
        return []

    services.pipeline.add(ECHO_ORDER, "meet", meet)
    await asyncio.gather(*(platform.text(f"o-par-{i}", "hi") for i in range(5)))
    await settle(services)
    assert met == [True] * 5


async def test_message_is_recorded_even_when_the_flow_fails(client, platform, services):
    services.pipeline.add(ECHO_ORDER, "broken", echo_stage(fail=True))
    answer = await platform.text("o-fail", "请记住我说的话")
    assert answer.status == 200 and "12356" in answer.text
    recorded = (await messages(services))[0]
    assert recorded.content == "请记住我说的话" and recorded.direction == "in"


BILLION_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
                  '<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>1</CreateTime>'
                  '<MsgType>text</MsgType><Content>&lol2;</Content><MsgId>1</MsgId></xml>')
EXTERNAL_ENTITY = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                   '<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>1</CreateTime>'
                   '<MsgType>text</MsgType><Content>&e;</Content><MsgId>1</MsgId></xml>')
HEADER = "<ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>1</CreateTime>"
BAD_BODIES = {
    "too_large": ("<xml>" + "x" * (65 * 1024) + "</xml>", 413),
    "not_xml": ("hello, this is not xml", 400),
    "billion_laughs": (BILLION_LAUGHS, 400),
    "external_entity": (EXTERNAL_ENTITY, 400),
    "missing_fields": ("<xml><ToUserName>a</ToUserName><MsgType>text</MsgType></xml>", 400),
    "invalid_utf8": (b"<xml><Content>\xff\xfe</Content></xml>", 400),
    "wrong_root": ("<html><ToUserName>a</ToUserName></html>", 400),
    "event_without_a_name": (f"<xml>{HEADER}<MsgType>event</MsgType><Event></Event></xml>", 400),
    "repeated_field": (f"<xml>{HEADER}<MsgType>text</MsgType><Content>a</Content><Content>b</Content></xml>", 400),
    "nested_field": (f"<xml>{HEADER}<MsgType>text</MsgType><Content>a<b>c</b></Content></xml>", 400),
    "field_with_attributes": (f"<xml>{HEADER}<MsgType>text</MsgType><Content lang='x'>a</Content></xml>", 400),
    "field_in_a_namespace": (f"<xml>{HEADER}<MsgType>text</MsgType><Content xmlns='urn:x'>a</Content></xml>", 400),
}


@pytest.mark.parametrize("case", sorted(BAD_BODIES))
async def test_bad_input_is_refused_and_service_keeps_serving(client, platform, services, case, caplog):
    body, status = BAD_BODIES[case]
    answer = await platform.post_raw(platform.signed_query(), body)
    assert answer.status == status
    assert await messages(services) == []
    assert "lol" not in caplog.text and "passwd" not in caplog.text
    services.pipeline.add(ECHO_ORDER, "echo", echo_stage())
    assert (await platform.text("o-after", "still there?")).text == "echo:text:still there?"


async def test_message_content_never_reaches_the_logs(client, platform, services, caplog):
    services.pipeline.add(ECHO_ORDER, "echo", echo_stage(fail=True))
    quiet_content_loggers()  # what setup_logging does at start, at any level
    caplog.set_level("DEBUG")
    await platform.text("o-private", "我的秘密内容")
    assert "我的秘密内容" not in caplog.text


async def test_delivery_report_carries_the_job_msgid(client, platform, services):
    calls: list = []
    services.pipeline.add(ECHO_ORDER, "echo", echo_stage(calls))
    await platform.event("o-report", "TEMPLATESENDJOBFINISH", MsgID="200163836", Status="success")
    assert calls[0].msg_id == "200163836" and calls[0].status == "success"


async def test_a_platform_event_with_a_long_name_is_recorded(client, platform, services):
    answer = await platform.event("o-long-event", "user_authorization_cancellation")
    assert answer.status == 200
    [row] = await messages(services)
    assert row.kind.startswith("event:user_authorization") and len(row.kind) <= 32


async def test_a_body_declaring_another_encoding_is_refused_not_garbled(platform, services):
    body = ('<?xml version="1.0" encoding="gbk"?>' + message_xml("o-gbk", "text", {"Content": "站"})).encode("gbk")
    assert body.decode("utf-8")  # valid UTF-8 too, where it would read as վ
    assert (await platform.post_raw(platform.signed_query(), body)).status == 400
    assert await messages(services) == []


async def test_a_utf16_body_that_reads_as_utf8_is_refused(platform, services):
    xml = '<?xml version="1.0" encoding="utf-16-be"?>' + message_xml("o-utf16", "text", {"Content": "你"})
    body = xml.encode("utf-16-be")
    assert body.decode("utf-8")  # valid UTF-8 too: ASCII with NULs between, 你 as "O`"
    assert (await platform.post_raw(platform.signed_query(), body)).status == 400
    assert await messages(services) == []


@pytest.mark.parametrize("mode", ["plain", "compatible"])
async def test_with_a_key_a_body_without_the_encrypted_envelope_is_refused(aiohttp_client, clean_database,
                                                                           mock_wechat, mode):
    """A signed query string alone (from a proxy log, say) must not let anyone post as a resident."""
    config = make_config(clean_database, str(mock_wechat.make_url("")).rstrip("/"), XZ_WECHAT_AES_KEY=AES_KEY)
    client = await aiohttp_client(create_app(config))
    platform = Platform(client, config, mode=mode)
    query, body = platform.envelope(message_xml("o-downgrade", "text", {"Content": "我想要我的档案"}))
    query.pop("encrypt_type", None)  # compatible mode's plain fields, posted as if plain mode
    query.pop("msg_signature", None)
    answer = await platform.post_raw(query, body)
    assert answer.status == 403
    assert await messages(client.server.app[SERVICES]) == []
