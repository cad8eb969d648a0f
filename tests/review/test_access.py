"""Each role sees exactly what it should: role x page x expected status, for every /review route."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.models import Message
from handoff.review.requests import file_request

ROLE_ORDER = ("anon", "coun", "sup", "adm", "rev", "admrev")
# route (method, pattern) -> expected status per role, in ROLE_ORDER
TABLE = {
    ("GET", "/review"): (302, 200, 200, 403, 200, 200),
    ("GET", "/review/api/search"): (401, 200, 200, 403, 200, 200),  # an API answers in JSON, never a login page
    ("GET", "/review/export.{fmt}"): (302, 403, 200, 403, 200, 200),
    ("GET", "/review/conversations/{id}"): (302, 200, 200, 403, 200, 200),
    ("GET", "/review/conversations/{id}/export.{fmt}"): (302, 403, 200, 403, 200, 200),
    ("GET", "/review/conversations/{id}/print"): (302, 403, 200, 403, 200, 200),
    ("GET", "/review/audit"): (302, 403, 200, 403, 403, 403),
    ("GET", "/review/cases/{id}/quality"): (302, 403, 403, 403, 200, 200),
    ("POST", "/review/cases/{id}/quality"): (302, 403, 403, 403, 303, 303),
    ("POST", "/review/cases/{id}/hold"): (302, 403, 303, 403, 403, 403),
    ("POST", "/review/cases/{id}/release"): (302, 403, 303, 403, 403, 403),
    ("GET", "/review/mine"): (302, 200, 403, 403, 403, 403),
    ("GET", "/review/requests"): (302, 403, 200, 403, 403, 403),
    ("POST", "/review/requests/{id}/{decision}"): (302, 403, 303, 403, 403, 403),
    ("POST", "/review/messages/{id}/missed"): (302, 303, 303, 403, 303, 303),
}
QUALITY_FORM = {"risk_asked": "yes", "safety_plan": "yes", "referral_made": "yes", "follow_up_set": "n/a",
                "hotline_given": "no", "comments": "及时转介"}


def test_the_table_covers_every_review_route(client):
    routes = {(r.method, r.resource.canonical) for r in client.server.app.router.routes()
              if r.resource is not None and r.resource.canonical.startswith("/review") and r.method != "HEAD"}
    normalised = {(m, p.replace("{id:\\d+}", "{id}").replace("{fmt:csv|json}", "{fmt}")
                   .replace("{decision:approve|reject}", "{decision}")) for m, p in routes}
    assert normalised == set(TABLE)


@pytest.mark.parametrize("method,pattern", list(TABLE))
async def test_each_role_sees_what_it_should(staff, world, services, method, pattern):
    got = []
    async with services.db() as session:
        message = await session.scalar(select(Message.id).where(Message.conversation_id == world.closed_conv,
                                                                Message.sender == "resident"))
    for role in ROLE_ORDER:
        request = await file_request(services, world.carol, "export")
        path = (pattern.replace("{fmt}", "csv").replace("{decision}", "reject")
                .replace("cases/{id}", f"cases/{world.closed_case}")
                .replace("requests/{id}", f"requests/{request.id}")
                .replace("messages/{id}", f"messages/{message}")
                .replace("{id}", str(world.closed_conv)))
        who = staff[role]
        form = QUALITY_FORM if "quality" in path else {"level": "3"} if "missed" in path else {}
        resp = await (who.get(path) if method == "GET" else who.post(path, form))
        got.append(resp.status)
        if resp.status == 302:
            assert resp.headers["Location"].startswith("/login")
    assert dict(zip(ROLE_ORDER, got)) == dict(zip(ROLE_ORDER, TABLE[(method, pattern)]))


@pytest.mark.parametrize("role,closed,active,bot_only", [
    ("coun", 200, 403, 403), ("coun2", 403, 403, 403), ("sup", 200, 403, 200), ("adm", 403, 403, 403),
    ("rev", 200, 403, 403), ("admrev", 200, 403, 403)])
async def test_conversation_rows_follow_the_roles(staff, world, role, closed, active, bot_only):
    for conv, expected in ((world.closed_conv, closed), (world.active_conv, active), (world.bot_conv, bot_only)):
        resp = await staff[role].get(f"/review/conversations/{conv}")
        assert resp.status == expected, (conv, await resp.text())


@pytest.mark.parametrize("role,expected", [("coun", {"o-alice"}), ("coun2", set()),
                                           ("sup", {"o-alice", "o-carol"}), ("rev", {"o-alice"})])
async def test_search_returns_only_readable_conversations(staff, world, role, expected):
    resp = await staff[role].get("/review/api/search")
    assert {h["openid"] for h in (await resp.json())["hits"]} == expected


async def test_cases_waiting_in_the_queue_are_read_in_the_console_not_in_review(staff, world, services):
    from handoff.models import Case
    async with services.db.begin() as session:
        (await session.get(Case, world.active_case)).status = "waiting"
    assert (await staff["coun"].get(f"/review/conversations/{world.active_conv}")).status == 403


async def test_an_unknown_conversation_is_not_found(staff, world):
    assert (await staff["sup"].get("/review/conversations/999999")).status == 404
