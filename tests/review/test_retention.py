"""Retention deletes what it should and keeps what is held."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta

from sqlalchemy import func, select

from bot.db import utcnow
from bot.models import Conversation, Message
from handoff.models import Case, FollowUp, Note
from handoff.review.models import RetentionHold
from bot.config import RetentionPolicy
from handoff.review.retention import apply_retention
from tests.review.conftest import audit_rows

POLICY = RetentionPolicy(case_days=1095, bot_days=365)


async def age(services, conv: int, days: int) -> None:
    async with services.db.begin() as session:
        (await session.get(Conversation, conv)).last_at = utcnow() - timedelta(days=days)


async def messages_of(services, conv: int) -> list[str]:
    async with services.db() as session:
        return list(await session.scalars(select(Message.content).where(Message.conversation_id == conv)))


async def test_old_bot_only_chats_go_and_recent_ones_stay(services, world):
    await age(services, world.bot_conv, 400)
    report = await apply_retention(services, utcnow(), POLICY)
    assert report.conversations_deleted == 1 and report.messages_deleted >= 1
    assert await messages_of(services, world.bot_conv) == []
    assert await messages_of(services, world.closed_conv) != []
    async with services.db() as session:
        assert await session.get(Conversation, world.bot_conv) is None


async def test_conversations_with_a_case_keep_three_years(services, world):
    await age(services, world.closed_conv, 400)
    assert (await apply_retention(services, utcnow(), POLICY)).conversations_deleted == 0
    await age(services, world.closed_conv, 1100)
    report = await apply_retention(services, utcnow(), POLICY)
    assert report.conversations_deleted == 1 and report.cases_scrubbed == 1
    async with services.db() as session:
        case = await session.get(Case, world.closed_case)
        notes = await session.scalar(select(func.count()).select_from(Note).where(Note.case_id == case.id))
    assert (case.outcome, case.level, case.notes, case.evidence, notes) == ("referred", 4, "", "", 0)


async def test_held_and_open_cases_are_kept_until_released(services, world):
    await age(services, world.closed_conv, 1100)
    await age(services, world.active_conv, 1100)
    async with services.db.begin() as session:
        session.add(RetentionHold(case_id=world.closed_case, reason="quality review"))
    report = await apply_retention(services, utcnow(), POLICY)
    assert report.conversations_deleted == 0 and report.conversations_held == 2
    async with services.db.begin() as session:
        hold = await session.scalar(select(RetentionHold))
        hold.released_at = utcnow()
    report = await apply_retention(services, utcnow(), POLICY)
    assert report.conversations_deleted == 1 and await messages_of(services, world.closed_conv) == []
    assert await messages_of(services, world.active_conv) != []  # the active case still holds its chat


async def test_a_pending_follow_up_holds_the_case(services, world):
    await age(services, world.closed_conv, 1100)
    async with services.db.begin() as session:
        session.add(FollowUp(case_id=world.closed_case, resident_id=world.alice, due_at=utcnow()))
    assert (await apply_retention(services, utcnow(), POLICY)).conversations_held == 1
    assert await messages_of(services, world.closed_conv) != []


async def test_anonymise_mode_keeps_rows_without_content(services, world):
    await age(services, world.bot_conv, 400)
    report = await apply_retention(services, utcnow(), RetentionPolicy(mode="anonymise"))
    contents = await messages_of(services, world.bot_conv)
    assert report.conversations_anonymised == 1 and contents and set(contents) == {""}
    assert (await apply_retention(services, utcnow(), RetentionPolicy(mode="anonymise"))).conversations_anonymised == 0


async def test_a_run_is_audited_with_its_counts(services, world):
    await age(services, world.bot_conv, 400)
    await apply_retention(services, utcnow(), POLICY)
    entry = (await audit_rows(services))[-1]
    assert (entry.action, entry.target_type, entry.staff_name) == ("delete", "retention", "system")
    assert "conversations_deleted=1" in entry.summary


def test_retention_run_command_prints_counts(clean_database):
    env = {"PATH": "/usr/bin:/bin", "XZ_WECHAT_TOKEN": "t", "XZ_WECHAT_APPID": "wx", "XZ_WECHAT_SECRET": "s",
           "XZ_DATABASE_URL": clean_database, "XZ_RETENTION_BOT_DAYS": "30"}
    done = subprocess.run([sys.executable, "-m", "bot.cli", "retention", "run"], env=env, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["conversations_deleted"] == 0
