"""Exports of transcript rows: CSV (one row per message) and JSON, redacted unless asked not to be."""
from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from bot import localtime
from bot.spreadsheet import safe_cell
from handoff.review.redact import redact

COLUMNS = ("conversation_id", "message_id", "created_at", "resident", "direction", "sender", "author", "kind",
           "content")


@dataclass(frozen=True)
class Row:
    conversation_id: int
    message_id: int
    created_at: datetime
    openid: str
    direction: str
    sender: str
    author: str
    kind: str
    content: str


def pseudonym(openid: str) -> str:
    """A stable stand-in for the openid in redacted exports (same resident, same pseudonym)."""
    return "r-" + hashlib.sha256(openid.encode()).hexdigest()[:12]


def _iso(at: datetime) -> str:
    return localtime.iso(at)


def as_records(rows: Iterable[Row], *, redacted: bool, names: Iterable[str] = ()) -> list[dict]:
    names = tuple(names)
    return [{"conversation_id": r.conversation_id, "message_id": r.message_id, "created_at": _iso(r.created_at),
             "resident": pseudonym(r.openid) if redacted else r.openid, "direction": r.direction,
             "sender": r.sender, "author": r.author, "kind": r.kind,
             "content": redact(r.content, names) if redacted else r.content} for r in rows]


def case_record(case, counsellor: str, notes: Iterable[tuple[object, str]], *, redacted: bool,
                names: Iterable[str] = ()) -> dict:
    """A case as exports carry it: its closing summary and the counsellors' notes beside the messages,
    redacted as message content is."""
    names = tuple(names)

    def text(value: str) -> str:
        return redact(value, names) if redacted else value
    return {"case_id": case.id, "level": case.level, "outcome": case.outcome, "status": case.status,
            "satisfaction": case.satisfaction,
            "counsellor": counsellor, "summary": text(case.notes or ""),
            "notes": [{"created_at": _iso(n.created_at), "author": author, "body": text(n.body)}
                      for n, author in notes]}


def to_csv(records: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for record in records:
        writer.writerow({k: safe_cell(v) for k, v in record.items()})
    return "\ufeff" + out.getvalue()  # the BOM lets Excel on Chinese Windows read UTF-8


def to_json(meta: dict, records: list[dict]) -> str:
    return json.dumps({**meta, "messages": records}, ensure_ascii=False, indent=1)
