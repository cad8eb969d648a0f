"""`xinzhan user add`: create (or reset) a staff account."""
from __future__ import annotations

import asyncio
import getpass
import os
import sys

from bot.config import load_config
from bot.db import make_engine, make_sessionmaker
from bot.auth.users import ROLES, add_user


async def _add(args, password: str) -> None:
    engine = make_engine(load_config().database_url)
    try:
        staff = await add_user(make_sessionmaker(engine), args.username, password, args.role,
                               display_name=args.name or "", max_chats=args.max_chats, replace=args.reset)
    finally:
        await engine.dispose()
    print(f"user {staff.username} ({', '.join(sorted(staff.roles))}) saved")


def run(args) -> int:
    password = os.environ.get("XZ_NEW_USER_PASSWORD") or (getpass.getpass("password: ") if sys.stdin.isatty() else "")
    try:
        asyncio.run(_add(args, password))
    except ValueError as exc:
        print(f"xinzhan: {exc}", file=sys.stderr)
        return 2
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("user", help="manage staff accounts")
    actions = p.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="create a staff account (password from XZ_NEW_USER_PASSWORD or a prompt)")
    add.add_argument("username")
    add.add_argument("--role", action="append", required=True, choices=ROLES, help="repeat for several roles")
    add.add_argument("--name", help="display name")
    add.add_argument("--max-chats", type=int, default=3, help="concurrent chats cap for a counsellor")
    add.add_argument("--reset", action="store_true", help="replace an existing account's password and roles")
    add.set_defaults(func=run)
