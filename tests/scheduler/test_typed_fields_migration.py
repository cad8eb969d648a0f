"""Upgrading moves the seeded system campaigns off first/remark, so they do not pause on a content error."""
from __future__ import annotations

import asyncio
import json

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.migrate import alembic_config
from scheduler.models import Campaign
from scheduler.render import Renderer
from scheduler.seed import DAILY_TIP, EVENT_REMINDER
from tests.conftest import REAL_DB, TEST_DB_NAME

NAME = f"{TEST_DB_NAME}_typed_fields"
OLD = {"event_reminder": {"template_id": "EVENT_REMINDER", "fields": {"first": "{{ event.reminder }}"}},
       "daily_tip": {"template_id": "DAILY_TIP", "fields": {"first": "{{ tip.title }}", "remark": "{{ tip.body }}"}},
       "": {"template_id": "MINE", "fields": {"first": "{{ name }}"}}}


async def _database(tmp_path) -> str:
    if not REAL_DB:
        return f"sqlite+aiosqlite:///{tmp_path / 'typed.db'}"
    admin = create_async_engine(REAL_DB, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f"DROP DATABASE IF EXISTS {NAME} WITH (FORCE)"))
        await conn.execute(text(f"CREATE DATABASE {NAME}"))
    await admin.dispose()
    return REAL_DB.rsplit("/", 1)[0] + "/" + NAME


async def test_seeded_system_campaigns_get_the_templates_typed_fields(tmp_path):
    from alembic import command

    url = await _database(tmp_path)
    cfg = alembic_config(url)
    await asyncio.to_thread(command.upgrade, cfg, "0302_uncertain_deliveries")
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            for system, content in OLD.items():
                await conn.execute(text(
                    "INSERT INTO campaigns (name, channel, content, schedule, active, system, created_at) "
                    "VALUES (:name, 'template', :content, '{}', true, :system, CURRENT_TIMESTAMP)"),
                    {"name": system or "admin's own", "content": json.dumps(content), "system": system})
        await asyncio.to_thread(command.upgrade, cfg, "heads")
        async with engine.connect() as conn:
            stored = dict((await conn.execute(select(Campaign.system, Campaign.content))).all())
    finally:
        await engine.dispose()
        if REAL_DB:
            admin = create_async_engine(REAL_DB, isolation_level="AUTOCOMMIT")
            async with admin.connect() as conn:
                await conn.execute(text(f"DROP DATABASE IF EXISTS {NAME} WITH (FORCE)"))
            await admin.dispose()
    assert stored == {"event_reminder": EVENT_REMINDER, "daily_tip": DAILY_TIP, "": OLD[""]}
    for system in ("event_reminder", "daily_tip"):
        Renderer("template", stored[system])  # accepted by today's checks
