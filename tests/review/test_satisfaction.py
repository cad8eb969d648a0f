"""Issue 14: the resident's 1-5 answer after a close is shown to staff, in words from the texts data,
on the review pages that show the case (the conversation, its print view and export, the quality review)."""
from __future__ import annotations

import json

from handoff.models import Case


async def rate(services, case_id: int, score: int | None) -> None:
    async with services.db.begin() as session:
        (await session.get(Case, case_id)).satisfaction = score


async def test_the_review_pages_show_the_residents_score_in_words(services, staff, world):
    await rate(services, world.closed_case, 4)
    for role, path in (("sup", f"/review/conversations/{world.closed_conv}"),
                       ("sup", f"/review/conversations/{world.closed_conv}/print"),
                       ("rev", f"/review/cases/{world.closed_case}/quality")):
        page = await (await staff[role].get(path)).text()
        assert "来访者评分 4/5（比较有帮助）" in page, path
    exported = json.loads(await (await staff["sup"].get(
        f"/review/conversations/{world.closed_conv}/export.json")).text())
    assert [c["satisfaction"] for c in exported["cases"]] == [4]


async def test_a_case_the_resident_did_not_rate_says_so(services, staff, world):
    await rate(services, world.closed_case, None)
    page = await (await staff["rev"].get(f"/review/cases/{world.closed_case}/quality")).text()
    assert "来访者未评分" in page and "/5（" not in page
