"""Schedules: relative to a resident's own date, event reminders, the daily tip, and one leader."""
from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select

from bot.db import utcnow
from scheduler import jobs
from scheduler.engine import Engine, campaign_trigger, sync_url
from scheduler.models import CampaignRun
from scheduler.outreach import Outreach
from tests.scheduler.conftest import TEST_SETTINGS, make_campaign, make_residents


async def wait_until(check, tries: int = 1000):
    for _ in range(tries):
        result = await check()
        if result:
            return result
        await asyncio.sleep(0.01)
    raise AssertionError("condition never became true")


async def runs_done(services, campaign_id: int) -> list[CampaignRun]:
    async with services.db() as session:
        found = list(await session.scalars(select(CampaignRun).where(CampaignRun.campaign_id == campaign_id)))
    return found if found and all(r.status == "done" for r in found) else []


def template_sends(mock_wechat) -> Counter:
    return Counter(m["touser"] for m in mock_wechat.state.sent if m["kind"] == "template")


async def test_relative_schedule_reaches_residents_due_today_once(out, services, mock_wechat):
    now = utcnow()
    await make_residents(services, 1, prefix="d30", subscribed_at=now - timedelta(days=30))
    await make_residents(services, 1, prefix="d29", subscribed_at=now - timedelta(days=29))
    await make_residents(services, 1, prefix="d210", subscribed_at=now - timedelta(days=210))
    await make_residents(services, 1, prefix="d200", subscribed_at=now - timedelta(days=200))
    campaign = await make_campaign(services, schedule={"kind": "relative", "anchor": "subscribed",
                                                       "offset_days": 30, "every_days": 180},
                                   content={"template_id": "ASSESSMENT_DUE", "fields": {"time2": "{{ assessment_due }}"}})
    today = now.astimezone(TEST_SETTINGS.timezone).date().isoformat()
    assert len(await jobs.fire_due(out, campaign, today)) == 1
    await wait_until(lambda: runs_done(services, campaign))
    assert set(template_sends(mock_wechat)) == {"d30-0", "d210-0"}
    assert mock_wechat.state.sent[0]["payload"]["data"]["time2"]["value"] == today
    assert await jobs.fire_due(out, campaign, today) == []  # fired again the same day: nothing new


async def test_relative_schedule_catches_up_days_it_missed(out, services, mock_wechat):
    now = utcnow()
    await make_residents(services, 1, prefix="late", subscribed_at=now - timedelta(days=32))
    campaign = await make_campaign(services, schedule={"kind": "relative", "anchor": "subscribed", "offset_days": 30})
    local = now.astimezone(TEST_SETTINGS.timezone).date()
    await jobs.fire_due(out, campaign, (local - timedelta(days=3)).isoformat())
    await wait_until(lambda: runs_done(services, campaign))
    assert len(await jobs.fire_due(out, campaign, local.isoformat())) == 3  # the days the scheduler was away
    await wait_until(lambda: runs_done(services, campaign))
    assert template_sends(mock_wechat) == Counter({"late-0": 1})


async def test_event_reminder_goes_to_registrants_an_hour_before(out, services, mock_wechat):
    from flows.models import Event, Registration

    [going, cancelled] = await make_residents(services, 2, prefix="ev")
    async with services.db.begin() as session:
        event = Event(title_zh="睡眠讲座", starts_at=utcnow() + timedelta(minutes=50),
                      ends_at=utcnow() + timedelta(minutes=110), station_id="nowhere", capacity=10)
        session.add(event)
        await session.flush()
        session.add_all([Registration(event_id=event.id, resident_id=going, status="registered"),
                         Registration(event_id=event.id, resident_id=cancelled, status="cancelled")])
    campaign = await make_campaign(services, system="event_reminder",
                                   schedule={"kind": "event", "before_minutes": [1440, 60]},
                                   content={"template_id": "EVENT_REMINDER", "fields": {"thing1": "{{ event.title }}"}})
    assert len(await jobs.event_reminders(out)) == 1  # the day-before one is long past
    await wait_until(lambda: runs_done(services, campaign))
    assert set(template_sends(mock_wechat)) == {"ev-0"}
    assert "睡眠讲座" in mock_wechat.state.sent[0]["payload"]["data"]["thing1"]["value"]
    assert await jobs.event_reminders(out) == []


async def test_daily_tip_goes_to_residents_tagged_for_it(out, services, mock_wechat):
    await make_residents(services, 1, prefix="tip", tags=("daily_tip",))
    await make_residents(services, 1, prefix="notip")
    campaign = await make_campaign(services, system="daily_tip", rule={"tags_any": ["daily_tip"]},
                                   schedule={"kind": "cron", "cron": "30 8 * * *"},
                                   content={"template_id": "DAILY_TIP", "fields": {"thing1": "{{ tip.title|truncate(20, true, '…', 0) }}"}})
    await jobs.fire_campaign(out, campaign)
    await wait_until(lambda: runs_done(services, campaign))
    [sent] = mock_wechat.state.sent
    assert sent["touser"] == "tip-0" and sent["payload"]["data"]["thing1"]["value"]


def test_sync_url_keeps_the_database_and_swaps_the_driver():
    assert sync_url("sqlite+aiosqlite:///var/x.db") == "sqlite:///var/x.db"
    assert sync_url("postgresql+asyncpg://u@h:5432/db") == "postgresql+psycopg://u@h:5432/db"
    assert campaign_trigger({"kind": "manual"}, TEST_SETTINGS.timezone) is None


async def test_two_schedulers_elect_one_leader_and_a_job_fires_once(services, app_config, mock_wechat):
    await make_residents(services, 3, prefix="lead")
    at = (utcnow() - timedelta(seconds=1)).astimezone(TEST_SETTINGS.timezone).replace(tzinfo=None)
    campaign = await make_campaign(services, schedule={"kind": "once", "at": at.isoformat(timespec="seconds")})
    settings = TEST_SETTINGS.with_(lease_seconds=0.6)
    engines = [Engine(Outreach(services, settings), app_config.database_url) for _ in range(2)]
    rounds = [0, 0]  # each engine's rounds: the leader syncs its jobs, the other tries for the lease

    def counted(i: int, step):
        async def step_counted(*args):
            rounds[i] += 1
            return await step(*args)
        return step_counted

    for i, engine in enumerate(engines):
        engine._sync_safely = counted(i, engine._sync_safely)
        engine._lease.acquire = counted(i, engine._lease.acquire)
    tasks = [services.tasks.start(e.run(), name=f"test-engine-{i}") for i, e in enumerate(engines)]
    try:
        await wait_until(lambda: runs_done(services, campaign))
        seen = list(rounds)  # two more rounds of each engine give a second (wrong) firing every chance to show up
        await wait_until(lambda: asyncio.sleep(0, all(now >= then + 2 for now, then in zip(rounds, seen))))
        assert sum(e.leading for e in engines) == 1
        async with services.db() as session:
            assert await session.scalar(select(func.count()).select_from(CampaignRun)) == 1
        assert set(template_sends(mock_wechat).values()) == {1} and len(template_sends(mock_wechat)) == 3

        leader = next(e for e in engines if e.leading)
        other = next(e for e in engines if not e.leading)

        async def dies_without_letting_go() -> None:
            return None
        leader._lease.release = dies_without_letting_go  # a crash: the lease only runs out
        tasks[engines.index(leader)].cancel()
        await wait_until(lambda: asyncio.sleep(0, other.leading))
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
