"""Staff accounts: creation and password checks (argon2), roles as a small closed set.

Usernames are trimmed and case-folded to a small safe alphabet, so "Wang " and "wang" are one
account and a name shows the same in logs, audit entries and the console. Passwords of 8 or more
characters that are all spaces, the username, or on the common-passwords list (data, below) are
refused: length alone admits 12345678.
"""
from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import StaffUser

ROLES = ("counsellor", "supervisor", "admin", "reviewer")
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
MIN_PASSWORD = 8
COMMON_PASSWORDS = Path(__file__).with_name("data") / "common_passwords.txt"
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("timing-equaliser")  # unknown users cost as much as wrong passwords


@dataclass(frozen=True)
class Staff:
    id: int
    username: str
    display_name: str
    roles: frozenset[str]
    max_chats: int
    credential: str = ""  # a fingerprint of the password hash: a new password ends older sessions

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


def credential_of(password_hash: str) -> str:
    """Changes whenever the password is set (argon2 salts every hash), reveals nothing of it."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:24]


def as_staff(row: StaffUser) -> Staff:
    return Staff(row.id, row.username, row.display_name or row.username,
                 frozenset(r for r in row.roles.split(",") if r), row.max_chats, credential_of(row.password_hash))


def normalise_username(raw: str) -> str:
    return raw.strip().casefold()


def check_username(raw: str) -> str:
    username = normalise_username(raw)
    if not USERNAME.fullmatch(username):
        raise ValueError("用户名须为 1-64 个小写字母、数字或 . _ -，以字母或数字开头 "
                         f"(username must match {USERNAME.pattern}; got {raw!r})")
    return username


@functools.cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().casefold() for line in lines if line.strip() and not line.startswith("#"))


def check_password(password: str, username: str = "") -> None:
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"密码至少 {MIN_PASSWORD} 个字符 (password must be at least {MIN_PASSWORD} characters)")
    if not password.strip():
        raise ValueError("密码不能全是空格 (password must not be all spaces)")
    plain = password.strip().casefold()
    if plain in common_passwords() or plain == normalise_username(username):
        raise ValueError("这个密码太常见或与用户名相同，请换一个 (password is too common)")


def check_roles(roles: list[str]) -> list[str]:
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise ValueError(f"roles must be some of {', '.join(ROLES)}; got {', '.join(roles) or 'none'}")
    return roles


async def add_user(sessions: async_sessionmaker[AsyncSession], username: str, password: str, roles: list[str],
                   *, display_name: str = "", max_chats: int = 3, replace: bool = False) -> Staff:
    username = check_username(username)
    check_password(password, username)
    check_roles(roles)
    async with sessions.begin() as session:
        row = await session.scalar(_by_username(username))
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


def _by_username(username: str):
    """Case-insensitive, so accounts named before usernames were case-folded are still found."""
    return select(StaffUser).where(func.lower(StaffUser.username) == normalise_username(username))


async def authenticate(sessions: async_sessionmaker[AsyncSession], username: str, password: str) -> Staff | None:
    async with sessions() as session:
        row = await session.scalar(_by_username(username).where(StaffUser.active))
    try:
        _hasher.verify(row.password_hash if row else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    return as_staff(row) if row else None


async def load_staff(sessions: async_sessionmaker[AsyncSession], user_id: int) -> Staff | None:
    async with sessions() as session:
        row = await session.get(StaffUser, user_id)
    return as_staff(row) if row is not None and row.active else None


async def set_password(sessions: async_sessionmaker[AsyncSession], user_id: int, password: str) -> Staff:
    """A new password; its new hash gives the account a new credential, which ends older sessions."""
    async with sessions.begin() as session:
        row = await session.get(StaffUser, user_id)
        if row is None or not row.active:
            raise ValueError("no such active account")
        check_password(password, row.username)
        row.password_hash = _hasher.hash(password)
        await session.flush()
        return as_staff(row)
