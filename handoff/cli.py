"""`xinzhan roster`: who is on duty when, from the command line (the console shows it live).

    xinzhan roster show
    xinzhan roster set wang --role counsellor --days 0-4 --from 08:30 --to 20:00
    xinzhan roster off wang --start 2026-12-01T08:00+08:00 --end 2026-12-01T20:00+08:00
"""
from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime

from sqlalchemy import select

from bot.config import load_config
from bot.db import make_engine, make_sessionmaker, utcnow
from bot.models import StaffUser
from handoff.roster import ROLES, add_change, on_duty, pattern, set_weekly

DAY_NAMES = "一二三四五六日"


def parse_days(spec: str) -> list[int]:
    """"0-4" or "0,2,5": Monday is 0."""
    days: list[int] = []
    for part in spec.split(","):
        first, _, last = part.partition("-")
        try:
            days.extend(range(int(first), int(last or first) + 1))
        except ValueError:
            raise argparse.ArgumentTypeError(f"days must look like 0-4 or 0,2,5 (Monday = 0), got {spec!r}") from None
    if not days or not all(0 <= d <= 6 for d in days):
        raise argparse.ArgumentTypeError("days are 0 (Monday) to 6 (Sunday)")
    return days


async def _staff_id(session, username: str) -> int:
    user = await session.scalar(select(StaffUser).where(StaffUser.username == username))
    if user is None:
        raise ValueError(f"no staff account {username!r}; create it with `xinzhan user add`")
    return user.id


async def _run(args) -> None:
    engine = make_engine(load_config().database_url)
    sessions = make_sessionmaker(engine)
    try:
        async with sessions.begin() as session:
            if args.action == "set":
                await set_weekly(session, await _staff_id(session, args.username), args.role, args.days,
                                 args.starts, args.ends)
            elif args.action in ("on", "off"):
                await add_change(session, await _staff_id(session, args.username), args.action,
                                 datetime.fromisoformat(args.start), datetime.fromisoformat(args.end), args.role)
            names = {u.id: u.username for u in await session.scalars(select(StaffUser))}
            for shift in await pattern(session):
                print(f"{names.get(shift.staff_id, shift.staff_id):<16} {shift.role:<11} 周{DAY_NAMES[shift.weekday]} "
                      f"{shift.starts}-{shift.ends}")
            now = [f"{d.name}（{d.role}）" for d in await on_duty(session, utcnow())]
            print("on duty now: " + ("、".join(now) or "nobody"))
    finally:
        await engine.dispose()


def run(args) -> int:
    try:
        asyncio.run(_run(args))
    except ValueError as exc:
        print(f"xinzhan: {exc}", file=sys.stderr)
        return 2
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("roster", help="show or change the counsellors' duty roster")
    actions = p.add_subparsers(dest="action", required=True)
    actions.add_parser("show", help="the weekly pattern and who is on duty now").set_defaults(func=run)
    weekly = actions.add_parser("set", help="replace someone's weekly pattern for a role")
    weekly.add_argument("username")
    weekly.add_argument("--role", choices=ROLES, default="counsellor")
    weekly.add_argument("--days", type=parse_days, required=True, help="0-4 or 0,2,5 (Monday = 0)")
    weekly.add_argument("--from", dest="starts", required=True, help="HH:MM local time")
    weekly.add_argument("--to", dest="ends", required=True, help="HH:MM; before --from runs past midnight")
    weekly.set_defaults(func=run)
    for kind, text in (("on", "extra duty"), ("off", "time off")):
        change = actions.add_parser(kind, help=f"a one-off change: {text}")
        change.add_argument("username")
        change.add_argument("--role", choices=ROLES, default="counsellor")
        change.add_argument("--start", required=True, help="ISO time with offset, e.g. 2026-12-01T08:00+08:00")
        change.add_argument("--end", required=True)
        change.set_defaults(func=run)
