"""Every view, search and export of transcript content leaves an audit row; nothing edits the trail."""
from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

import handoff.review
from tests.review.conftest import audit_rows

CONTENT_ACCESS = [
    ("/review?q=失眠", "search", "search"),
    ("/review/api/search?q=失眠&level=2", "search", "search"),
    ("/review/export.csv?q=失眠", "export", "search"),
    ("/review/export.json", "export", "search"),
    ("/review/conversations/{conv}", "view", "conversation"),
    ("/review/conversations/{conv}/export.csv", "export", "conversation"),
    ("/review/conversations/{conv}/export.json?redact=0", "export", "conversation"),
    ("/review/conversations/{conv}/print", "print", "conversation"),
]


@pytest.mark.parametrize("path,action,target_type", CONTENT_ACCESS)
async def test_every_content_access_leaves_an_audit_row(staff, world, services, path, action, target_type):
    before = len(await audit_rows(services))
    resp = await staff["sup"].get(path.format(conv=world.closed_conv), headers={"User-Agent": "pytest-browser",
                                                                                "X-Forwarded-For": "10.1.2.3"})
    assert resp.status == 200
    rows = await audit_rows(services)
    assert len(rows) == before + 1
    entry = rows[-1]
    assert (entry.staff_id, entry.staff_name, entry.action, entry.target_type) == (
        staff["sup"].id, "sup", action, target_type)
    assert entry.remote_addr == "10.1.2.3" and entry.user_agent == "pytest-browser"
    if target_type == "conversation":
        assert entry.target_id == str(world.closed_conv)


@pytest.mark.parametrize("forwarded,kept", [
    ("6.6.6.6, 203.0.113.9", "203.0.113.9"),  # the client wrote the first entry, nginx the last
    ("203.0.113.9, 127.0.0.1", "203.0.113.9"),  # a trusted proxy's hop is skipped
    ("not-an-address, 203.0.113.9", "203.0.113.9"),
])
async def test_the_trail_keeps_the_address_the_proxy_saw_not_the_one_a_client_forged(
        staff, world, services, forwarded, kept):
    await staff["sup"].get(f"/review/conversations/{world.closed_conv}", headers={"X-Forwarded-For": forwarded})
    assert (await audit_rows(services))[-1].remote_addr == kept


async def test_audit_summary_never_holds_message_content(staff, world, services):
    await staff["sup"].get("/review?q=13812345678")
    await staff["sup"].get(f"/review/conversations/{world.closed_conv}")
    for entry in await audit_rows(services):
        assert "13812345678" not in entry.summary and "睡不着" not in entry.summary


async def test_refused_access_shows_nothing_and_writes_no_content_row(staff, world, services):
    assert (await staff["adm"].get(f"/review/conversations/{world.closed_conv}")).status == 403
    assert await audit_rows(services) == []


async def test_supervisors_read_the_trail_filtered_and_paged(staff, world, services):
    for _ in range(3):
        await staff["rev"].get(f"/review/conversations/{world.closed_conv}")
    await staff["coun"].get("/review?q=x")
    resp = await staff["sup"].get("/review/audit?staff=rev&action=view", headers={"Accept": "application/json"})
    entries = (await resp.json())["entries"]
    assert [e["action"] for e in entries] == ["view"] * 3 and {e["staff"] for e in entries} == {"rev"}
    page = await staff["sup"].get("/review/audit")
    assert page.status == 200 and "rev" in await page.text()


async def test_audit_pages_by_keyset(staff, world, services):
    from handoff.review import audit
    for _ in range(audit.PAGE + 5):
        await audit.record(services.db, None, None, "view", "conversation", world.closed_conv, "")
    first = await (await staff["sup"].get("/review/audit", headers={"Accept": "application/json"})).json()
    second = await (await staff["sup"].get(f"/review/audit?before={first['before']}",
                                           headers={"Accept": "application/json"})).json()
    ids = [e["id"] for e in first["entries"]] + [e["id"] for e in second["entries"]]
    assert len(first["entries"]) == audit.PAGE and len(second["entries"]) == 5
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)


def test_no_route_edits_or_deletes_the_audit_trail(client):
    for route in client.server.app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if "audit" in path:
            assert route.method in ("GET", "HEAD"), path
        assert route.method not in ("PUT", "PATCH", "DELETE") or not path.startswith("/review"), path


def test_no_code_updates_or_deletes_audit_entries():
    package = Path(inspect.getfile(handoff.review)).parent
    source = "\n".join(p.read_text() for p in package.rglob("*.py") if "migrations" not in p.parts)
    assert not re.search(r"(update|delete)\(\s*AuditEntry", source)
    assert not re.search(r"review_audit.*(UPDATE|DELETE)|(UPDATE|DELETE).*review_audit", source, re.I)
