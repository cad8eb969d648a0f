"""The live chat through the real webhook and the console API: the bot is silent, both sides hear each other.

Residents ask for a counsellor the way they do in WeChat: "人工" goes through the flows router,
which calls handoff.requests.request_handoff.
"""
from __future__ import annotations

import asyncio
import json

from sqlalchemy import select

from bot.appkeys import SERVICES
from bot.models import Message
from bot.pipeline import ORDER_SAFETY
from handoff.detections import detections_for
from handoff.models import Callback, Case
from knowledge.crisis.levels import Risk, RiskLevel
from tests.conftest import settle
from tests.handoff.conftest import sent_texts


async def next_event(ws, kind: str, timeout: float = 3.0) -> dict:
    while True:
        msg = await asyncio.wait_for(ws.receive(), timeout)
        event = json.loads(msg.data)
        if event["type"] == kind:
            return event


async def test_anonymous_and_wrong_roles_cannot_reach_the_console(client, staff_client):
    resp = await client.get("/console", allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"].startswith("/login")
    reviewer = await staff_client("rev", ("reviewer",))
    assert (await reviewer.http.get("/console/api/queue", headers={"Accept": "application/json"})).status == 403
    counsellor = await staff_client("c1")
    assert (await counsellor.http.get("/console/supervisor")).status == 403
    resp = await counsellor.http.post("/console/api/take", json={})  # no CSRF header
    assert resp.status == 403


async def test_resident_and_counsellor_talk_both_ways_and_the_bot_stays_silent(
        client, services, platform, staff_client, mock_wechat):
    counsellor = await staff_client("c1")
    ws = await counsellor.ws()
    await next_event(ws, "hello")

    answer = await platform.text("o-live", "人工")
    assert "第 1 位" in answer.text and "12356" in answer.text
    queued = await next_event(ws, "queued")
    status, queue = await counsellor.get("/console/api/queue")
    assert [c["id"] for c in queue["waiting"]] == [queued["case_id"]]

    status, taken = await counsellor.post("/console/api/take")
    assert status == 200 and taken["case"]["id"] == queued["case_id"]
    case_id = taken["case"]["id"]

    answer = await platform.text("o-live", "我这几天一直睡不着")
    assert answer.status == 200 and answer.text == ""  # the bot is silent during the chat
    event = await next_event(ws, "message")
    assert event["case_id"] == case_id and event["message"]["content"] == "我这几天一直睡不着"

    status, sent = await counsellor.post(f"/console/api/cases/{case_id}/messages", {"text": "我在，慢慢说。"})
    assert status == 200 and sent["ok"]
    assert "我在，慢慢说。" in sent_texts(mock_wechat, "o-live")
    status, detail = await counsellor.get(f"/console/api/cases/{case_id}")
    contents = [(m["sender"], m["content"]) for m in detail["history"]["items"] if m["type"] == "message"]
    assert ("resident", "我这几天一直睡不着") in contents and ("counsellor", "我在，慢慢说。") in contents
    assert any(sender == "bot" for sender, _ in contents)  # bot turns before the handoff are shown too
    async with services.db() as session:
        mine = await session.scalar(select(Message).where(Message.sender == "counsellor"))
    assert mine.author_id == counsellor.id and mine.delivery == "cs"

    status, closed = await counsellor.post(f"/console/api/cases/{case_id}/close",
                                           {"outcome": "resolved", "risk_rating": 1, "summary": "ok"})
    assert status == 200 and closed["case"]["status"] == "closed"
    assert "找咨询师" in (await platform.text("o-live", "菜单")).text  # the bot is back
    await ws.close()


async def test_a_failed_send_is_shown_to_the_counsellor_not_swallowed(
        client, services, platform, staff_client, mock_wechat):
    counsellor = await staff_client("c1")
    await platform.text("o-fail", "人工")
    status, taken = await counsellor.post("/console/api/take")
    await services.redis.delete("xz:cswindow:o-fail")  # the 48-hour window has closed
    status, sent = await counsellor.post(f"/console/api/cases/{taken['case']['id']}/messages", {"text": "还好吗？"})
    assert status == 502 and not sent["ok"] and "48-hour" in sent["error"]
    async with services.db() as session:
        row = await session.scalar(select(Message).where(Message.sender == "counsellor"))
    assert row.delivery == "failed" and row.error


async def test_only_the_holder_writes_and_a_supervisor_watches_read_only(
        client, services, platform, staff_client):
    holder, other = await staff_client("c1"), await staff_client("c2")
    supervisor = await staff_client("sup", ("supervisor",))
    await platform.text("o-watch", "人工")
    status, taken = await holder.post("/console/api/take")
    case_id = taken["case"]["id"]
    assert (await other.get(f"/console/api/cases/{case_id}"))[0] == 403
    assert (await other.post(f"/console/api/cases/{case_id}/messages", {"text": "hi"}))[0] == 409
    status, watched = await supervisor.get(f"/console/api/cases/{case_id}")
    assert status == 200 and not watched["can_write"]
    status, overview = await supervisor.get("/console/api/overview")
    assert [c["id"] for c in overview["cases"]] == [case_id]
    status, staff = await supervisor.get("/console/api/staff")
    assert {s["name"]: s["load"] for s in staff["staff"]}["c1"] == 1


async def test_transfer_to_the_supervisor_on_duty_through_the_console(client, services, platform, staff_client):
    counsellor = await staff_client("c1")
    supervisor = await staff_client("sup", ("supervisor",))
    await platform.text("o-transfer", "人工")
    status, taken = await counsellor.post("/console/api/take")
    case_id = taken["case"]["id"]
    status, offered = await counsellor.post(f"/console/api/cases/{case_id}/transfer", {"to": "supervisor"})
    assert status == 200 and offered["transfer"]["to"] == "值班督导"
    status, moved = await supervisor.post(f"/console/api/cases/{case_id}/transfer/accept")
    assert status == 200 and moved["case"]["counsellor_id"] == supervisor.id
    status, sent = await supervisor.post(f"/console/api/cases/{case_id}/messages", {"text": "我是督导，我来接着聊。"})
    assert status == 200 and sent["ok"]


async def test_a_waiting_resident_can_leave_a_call_back_request_or_leave_the_queue(
        client, services, platform, staff_client):
    counsellor = await staff_client("c1")
    await platform.text("o-cb", "人工")
    assert (await platform.text("o-cb", "还要等多久")).text == ""  # waiting: silent, the console sees it
    assert "请在“回电”后面写上" in (await platform.text("o-cb", "回电")).text
    assert "13800001111" in (await platform.text("o-cb", "回电 13800001111")).text
    status, queue = await counsellor.get("/console/api/queue")
    assert [c["phone"] for c in queue["callbacks"]] == ["13800001111"]
    assert "取消排队" in (await platform.text("o-cb", "取消")).text
    async with services.db() as session:
        case = await session.scalar(select(Case))
        assert (await session.scalar(select(Callback))).case_id == case.id
    assert case.status == "closed" and case.outcome == "withdrawn"
    assert "找咨询师" in (await platform.text("o-cb", "菜单")).text


async def test_off_duty_the_bot_stays_available_while_the_case_keeps_its_place(client, services, platform):
    answer = await platform.text("o-night", "人工")
    assert "没有在线值班的咨询师" in answer.text and "回电" in answer.text
    assert "自评" in (await platform.text("o-night", "测评")).text
    assert "已记下" in (await platform.text("o-night", "回电 13800002222")).text


async def test_a_higher_risk_reading_during_an_open_case_raises_it_and_alerts(
        client, services, platform, staff_client):

    async def reads_danger(turn):
        if "药" in turn.inbound.text:
            turn.notes["risk"] = Risk(RiskLevel.IMMINENT, ("药",), "means")
        return None
    services.pipeline.add(ORDER_SAFETY, "test-safety", reads_danger)
    counsellor = await staff_client("c1")
    ws = await counsellor.ws()
    await next_event(ws, "hello")
    await platform.text("o-raise", "人工")
    await platform.text("o-raise", "我把药都攒好了")
    alert = await next_event(ws, "alert")
    async with services.db() as session:
        case = await session.scalar(select(Case))
    assert alert["case_id"] == case.id and case.level == 4 and "药" in case.evidence
    await ws.close()
    await settle(services)


async def test_every_console_tab_hears_every_event(client, services, staff_client):
    counsellor = await staff_client("c1")
    supervisor = await staff_client("sup", ("supervisor",))
    tabs = [await counsellor.ws(), await counsellor.ws(),
            await supervisor.ws()]
    for tab in tabs:
        await next_event(tab, "hello")
    from handoff import events
    await events.publish(services.redis, "queued", case_id=7, level=2)
    await events.publish(services.redis, "message", case_id=7, counsellor_id=999, message={"content": "x"})
    await events.publish(services.redis, "claimed", case_id=7, level=2)
    for tab in tabs[:2]:  # a counsellor does not get another counsellor's chat traffic
        assert (await next_event(tab, "queued"))["case_id"] == 7
        assert json.loads((await tab.receive(timeout=3)).data)["type"] == "claimed"
    assert (await next_event(tabs[2], "message"))["message"]["content"] == "x"
    for tab in tabs:
        await tab.close()


async def test_console_pages_render_for_their_roles(client, staff_client):
    counsellor = await staff_client("c1")
    supervisor = await staff_client("sup", ("supervisor", "counsellor"))
    page = await (await counsellor.http.get("/console")).text()
    assert "等待队列" in page and "接下一个" in page and "https://" not in page.split("</header>")[1]
    assert "所有等待与进行中的个案" in await (await supervisor.http.get("/console/supervisor")).text()


async def test_closing_as_false_alarm_marks_the_detections_for_tuning(client, services, platform, staff_client):
    counsellor = await staff_client("c-fa")
    answer = await platform.text("o-false-alarm", "我已经写好遗书了")
    assert "12356" in answer.text
    status, taken = await counsellor.post("/console/api/take")
    assert status == 200
    case_id = taken["case"]["id"]
    status, closed = await counsellor.post(f"/console/api/cases/{case_id}/close",
                                           {"outcome": "false_alarm", "risk_rating": 0, "summary": "误报"})
    assert status == 200
    detections = await detections_for(services, closed["case"]["resident_id"])
    assert detections and all(d.false_alarm and d.marked_by == counsellor.id for d in detections)


async def test_a_note_on_a_case_that_does_not_exist_is_not_found(client, staff_client):
    supervisor = await staff_client("sup-nocase", ("counsellor", "supervisor"))
    status, _ = await supervisor.post("/console/api/cases/999999/notes", {"body": "记录"})
    assert status == 404


async def test_the_console_socket_refuses_pages_of_other_origins(client, staff_client):
    counsellor = await staff_client("c1")
    for origin in ("https://evil.example", "http://127.0.0.1.evil.example", None):
        resp = await counsellor.http.get("/console/ws", headers={
            "Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", **({"Origin": origin} if origin else {})})
        assert resp.status == 403, origin
    async with counsellor.ws() as ws:
        assert (await next_event(ws, "hello"))["user_id"] == counsellor.id


async def test_the_console_socket_accepts_the_public_url_behind_the_proxy(aiohttp_client, app_config, make_staff):
    from bot.app import create_app
    from tests.handoff.conftest import login

    app = create_app(app_config.with_(public_url="https://xinzhan.example.gov.cn"))
    own = await aiohttp_client(app)
    await app[SERVICES].redis.flushdb()
    await make_staff("c9")
    await login(own, "c9")
    async with own.ws_connect("/console/ws", origin="https://xinzhan.example.gov.cn",
                              headers={"Host": "xinzhan.example.gov.cn", "X-Forwarded-Proto": "https"}) as ws:
        assert (await next_event(ws, "hello"))["type"] == "hello"  # accepted: the live feed greets


async def test_the_next_case_shows_the_earlier_cases_summary_and_notes(client, platform, staff_client):
    first, second = await staff_client("c-first"), await staff_client("c-second")
    await platform.text("o-back", "人工")
    _, taken = await first.post("/console/api/take")
    case_id = taken["case"]["id"]
    await first.post(f"/console/api/cases/{case_id}/notes", {"body": "睡眠差，约好回访"})
    await first.post(f"/console/api/cases/{case_id}/close", {"outcome": "resolved", "risk_rating": 1,
                                                             "summary": "情绪平稳"})
    await platform.text("o-back", "人工")
    _, taken = await second.post("/console/api/take")
    _, detail = await second.get(f"/console/api/cases/{taken['case']['id']}")
    [earlier] = [c for c in detail["record"]["cases"] if c["id"] == case_id]
    assert earlier["summary"] == "情绪平稳"
    assert [(n["body"], n["author"]) for n in earlier["notes"]] == [("睡眠差，约好回访", "c-first")]
    assert detail["notes"] == []  # the new case's own notes stay its own


async def test_a_case_read_by_anyone_but_its_holder_is_audited_once_a_stretch(client, services, platform, staff_client):
    from handoff.review.models import AuditEntry

    holder, supervisor = await staff_client("c1"), await staff_client("sup", ("supervisor",))
    await platform.text("o-audit-watch", "人工")
    case_id = (await holder.post("/console/api/take"))[1]["case"]["id"]
    for reader in (holder, holder, supervisor, supervisor, supervisor):  # a watch reloads on every event
        assert (await reader.get(f"/console/api/cases/{case_id}"))[0] == 200
    async with services.db() as session:
        rows = list(await session.scalars(select(AuditEntry).where(AuditEntry.target_type == "case")))
    assert [(r.staff_name, r.action, r.target_id) for r in rows] == [("sup", "view", str(case_id))]

