"""`xinzhan crisis-export-labels`: what the hotline taught the detector, in the crisis corpus format.

Counsellors mark false alarms (a case closed as one) and messages the bot missed ("漏判", with the
level it should have read). Written out redacted, as review exports are, with a batch id of the
city and the day, they join knowledge/data/crisis/corpus/ so a city retrains on its own residents'
wording (`xinzhan crisis-train`). The export reads transcript content, so it is audited.
"""
from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime, timezone

from sqlalchemy import or_, select

from bot.config import load_config
from bot.db import make_engine, make_sessionmaker, utcnow
from bot.models import Message
from handoff.detections import MISSED, CrisisDetection
from handoff.review import audit
from handoff.review.redact import redact
from knowledge.texts import detect_language


def label_rows(rows: list[tuple[CrisisDetection, str]], batch: str) -> list[dict]:
    """One corpus line per labelled message: a miss at the level the staff gave, a false alarm at 0.
    A message with both marks keeps the miss (the later, more specific judgement)."""
    chosen: dict[int, tuple[int, str]] = {}
    for detection, _ in rows:
        level, kind = (detection.level, "missed") if detection.source == MISSED else (0, "false_alarm")
        if kind == "missed" or detection.message_id not in chosen:
            chosen[detection.message_id] = (level, kind)
    texts = {d.message_id: text for d, text in rows}
    return [{"id": f"{batch}-{message_id}", "batch": batch, "text": redact(texts[message_id]), "level": level,
             "lang": detect_language(texts[message_id]) or "zh-Hans", "kind": kind, "register": ""}
            for message_id, (level, kind) in sorted(chosen.items())]


async def export(database_url: str, batch: str, since: datetime | None) -> list[dict]:
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    try:
        query = (select(CrisisDetection, Message.content).join(Message, Message.id == CrisisDetection.message_id)
                 .where(or_(CrisisDetection.source == MISSED, CrisisDetection.false_alarm.is_(True)))
                 .order_by(CrisisDetection.id))
        if since is not None:
            query = query.where(CrisisDetection.marked_at >= since)
        async with sessions() as session:
            rows = [(d, text) for d, text in (await session.execute(query)).all() if text]
        lines = label_rows(rows, batch)
        await audit.record(sessions, None, None, "export", "crisis_labels", batch,
                           f"rows={len(lines)} redacted=1")
    finally:
        await engine.dispose()
    return lines


def run(args) -> int:
    since = None
    if args.since:
        try:
            since = datetime.fromisoformat(args.since)
        except ValueError:
            print(f"xinzhan: --since {args.since!r} is not a date (YYYY-MM-DD)", file=sys.stderr)
            return 2
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=timezone.utc)
    batch = args.batch or f"site-{utcnow():%Y%m%d}"
    for line in asyncio.run(export(load_config().database_url, batch, since)):
        print(json.dumps(line, ensure_ascii=False))
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("crisis-export-labels",
                              help="write staff-marked misses and false alarms as crisis corpus lines (redacted)")
    p.add_argument("--batch", help="batch id for the lines (default site-YYYYMMDD)")
    p.add_argument("--since", help="only marks made on or after this date (YYYY-MM-DD)")
    p.set_defaults(func=run)
