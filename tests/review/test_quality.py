"""Quality review: a reviewer scores a closed case against the checklist; the counsellor reads it."""
from __future__ import annotations

from handoff.review.quality import checklist

FORM = {"risk_asked": "yes", "safety_plan": "no", "referral_made": "yes", "follow_up_set": "n/a",
        "hotline_given": "yes", "comments": "安全计划需要更具体"}


def test_the_checklist_is_data_with_the_four_required_items():
    keys = [item.key for item in checklist()]
    assert {"risk_asked", "safety_plan", "referral_made", "follow_up_set"} <= set(keys)


async def test_reviewer_scores_and_the_counsellor_sees_it(staff, world):
    form = await staff["rev"].get(f"/review/cases/{world.closed_case}/quality")
    assert "是否直接询问了自杀/自伤风险" in await form.text()
    resp = await staff["rev"].post(f"/review/cases/{world.closed_case}/quality", FORM)
    assert resp.status == 303
    mine = await (await staff["coun"].get("/review/mine")).text()
    assert "75%" in mine and "安全计划需要更具体" in mine
    assert "安全计划需要更具体" not in await (await staff["coun2"].get("/review/mine")).text()


async def test_an_unanswered_item_is_named(staff, world):
    resp = await staff["rev"].post(f"/review/cases/{world.closed_case}/quality", {"risk_asked": "yes"})
    assert resp.status == 400 and "是否与来访者一起制定了安全计划" in await resp.text()


async def test_open_cases_cannot_be_reviewed(staff, world):
    assert (await staff["rev"].get(f"/review/cases/{world.active_case}/quality")).status == 403
