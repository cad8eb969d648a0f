"""The schema: migrations produce exactly the models' schema; health and metrics endpoints."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from bot.db import load_models
from bot.models import Resident


async def test_migrations_match_the_models(clean_database):
    engine = create_async_engine(clean_database)
    async with engine.connect() as conn:
        diff = await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), load_models()))
    await engine.dispose()
    assert diff == []


async def test_times_come_back_aware_utc_on_both_backends(services):
    """One column type (bot.db.UTCDateTime) for every time: SQLite keeps no zone, yet a time read back
    is the same moment, aware and in UTC, as PostgreSQL gives it; a naive time written is taken as UTC."""
    shanghai = datetime(2026, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=8)))
    async with services.db.begin() as session:
        session.add_all([Resident(openid="o-time-aware", created_at=shanghai),
                         Resident(openid="o-time-naive", created_at=datetime(2026, 3, 1, 1, 30))])
    async with services.db() as session:
        rows = dict((await session.execute(select(Resident.openid, Resident.created_at).where(
            Resident.openid.in_(["o-time-aware", "o-time-naive"])))).all())
    assert rows["o-time-aware"] == rows["o-time-naive"] == shanghai
    assert all(moment.utcoffset() == timedelta(0) for moment in rows.values())


async def test_healthz_reports_database_and_redis(client):
    resp = await client.get("/healthz")
    assert resp.status == 200
    assert await resp.json() == {"status": "ok", "database": "ok", "redis": "ok"}


async def test_metrics_count_requests_and_dedup_hits(client, platform):
    xml_answer = await platform.text("o-metrics", "hi", msg_id=777001)
    await platform.text("o-metrics", "hi", msg_id=777001)
    body = await (await client.get("/metrics")).text()
    assert xml_answer.status == 200
    assert "xz_webhook_requests_total" in body
    hits = [line for line in body.splitlines() if line.startswith("xz_dedup_hits_total")]
    assert hits and float(hits[0].split()[-1]) >= 1
