"""Staff accounts: creation and password checks (argon2), roles as a small closed set."""
from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import StaffUser

ROLES = ("counsellor", "supervisor", "admin", "reviewer")
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("timing-equaliser")  # unknown users cost as much as wrong passwords


@dataclass(frozen=True)
class Staff:
    id: int
    username: str
    display_name: str
    roles: frozenset[str]
    max_chats: int

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


def as_staff(row: StaffUser) -> Staff:
    return Staff(row.id, row.username, row.display_name or row.username,
                 frozenset(r for r in row.roles.split(",") if r), row.max_chats)


def check_roles(roles: list[str]) -> list[str]:
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise ValueError(f"roles must be some of {', '.join(ROLES)}; got {', '.join(roles) or 'none'}")
    return roles


async def add_user(sessions: async_sessionmaker[AsyncSession], username: str, password: str, roles: list[str],
                   *, display_name: str = "", max_chats: int = 3, replace: bool = False) -> Staff:
    if not username or len(username) > 64:
        raise ValueError("username must be 1-64 characters")
    if len(password) < 8:
        raise ValueError("password must be at least 8 characters")
    check_roles(roles)
    async with sessions.begin() as session:
        row = await session.scalar(select(StaffUser).where(StaffUser.username == username))
        if row is not None and not replace:
            raise ValueError(f"user {username!r} already exists")
        if row is None:
            row = StaffUser(username=username)
            session.add(row)
        row.password_hash = _hasher.hash(password)
        row.roles = ",".join(roles)
        row.display_name = display_name or username
        row.max_chats = max_chats
        row.active = True
        await session.flush()
        return as_staff(row)


async def authenticate(sessions: async_sessionmaker[AsyncSession], username: str, password: str) -> Staff | None:
    async with sessions() as session:
        row = await session.scalar(select(StaffUser).where(StaffUser.username == username, StaffUser.active))
    try:
        _hasher.verify(row.password_hash if row else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    return as_staff(row) if row else None


async def load_staff(sessions: async_sessionmaker[AsyncSession], user_id: int) -> Staff | None:
    async with sessions() as session:
        row = await session.get(StaffUser, user_id)
    return as_staff(row) if row is not None and row.active else None
