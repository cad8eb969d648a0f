"""Handoff fixtures: staff on (or off) duty, and residents who have written to the account."""
from __future__ import annotations

import re

import pytest

from bot.auth.users import add_user
from handoff.cases import resident_ref
from handoff.roster import set_weekly

PASSWORD = "test-password-1"


@pytest.fixture
def make_staff(services):
    async def make(username: str, roles: tuple[str, ...] = ("counsellor",), *, max_chats: int = 3,
                   on_duty: bool = True) -> int:
        staff = await add_user(services.db, username, PASSWORD, list(roles), max_chats=max_chats)
        if on_duty:
            async with services.db.begin() as session:
                for role in roles:
                    if role in ("counsellor", "supervisor"):
                        await set_weekly(session, staff.id, role, list(range(7)), "00:00", "24:00")
        return staff.id
    return make


async def login(client, username: str, password: str = PASSWORD) -> str:
    """Log in on this client's cookie jar; return the session's CSRF token (from the console page)."""
    page = await client.get("/login")
    token = re.search(r'name="_csrf" value="([^"]+)"', await page.text()).group(1)
    resp = await client.post("/login", data={"_csrf": token, "username": username, "password": password},
                             allow_redirects=False)
    assert resp.status == 302, await resp.text()
    console = await client.get("/console")
    found = re.search(r'<meta name="csrf" content="([^"]+)"', await console.text())
    return found.group(1) if found else ""


@pytest.fixture
def staff_client(client, aiohttp_client, make_staff):
    """A logged-in console user on the same server, each with their own cookies."""
    async def make(username: str, roles: tuple[str, ...] = ("counsellor",), **kw):
        staff_id = await make_staff(username, roles, **kw)
        own = await aiohttp_client(client.server)
        csrf = await login(own, username)
        return StaffClient(own, staff_id, csrf)
    return make


class StaffClient:
    def __init__(self, http, staff_id: int, csrf: str) -> None:
        self.http, self.id, self.csrf = http, staff_id, csrf

    async def get(self, path: str):
        resp = await self.http.get(path, headers={"Accept": "application/json"})
        return resp.status, await resp.json()

    async def post(self, path: str, body: dict | None = None):
        resp = await self.http.post(path, json=body or {}, headers={"X-CSRF-Token": self.csrf,
                                                                    "Accept": "application/json"})
        return resp.status, await resp.json()

    def ws(self):
        """The console's socket, opened as the console page opens it: from the service's own origin."""
        return self.http.ws_connect("/console/ws", origin=str(self.http.make_url("")).rstrip("/"))


@pytest.fixture
def make_resident(platform, services):
    async def make(openid: str, text: str = "你好"):
        await platform.text(openid, text)
        async with services.db() as session:
            from sqlalchemy import select
            from bot.models import Resident
            resident_id = await session.scalar(select(Resident.id).where(Resident.openid == openid))
        return await resident_ref(services, resident_id)
    return make


def sent_texts(mock_wechat, openid: str) -> list[str]:
    """Customer-service texts the mock platform accepted for this resident."""
    return [m["payload"]["text"]["content"] for m in mock_wechat.state.sent_to(openid)
            if m["payload"].get("msgtype") == "text"]
