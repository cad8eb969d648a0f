"""Transcript retention runs as the scheduler leader's daily job (no cron entry of the city's own)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.db import utcnow
from bot.models import Conversation, Resident
from scheduler import jobs
from scheduler.engine import Engine


async def test_the_leader_registers_retention_daily_at_a_quiet_hour(out, app_config):
    engine = Engine(out, app_config.database_url)
    await engine._start_scheduler()
    try:
        job = engine.scheduler.get_job("retention")
        fields = {f.name: str(f) for f in job.trigger.fields}
        assert job.args == ("retention",)
        assert (fields["hour"], fields["minute"], fields["day"]) == ("3", "30", "*")
        assert str(job.trigger.timezone) == str(out.settings.timezone)
    finally:
        engine._stop_scheduler()


async def conversation_of(services, openid: str) -> int | None:
    async with services.db() as session:
        return await session.scalar(select(Conversation.id).join(Resident, Resident.id == Conversation.resident_id)
                                    .where(Resident.openid == openid))


async def test_the_retention_job_deletes_expired_bot_only_chats(out, services, platform, monkeypatch):
    for name in ("XZ_RETENTION_CASE_DAYS", "XZ_RETENTION_BOT_DAYS", "XZ_RETENTION_MODE"):
        monkeypatch.delenv(name, raising=False)
    await platform.text("o-long-ago", "你好")
    await platform.text("o-recent", "你好")
    old = await conversation_of(services, "o-long-ago")
    async with services.db.begin() as session:
        (await session.get(Conversation, old)).last_at = utcnow() - timedelta(days=400)
    report = await jobs.scheduled(out, "retention")  # as the job store calls it
    assert report["conversations_deleted"] == 1
    assert await conversation_of(services, "o-long-ago") is None
    assert await conversation_of(services, "o-recent") is not None
    assert (await jobs.retention(out, (utcnow() + timedelta(days=1)).isoformat()))["conversations_deleted"] == 0
