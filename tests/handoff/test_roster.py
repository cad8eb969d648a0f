"""The duty roster: weekly pattern in local time, overnight shifts, one-off changes, the CLI, the demo seed."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone

from bot.auth.users import add_user
from bot.auth.views import seed_demo as seed_accounts
from handoff.web import seed_demo
from handoff.roster import add_change, on_duty, set_weekly
from tests.handoff.conftest import PASSWORD

SHANGHAI = timezone(timedelta(hours=8))
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)  # a Monday


async def duty_ids(services, at, role=None) -> set[int]:
    async with services.db() as session:
        return {d.staff_id for d in await on_duty(session, at, role)}


async def test_weekly_pattern_in_local_time_with_an_overnight_shift(services):
    day = (await add_user(services.db, "day", PASSWORD, ["counsellor"])).id
    night = (await add_user(services.db, "night", PASSWORD, ["counsellor"])).id
    async with services.db.begin() as session:
        await set_weekly(session, day, "counsellor", [0, 1, 2, 3, 4], "08:30", "20:00")
        await set_weekly(session, night, "counsellor", [0], "22:00", "08:00")
    assert await duty_ids(services, MONDAY_10) == {day}
    assert await duty_ids(services, MONDAY_10.replace(hour=23)) == {night}
    assert await duty_ids(services, MONDAY_10 + timedelta(days=1, hours=-4)) == {night}  # Tuesday 06:00
    assert await duty_ids(services, MONDAY_10 + timedelta(days=5)) == set()  # Saturday


async def test_one_off_time_off_and_extra_duty_override_the_pattern(services):
    regular = (await add_user(services.db, "regular", PASSWORD, ["counsellor"])).id
    cover = (await add_user(services.db, "cover", PASSWORD, ["counsellor", "supervisor"])).id
    async with services.db.begin() as session:
        await set_weekly(session, regular, "counsellor", list(range(7)), "00:00", "24:00")
        await add_change(session, regular, "off", MONDAY_10 - timedelta(hours=1), MONDAY_10 + timedelta(hours=1))
        await add_change(session, cover, "on", MONDAY_10 - timedelta(hours=1), MONDAY_10 + timedelta(hours=1),
                         role="supervisor")
    assert await duty_ids(services, MONDAY_10) == {cover}
    assert await duty_ids(services, MONDAY_10, "counsellor") == set()
    assert await duty_ids(services, MONDAY_10 + timedelta(hours=2)) == {regular}


async def test_demo_seed_puts_the_demo_counsellor_and_supervisor_on_duty_every_day(client, services):
    app = client.server.app
    await seed_accounts(app)  # the lead's demo accounts, then ours on top, twice: seeding is idempotent
    await seed_demo(app)
    await seed_demo(app)
    for days in range(7):
        async with services.db() as session:
            names = sorted(d.name for d in await on_duty(session, MONDAY_10 + timedelta(days=days, hours=days)))
        assert names == ["李督导", "王咨询师"]


def test_roster_cli_sets_and_shows_the_pattern(database_url, tmp_path):
    db = f"sqlite+aiosqlite:///{tmp_path / 'roster.db'}"
    env = dict(os.environ, XZ_WECHAT_TOKEN="t", XZ_WECHAT_APPID="wx", XZ_WECHAT_SECRET="s", XZ_DATABASE_URL=db,
               XZ_NEW_USER_PASSWORD=PASSWORD)
    cli = [sys.executable, "-m", "bot.cli"]
    subprocess.run(cli + ["migrate"], env=env, check=True, capture_output=True)
    subprocess.run(cli + ["user", "add", "wang", "--role", "counsellor"], env=env, check=True, capture_output=True)
    done = subprocess.run(cli + ["roster", "set", "wang", "--days", "0-6", "--from", "00:00", "--to", "24:00"],
                          env=env, capture_output=True, text=True)
    assert done.returncode == 0 and "周日 00:00-24:00" in done.stdout and "on duty now: wang" in done.stdout
    missing = subprocess.run(cli + ["roster", "set", "nobody", "--days", "0", "--from", "08:00", "--to", "09:00"],
                             env=env, capture_output=True, text=True)
    assert missing.returncode == 2 and "xinzhan user add" in missing.stderr
