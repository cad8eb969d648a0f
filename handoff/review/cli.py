"""`xinzhan retention run`: apply the retention periods now and print what was done (JSON).

    XZ_RETENTION_CASE_DAYS=1095 XZ_RETENTION_BOT_DAYS=365 xinzhan retention run
"""
from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import RetentionPolicy, load_config
from bot.db import make_engine, make_sessionmaker, utcnow
from handoff.review.retention import apply_retention


@dataclass
class _Database:
    """apply_retention needs only the database; the command does not start Redis or the WeChat client."""
    db: async_sessionmaker[AsyncSession]


async def _run(database_url: str, policy: RetentionPolicy) -> dict:
    engine = make_engine(database_url)
    try:
        report = await apply_retention(_Database(make_sessionmaker(engine)), utcnow(), policy)
    finally:
        await engine.dispose()
    return report.as_dict()


def run(args) -> int:
    config = load_config()
    print(json.dumps(asyncio.run(_run(config.database_url, config.retention))))
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("retention", help="delete or anonymise transcripts past their retention period")
    sub = p.add_subparsers(dest="retention_command", required=True)
    sub.add_parser("run", help="apply XZ_RETENTION_CASE_DAYS / XZ_RETENTION_BOT_DAYS now").set_defaults(func=run)
