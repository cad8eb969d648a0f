"""Review decides per case and per message: one conversation holding a closed case and a live one.

The world is made the way it happens: a resident asks for a person twice in one conversation;
coun takes, chats, notes and closes the first case; coun2 takes the second and is still talking.
Every review route that shows content is asked by every role, and the answer must hold the closed
case's words for those who may read them and never a word of the live case.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot.db import utcnow
from bot.models import Conversation, Message
from handoff.models import Case
from handoff.roster import set_weekly
from tests.review.conftest import resident_of

CLOSED_WORDS = ("旧个案里说的话", "旧个案咨询师回复")  # messages of the closed case
CLOSED_CASE_ONLY = ("旧个案备注", "旧个案小结")  # its note and summary: on the conversation page
LIVE_WORDS = ("结案后随便聊聊", "新个案里的秘密", "新个案咨询师回复", "新个案备注")

ROUTES = {  # name -> path, with {conv}
    "conversation page": "/review/conversations/{conv}",
    "conversation csv": "/review/conversations/{conv}/export.csv?redact=0",
    "conversation json": "/review/conversations/{conv}/export.json?redact=0",
    "print": "/review/conversations/{conv}/print?redact=0",
    "search page": "/review?openid=o-mix",
    "search json": "/review/api/search?openid=o-mix",
    "search csv": "/review/export.csv?openid=o-mix&redact=0",
    "search json export": "/review/export.json?openid=o-mix&redact=0",
}
EXPORTS = {"conversation csv", "conversation json", "print", "search csv", "search json export"}
WITH_CASES = {"conversation page", "conversation json", "print"}  # the case's note and summary beside its messages
SEARCHES = {"search page", "search json", "search csv", "search json export"}
# role -> (reads the closed case, may export)
ROLES = {"rev": (True, True), "coun": (True, False), "coun2": (False, False), "coun3": (False, False),
         "sup": (True, True), "adm": (False, False)}


@dataclass
class Mixed:
    conversation: int
    closed_case: int
    live_case: int


async def console(who, path: str, body: dict | None = None) -> dict:
    resp = await who.http.post(path, json=body or {}, headers={"X-CSRF-Token": who.csrf, "Accept": "application/json"})
    assert resp.status == 200, await resp.text()
    return await resp.json()


@pytest.fixture
async def mixed(platform, services, staff) -> Mixed:
    async with services.db.begin() as session:
        for name in ("coun", "coun2"):
            await set_weekly(session, staff[name].id, "counsellor", list(range(7)), "00:00", "24:00")
    await platform.text("o-mix", "你好")
    await platform.text("o-mix", "人工")
    first = (await console(staff["coun"], "/console/api/take"))["case"]["id"]
    await platform.text("o-mix", "旧个案里说的话")
    await console(staff["coun"], f"/console/api/cases/{first}/messages", {"text": "旧个案咨询师回复"})
    await console(staff["coun"], f"/console/api/cases/{first}/notes", {"body": "旧个案备注"})
    await console(staff["coun"], f"/console/api/cases/{first}/close",
                  {"outcome": "resolved", "risk_rating": 1, "summary": "旧个案小结"})
    await platform.text("o-mix", "结案后随便聊聊")
    await platform.text("o-mix", "人工")
    second = (await console(staff["coun2"], "/console/api/take"))["case"]["id"]
    await platform.text("o-mix", "新个案里的秘密")
    await console(staff["coun2"], f"/console/api/cases/{second}/messages", {"text": "新个案咨询师回复"})
    await console(staff["coun2"], f"/console/api/cases/{second}/notes", {"body": "新个案备注"})
    async with services.db() as session:
        cases = {c.id: c for c in await session.scalars(select(Case).where(Case.id.in_([first, second])))}
    assert cases[first].status == "closed" and cases[second].status == "active"
    assert cases[first].conversation_id == cases[second].conversation_id
    return Mixed(cases[first].conversation_id, first, second)


async def body_of(resp) -> str:
    text = await resp.text()
    if resp.content_type == "application/json":  # json_response escapes Chinese as \\uXXXX
        return json.dumps(json.loads(text), ensure_ascii=False)
    return text


def expected_status(role: str, route: str) -> int:
    reads, exports = ROLES[role]
    if role == "adm" or (route in EXPORTS and not exports):
        return 403
    if route in SEARCHES:
        return 200  # a search answers, with what the role may read
    return 200 if reads else 403


@pytest.mark.parametrize("route", list(ROUTES))
@pytest.mark.parametrize("role", list(ROLES))
async def test_review_shows_the_closed_case_and_never_the_live_one(staff, mixed, role, route):
    resp = await staff[role].get(ROUTES[route].format(conv=mixed.conversation))
    body = await body_of(resp)
    assert resp.status == expected_status(role, route), body[:300]
    for word in LIVE_WORDS:
        assert word not in body, (role, route, word)
    reads = resp.status == 200 and ROLES[role][0]
    for word in CLOSED_WORDS + (CLOSED_CASE_ONLY if route in WITH_CASES else ()):
        assert (word in body) == reads, (role, route, word)


async def test_the_live_case_is_readable_in_review_once_it_is_closed(staff, mixed):
    await console(staff["coun2"], f"/console/api/cases/{mixed.live_case}/close",
                  {"outcome": "resolved", "risk_rating": 1, "summary": "新个案小结"})
    page = await (await staff["rev"].get(f"/review/conversations/{mixed.conversation}")).text()
    assert all(word in page for word in LIVE_WORDS + CLOSED_WORDS)
    found = await body_of(await staff["coun2"].get("/review/api/search?openid=o-mix"))
    assert "新个案里的秘密" in found and "旧个案里说的话" not in found  # coun2 reads only its own case


async def test_a_live_case_stays_hidden_in_a_new_conversation_after_a_long_silence(staff, mixed, platform, services):
    resident = await resident_of(services, "o-mix")
    async with services.db.begin() as session:  # the last message was a day ago: the next one starts afresh
        await session.execute(update(Conversation).where(Conversation.id == mixed.conversation)
                              .values(last_at=utcnow() - timedelta(days=1)))
    await platform.text("o-mix", "隔天又来说的秘密")
    async with services.db() as session:
        newer = await session.scalar(select(Message.conversation_id).where(
            Message.resident_id == resident.id, Message.content == "隔天又来说的秘密"))
    assert newer != mixed.conversation
    assert (await staff["sup"].get(f"/review/conversations/{newer}")).status == 403
    assert "隔天又来说的秘密" not in await body_of(await staff["sup"].get("/review/api/search?openid=o-mix"))
