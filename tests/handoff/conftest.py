"""Handoff fixtures: staff on (or off) duty, and residents who have written to the account."""
from __future__ import annotations

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
