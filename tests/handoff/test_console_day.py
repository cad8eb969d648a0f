"""The console's all-day API (issue 14 item 5): canned responses supervisors edit, the composer's
allowance and variables, call-back requests with their case and risk level."""
from __future__ import annotations

from sqlalchemy import select

from bot.models import Resident
from bot.stores.cs_window import AFTER_MESSAGE
from handoff import cases


async def test_only_a_supervisor_edits_canned_responses_and_the_defaults_are_kept(staff_client):
    counsellor, supervisor = await staff_client("c1"), await staff_client("s1", ("supervisor",))
    _, before = await counsellor.get("/console/api/canned")
    defaults = {c["shortcut"] for c in before["canned"]}
    assert "greeting" in defaults
    status, _ = await counsellor.post("/console/api/canned", {"shortcut": "wait", "text": "请稍等"})
    assert status == 403
    status, _ = await supervisor.post("/console/api/canned", {"shortcut": "bad shortcut!", "text": "x"})
    assert status == 400
    status, saved = await supervisor.post("/console/api/canned", {"shortcut": "wait", "text": "{name}，请稍等"})
    assert status == 200 and {c["shortcut"] for c in saved["canned"]} == defaults | {"wait"}
    await supervisor.post("/console/api/canned", {"shortcut": "wait", "text": "请稍等片刻"})
    status, _ = await supervisor.post("/console/api/canned/greeting/delete")
    assert status == 200
    _, after = await counsellor.get("/console/api/canned")
    texts = {c["shortcut"]: c["text"] for c in after["canned"]}
    assert texts["wait"] == "请稍等片刻" and "greeting" not in texts and set(texts) == defaults - {"greeting"} | {"wait"}


async def test_the_composer_gives_the_allowance_and_variables_only_to_the_holder(platform, staff_client):
    holder, other = await staff_client("c1"), await staff_client("c2")
    await platform.text("o-comp", "人工")
    _, taken = await holder.post("/console/api/take")
    case_id = taken["case"]["id"]
    status, composer = await holder.get(f"/console/api/cases/{case_id}/composer")
    assert status == 200 and composer["sends_left"] == AFTER_MESSAGE
    assert composer["variables"]["name"] == "您" and composer["variables"]["hotline"]
    status, _ = await other.get(f"/console/api/cases/{case_id}/composer")
    assert status == 403


async def test_call_backs_list_their_case_and_risk_level(platform, services, staff_client):
    counsellor = await staff_client("c1", on_duty=False)
    await platform.text("o-cb", "人工")
    async with services.db() as session:
        resident_id = await session.scalar(select(Resident.id).where(Resident.openid == "o-cb"))
    case = await cases.open_case(services, resident_id)
    await cases.raise_level(services, case.id, 3)
    await platform.text("o-cb", "回电 13800138000")
    _, listed = await counsellor.get("/console/api/callbacks")
    [callback] = listed["callbacks"]
    assert (callback["case_id"], callback["level"], callback["phone"]) == (case.id, 3, "13800138000")
    status, _ = await counsellor.post(f"/console/api/callbacks/{callback['id']}/done")
    assert status == 200 and (await counsellor.get("/console/api/callbacks"))[1]["callbacks"] == []
