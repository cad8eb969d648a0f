"""Staff see what a resident agreed to: the console's record panel and the review conversation view
show the consent state and every step of its history."""
from __future__ import annotations

from sqlalchemy import select

from handoff.models import Case
from tests.conftest import settle
from tests.consent import consent_in_chat


async def test_the_console_record_and_review_show_consent_state_and_history(services, platform, staff_client):
    await consent_in_chat(platform.text, "o-consent-seen")
    await platform.text("o-consent-seen", "撤回同意")
    await platform.text("o-consent-seen", "人工")
    await settle(services)
    counsellor = await staff_client("c1")
    status, taken = await counsellor.post("/console/api/take")
    assert status == 200
    status, detail = await counsellor.get(f"/console/api/cases/{taken['case']['id']}")
    consent = detail["record"]["consent"]
    assert (consent["decision"], consent["age_band"]) == ("withdrawn", "adult") and consent["at"]
    assert [step["kind"] for step in consent["history"]] == ["age_band", "granted", "withdrawn"]
    assert all(step["version"] and step["at"] for step in consent["history"])

    supervisor = await staff_client("s1", ("supervisor",))
    async with services.db() as session:
        conversation_id = await session.scalar(select(Case.conversation_id))
    status, _ = await counsellor.post(f"/console/api/cases/{taken['case']['id']}/close",
                                      {"outcome": "resolved", "risk_rating": 1, "summary": "聊过了"})
    assert status == 200  # review shows closed cases only; the live one is read in the console
    page = await (await supervisor.http.get(f"/review/conversations/{conversation_id}")).text()
    panel = page.split('id="consent"', 1)[1].split("</ol>", 1)[0]
    assert "撤回同意" in panel and "同意保存" in panel and "18岁及以上" in panel
