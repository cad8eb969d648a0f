"""Review fixtures: one logged-in client per role, and a small world of conversations and cases."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from argon2 import PasswordHasher

from bot.auth import COOKIE, SESSIONS
from bot.auth.users import credential_of
from bot.db import utcnow
from bot.models import Message, Resident, StaffUser
from handoff.detections import CrisisDetection
from handoff.models import Case, CaseEvent, Note
from handoff.review.models import AuditEntry

PASSWORD = "review-password-1"
ROLES = {
    "coun": ("counsellor",), "coun2": ("counsellor",), "coun3": ("counsellor",), "sup": ("supervisor",),
    "adm": ("admin",),
    "rev": ("reviewer",), "admrev": ("admin", "reviewer"),
}


class StaffClient:
    def __init__(self, http, staff_id: int, csrf: str) -> None:
        self.http, self.id, self.csrf = http, staff_id, csrf

    async def get(self, path: str, **kw):
        return await self.http.get(path, allow_redirects=False, **kw)

    async def post(self, path: str, data: dict | None = None):
        return await self.http.post(path, data={"_csrf": self.csrf, **(data or {})}, allow_redirects=False)


async def login(http, username: str) -> str:
    """The real login form, once; returns the session's CSRF token."""
    page = await http.get("/login")
    token = re.search(r'name="_csrf" value="([^"]+)"', await page.text()).group(1)
    resp = await http.post("/login", data={"_csrf": token, "username": username, "password": PASSWORD},
                           allow_redirects=False)
    assert resp.status == 302, await resp.text()
    sid = http.session.cookie_jar.filter_cookies(http.make_url("/"))["xz_session"].value
    return (await http.server.app[SESSIONS].get(sid)).csrf


@pytest.fixture(scope="session")
def password_hash() -> str:
    return PasswordHasher().hash(PASSWORD)


@pytest.fixture
async def staff(client, services, aiohttp_client, password_hash):
    """{username: StaffClient} for every role in ROLES, plus "anon". Accounts share one password hash
    and get their sessions from the session store (argon2 is slow on purpose; test_auth covers login)."""
    clients = {}
    async with services.db.begin() as session:
        rows = [StaffUser(username=u, display_name=f"{u}老师", password_hash=password_hash, roles=",".join(r))
                for u, r in ROLES.items()]
        session.add_all(rows)
    for row in rows:
        http = await aiohttp_client(client.server)
        store = client.server.app[SESSIONS]
        created = await store.create(row.id, credential_of(row.password_hash))
        http.session.cookie_jar.update_cookies({COOKIE: created.sid}, http.make_url("/"))
        clients[row.username] = StaffClient(http, row.id, created.csrf)
    clients["anon"] = StaffClient(await aiohttp_client(client.server), 0, "")
    return clients


@dataclass
class World:
    closed_conv: int  # a closed case of coun's, with a detection
    closed_case: int
    active_conv: int  # coun2's active case
    active_case: int
    bot_conv: int  # no case at all
    alice: int  # resident ids
    carol: int


async def resident_of(services, openid: str) -> Resident:
    async with services.db() as session:
        return await session.scalar(select(Resident).where(Resident.openid == openid))


async def conversation_of(services, resident_id: int) -> int:
    async with services.db() as session:
        return await session.scalar(select(func.max(Message.conversation_id)).where(Message.resident_id == resident_id))


@pytest.fixture
async def world(platform, services, staff) -> World:
    await platform.text("o-alice", "我最近一直失眠，睡不着，电话13812345678")
    await platform.text("o-bob", "今天心情还可以")
    await platform.text("o-carol", "请问附近有心理咨询站吗")
    alice, bob, carol = [await resident_of(services, o) for o in ("o-alice", "o-bob", "o-carol")]
    conv_a, conv_b, conv_c = [await conversation_of(services, r.id) for r in (alice, bob, carol)]
    now = utcnow()
    async with services.db.begin() as session:
        (await session.get(Resident, alice.id)).name = "王小明"
        first = await session.scalar(select(Message.id).where(Message.conversation_id == conv_a,
                                                              Message.direction == "in").order_by(Message.id))
        closed = Case(resident_id=alice.id, conversation_id=conv_a, reason="crisis", level=4, evidence="失眠",
                      status="closed", queued_at=now, claimed_at=now, closed_at=now, counsellor_id=staff["coun"].id,
                      outcome="referred", notes="已转介精神卫生中心")
        active = Case(resident_id=bob.id, conversation_id=conv_b, reason="request", level=1, status="active",
                      queued_at=now, claimed_at=now, counsellor_id=staff["coun2"].id)
        session.add_all([closed, active])
        await session.flush()
        for kind, minutes in (("queued", 0), ("claimed", 1), ("closed", 9)):
            session.add(CaseEvent(case_id=closed.id, kind=kind, actor_id=staff["coun"].id if kind != "queued" else None,
                                  at=now + timedelta(minutes=minutes)))
        session.add(Note(case_id=closed.id, author_id=staff["coun"].id, body="来访者同意去医院", created_at=now))
        session.add(CrisisDetection(resident_id=alice.id, conversation_id=conv_a, message_id=first, level=4,
                                    matched=["失眠"], reason="suicidal ideation", action="supervisor_alerted",
                                    case_id=closed.id, created_at=now))
    return World(conv_a, closed.id, conv_b, active.id, conv_c, alice.id, carol.id)


async def audit_rows(services) -> list[AuditEntry]:
    async with services.db() as session:
        return list(await session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
