"""Quality reviews: a reviewer scores a closed case against the checklist in
knowledge/data/review/checklist.yaml; the case's counsellor reads their own reviews."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import utcnow
from handoff.models import Case
from handoff.review.models import QualityReview
from knowledge.content import DATA_DIR, ContentError, YamlList, YamlMap, load_mapping

ANSWERS = ("yes", "no", "n/a")
CHECKLIST = DATA_DIR / "review" / "checklist.yaml"


class QualityError(ValueError):
    pass


@dataclass(frozen=True)
class Item:
    key: str
    question: str
    hint: str


@functools.cache
def checklist(path: Path = CHECKLIST) -> tuple[Item, ...]:
    data = load_mapping(path)
    items = data.get("items")
    if not isinstance(items, YamlList) or not items:
        raise data.error("checklist needs a non-empty list `items`", "items")
    seen: set[str] = set()
    out = []
    for entry in items:
        if not isinstance(entry, YamlMap) or not entry.get("key") or not entry.get("question"):
            raise ContentError(path, getattr(entry, "line", items.line), "each item needs a key and a question")
        if entry["key"] in seen:
            raise entry.error(f"item key {entry['key']!r} appears twice", "key")
        seen.add(entry["key"])
        out.append(Item(str(entry["key"]), str(entry["question"]), str(entry.get("hint", ""))))
    return tuple(out)


def score_of(scores: dict[str, str]) -> int:
    applicable = [v for v in scores.values() if v != "n/a"]
    return round(100 * sum(v == "yes" for v in applicable) / len(applicable)) if applicable else 100


async def save_review(session: AsyncSession, case: Case, reviewer_id: int, answers: dict[str, str],
                      comments: str) -> QualityReview:
    if case.status != "closed":
        raise QualityError("只能评审已结案的个案")
    scores = {}
    for item in checklist():
        answer = answers.get(item.key, "")
        if answer not in ANSWERS:
            raise QualityError(f"请回答：{item.question}")
        scores[item.key] = answer
    review = QualityReview(case_id=case.id, counsellor_id=case.counsellor_id, reviewer_id=reviewer_id,
                           scores=scores, score=score_of(scores), comments=comments.strip()[:5000],
                           created_at=utcnow())
    session.add(review)
    await session.flush()
    return review


async def reviews_of(session: AsyncSession, counsellor_id: int) -> list[tuple[QualityReview, Case]]:
    rows = await session.execute(select(QualityReview, Case).join(Case, Case.id == QualityReview.case_id)
                                 .where(QualityReview.counsellor_id == counsellor_id)
                                 .order_by(QualityReview.created_at.desc()).limit(200))
    return [(r, c) for r, c in rows.all()]
