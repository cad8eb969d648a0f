"""`xinzhan campaigns`: list campaigns and runs, import tags from CSV, run a campaign now (ops use)."""
from __future__ import annotations

import asyncio
import json
from pathlib import Path

from sqlalchemy import select


async def _with_database(action):
    from bot.config import load_config
    from bot.db import make_engine, make_sessionmaker
    from bot import tags

    config = load_config()
    engine = make_engine(config.database_url)
    sessions = make_sessionmaker(engine)
    try:
        return await action(sessions, tags)
    finally:
        await engine.dispose()


def run(args) -> int:
    from scheduler.models import Campaign, CampaignRun

    async def listing(sessions, _tags):
        async with sessions() as session:
            rows = (await session.execute(select(Campaign.id, Campaign.name, Campaign.channel, Campaign.schedule,
                                                 Campaign.active))).all()
            runs = (await session.execute(select(CampaignRun.campaign_id, CampaignRun.occurrence, CampaignRun.status,
                                                 CampaignRun.sent, CampaignRun.failed, CampaignRun.skipped)
                                          .order_by(CampaignRun.id.desc()).limit(20))).all()
        for row in rows:
            print(json.dumps({"id": row[0], "name": row[1], "channel": row[2], "schedule": row[3],
                              "active": row[4]}, ensure_ascii=False))
        for r in runs:
            print(json.dumps(dict(zip(("campaign", "occurrence", "status", "sent", "failed", "skipped"), r)),
                             ensure_ascii=False))

    async def importing(sessions, tags):
        result = await tags.import_csv(sessions, Path(args.file).read_text(encoding="utf-8-sig"))
        print(json.dumps(result.__dict__, ensure_ascii=False))
        return 1 if result.errors else 0

    action = listing if args.action == "list" else importing
    return int(asyncio.run(_with_database(action)) or 0)


def register(subparsers) -> None:
    p = subparsers.add_parser("campaigns", help="list campaigns and their runs, or import residents' tags from CSV")
    p.add_argument("action", choices=("list", "import-tags"))
    p.add_argument("file", nargs="?", help="CSV for import-tags: openid,tags[,area,name]")
    p.set_defaults(func=run)
