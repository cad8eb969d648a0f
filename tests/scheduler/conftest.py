"""Scheduler test fixtures: the full app with scheduler settings chosen per test, residents made in bulk."""
from __future__ import annotations

from datetime import time

import pytest
from sqlalchemy import insert

from bot.app import create_app
from bot.appkeys import SERVICES
from bot.config import SchedulerSettings
from bot.db import utcnow
from bot.models import Resident, ResidentTag
from scheduler.models import Audience, Campaign
from scheduler.outreach import OUTREACH
from scheduler.web import SETTINGS

# Quiet hours off (start == end), no engine of its own, small batches so runs have several.
TEST_SETTINGS = SchedulerSettings(quiet_start=time(0, 0), quiet_end=time(0, 0), scheduler_enabled=False,
                                  batch_size=10, concurrency=4, rate_per_second=10000, lease_seconds=10,
                                  sweep_seconds=1)


@pytest.fixture
def settings() -> SchedulerSettings:
    return TEST_SETTINGS


@pytest.fixture
async def sched_client(aiohttp_client, app_config, settings):
    app = create_app(app_config)
    app[SETTINGS] = settings
    client = await aiohttp_client(app)
    await app[SERVICES].redis.flushdb()
    return client


@pytest.fixture
def services(sched_client):
    return sched_client.server.app[SERVICES]


@pytest.fixture
def out(sched_client):
    return sched_client.server.app[OUTREACH]


async def make_residents(services, n: int, *, prefix: str = "o-r", tags: tuple[str, ...] = (), **fields) -> list[int]:
    """Insert `n` residents (openids prefix-0..n-1) with `tags`; returns their ids in order."""
    now = utcnow()
    rows = [{"openid": f"{prefix}-{i}", "subscribed": True, "language": "zh-Hans", "area": "", "name": "",
             "scene": "", "created_at": now, "subscribed_at": now, **fields} for i in range(n)]
    async with services.db.begin() as session:
        ids = list((await session.execute(insert(Resident).returning(Resident.id), rows)).scalars())
        if tags:
            await session.execute(insert(ResidentTag), [{"resident_id": i, "tag": t} for i in ids for t in tags])
    return sorted(ids)


async def make_campaign(services, *, rule: dict | None = None, channel: str = "template", content: dict | None = None,
                        schedule: dict | None = None, system: str = "", name: str = "test campaign") -> int:
    async with services.db.begin() as session:
        audience = None
        if rule is not None:
            audience = Audience(name=f"{name} audience", rule=rule)
            session.add(audience)
            await session.flush()
        campaign = Campaign(name=name, audience_id=audience.id if audience else None, channel=channel,
                            content=content or {"template_id": "SERVICE_NOTICE", "fields": {"thing1": "{{ name }}好"}},
                            schedule=schedule or {"kind": "manual"}, system=system)
        session.add(campaign)
        await session.flush()
        return campaign.id


@pytest.fixture
def platform(sched_client, app_config):
    from tests.platform import Platform

    return Platform(sched_client, app_config)
