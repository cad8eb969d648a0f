"""Item 6 of issue 14: staff read words, not codes. Every staff page is rendered as each role, over
cases with every reason, outcome and timeline kind, detections with every action and source, and
campaign runs in every state; no stored code may show as visible text. The console's JSON is read
with the label table its page carries, as its script reads it."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from bot.db import utcnow
from bot.labels import LABELS, Labels
from handoff.detections import ACTIONS, MISSED, CrisisDetection
from handoff.models import EVENT_KINDS, OUTCOMES, STATUSES, Case, CaseEvent
from flows.models import Assessment
from handoff.review.models import ACTIONS as AUDIT_ACTIONS, DataRequest
from knowledge.scales import load_scales
from scheduler.audiences import ANCHORS
from scheduler.render import CHANNELS
from scheduler.models import Campaign, CampaignRun, Delivery

RUN_STATES = ("pending", "running", "paused", "done", "cancelled")
REASONS = ("crisis", "request", "resident_request", "safety_check", "assessment:PHQ-9:item9_positive",
           "assessment:EPDS:item10_positive")
SOURCES = ("message", MISSED, "assessment:PHQ-9:item9_positive", "safety_check")
DETAILS = {"queued": "crisis L3", "raised": "2->4", "transferred": "{coun}->{coun2}", "requeued": "console gone",
           "escalated": "", "fallback": "nobody on duty", "claimed": "", "closed": "false_alarm",
           "transfer_offered": "pool", "taken_over": "{coun2}->{coun}", "reassigned": "{coun}->{coun2}"}
PAUSES = ("quiet hours", "paused by staff", "platform quota reached (45009)", "content: bad field", "")
DELIVERIES = ("queued", "sent", "failed", "skipped", "uncertain")
BANDS = [(scale.id, band.id) for scale in (load_scales().get(i) for i in load_scales().ids()) for band in scale.bands]
CODES = {*OUTCOMES, *AUDIT_ACTIONS, *EVENT_KINDS, *ACTIONS, *RUN_STATES, *STATUSES, *REASONS, *SOURCES, *DELIVERIES,
         "item9_positive", "console gone", "given back", "nobody on duty", "pool", "quiet hours", "paused by staff",
         "false_alarm", "platform quota", *ANCHORS, *CHANNELS, "manual", "relative",
         *(band for _, band in BANDS)}


class VisibleText(HTMLParser):
    """The text a person sees: no attributes, no script or style."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        self._hidden += tag in ("script", "style", "title")

    def handle_endtag(self, tag):
        self._hidden -= tag in ("script", "style", "title")

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def raw_codes(html: str) -> set[str]:
    parser = VisibleText()
    parser.feed(html)
    text = " ".join(parser.parts)
    found = {c for c in CODES if re.search(rf"(?<![\w:-]){re.escape(c)}(?![\w-])", text)}
    return found | set(re.findall(r"\b\d+->\d+\b", text))


async def seed(services, staff, world) -> dict:
    now = utcnow()
    ids = {"coun": staff["coun"].id, "coun2": staff["coun2"].id}
    async with services.db.begin() as session:
        cases = []
        for i, outcome in enumerate(OUTCOMES):
            cases.append(Case(resident_id=world.alice, conversation_id=world.closed_conv,
                              reason=REASONS[i % len(REASONS)], level=i % 5, status="closed", queued_at=now, claimed_at=now, closed_at=now,
                              counsellor_id=ids["coun"], outcome=outcome, satisfaction=i % 5 + 1))
        for reason in REASONS:
            cases.append(Case(resident_id=world.carol, conversation_id=world.bot_conv, reason=reason, level=4,
                              status="waiting", queued_at=now))
        session.add_all(cases)
        await session.flush()
        for minute, kind in enumerate(EVENT_KINDS):
            session.add(CaseEvent(case_id=world.closed_case, kind=kind, actor_id=ids["coun"],
                                  at=now + timedelta(minutes=minute), detail=DETAILS.get(kind, "").format(**ids)))
        session.add(CaseEvent(case_id=world.active_case, kind="requeued", detail="given back", at=now))
        session.add(CaseEvent(case_id=world.active_case, kind="requeued", detail=f"from {ids['coun']}", at=now))
        for i, action in enumerate(ACTIONS):
            session.add(CrisisDetection(resident_id=world.alice, conversation_id=world.closed_conv, level=i % 5,
                                        source=SOURCES[i % len(SOURCES)], reason=REASONS[i % len(REASONS)], action=action,
                                        case_id=world.closed_case, created_at=now))
        session.add(DataRequest(resident_id=world.alice, subject="x", kind="export", channel="chat"))
        session.add(DataRequest(resident_id=world.carol, subject="y", kind="delete", channel="staff", status="rejected"))
        campaign = Campaign(name="每日小贴士", channel="text", content={"text": "你好"}, schedule={"kind": "manual"})
        session.add_all([campaign, *(Campaign(name=f"按{a}", channel="template", content={"template_id": "T"},
                                               schedule={"kind": "relative", "anchor": a, "offset_days": 7, "at": "09:00"})
                                      for a in ANCHORS)])
        session.add_all([Assessment(resident_id=world.alice, scale=scale, answers=[], total=0, band=band, created_at=now)
                         for scale, band in BANDS])
        await session.flush()
        runs = [CampaignRun(campaign_id=campaign.id, occurrence=f"2026-01-0{i + 1}", status=state,
                            pause_reason=PAUSES[i]) for i, state in enumerate(RUN_STATES)]
        session.add_all(runs)
        await session.flush()
        session.add_all([Delivery(run_id=runs[0].id, resident_id=r, status=s) for r, s in
                         zip((world.alice, world.carol), DELIVERIES)])
    return {"campaign": campaign.id, "runs": [r.id for r in runs], "waiting": cases[-1].id}


async def test_no_staff_page_shows_a_raw_code(services, staff, world):
    seeded = await seed(services, staff, world)
    pages = {
        "coun": ["/console", "/review", "/review/mine", f"/review/conversations/{world.closed_conv}",
                 "/account"],
        "sup": ["/console", "/console/supervisor", "/review", "/review/audit", "/review/requests",
                f"/review/conversations/{world.closed_conv}", f"/review/conversations/{world.closed_conv}/print",
                ],
        "rev": ["/review?outcome=false_alarm", f"/review/conversations/{world.closed_conv}",
                f"/review/cases/{world.closed_case}/quality"],
        "adm": ["/admin", "/admin?days=7", "/admin/campaigns", f"/admin/campaigns/{seeded['campaign']}", "/admin/audiences",
                "/admin/tags", "/admin/events", "/admin/knowledge", "/admin/staff",
                *[f"/admin/runs/{r}" for r in seeded["runs"]]],
    }
    shown = {}
    for role, paths in pages.items():
        for path in paths:
            resp = await staff[role].get(path)
            assert resp.status == 200, (role, path, resp.status)
            if codes := raw_codes(await resp.text()):
                shown[f"{role} {path}"] = sorted(codes)
    assert shown == {}


async def test_console_json_carries_the_labels_its_script_shows(services, staff, world):
    await seed(services, staff, world)
    page = await (await staff["sup"].get("/console")).text()
    table = json.loads(re.search(r"const LABELS = (\{.*?\});\n", page).group(1))
    assert table == services_labels(staff).table()
    overview = await (await staff["sup"].get("/console/api/overview")).json()
    queue = await (await staff["coun"].get("/console/api/queue")).json()
    listed = overview["cases"] + queue["waiting"] + queue["mine"]
    assert {c["reason"] for c in listed} >= {"crisis", "safety_check", "assessment:PHQ-9:item9_positive"}
    for c in listed:
        head = c["reason"].split(":")[0]
        assert c["reason"].replace(":", "_") in table["reason"] or head in table["reason"], c["reason"]
        assert str(c["level"]) in table["level"]
    detail = await (await staff["sup"].get(f"/console/api/cases/{world.closed_case}")).json()
    assert detail["case"]["outcome"] in table["outcome"] and detail["case"]["status"] in table["status"]
    assert {s["kind"] for s in detail["timeline"]} == set(EVENT_KINDS)
    steps = [i for i in detail["history"]["items"] if i["type"] == "step"]
    assert steps == detail["timeline"]  # the same steps, in place among the messages
    for step in steps:
        assert step["text"] and not raw_codes(step["text"]), step
    assert all(c["outcome"] in table["outcome"] for c in detail["record"]["cases"] if c["outcome"])
    assert {str(c["satisfaction"]) for c in detail["record"]["cases"] if c["satisfaction"]} <= set(table["satisfaction"])
    assert detail["record"]["resident"]["language"] in table["language"]


def services_labels(staff):
    return staff["sup"].http.server.app[LABELS]


def test_level_colours_are_defined_once():
    """--l0..--l4 in the shared layout, and nowhere else a colour per level; level 4 is not green."""
    root = Path(__file__).parents[2]
    base = (root / "bot/templates/base.html").read_text()
    colours = dict(re.findall(r"--l([0-4]):\s*(#[0-9a-fA-F]{6})", base))
    assert sorted(colours) == ["0", "1", "2", "3", "4"]
    red, green, blue = (int(colours["4"][i:i + 2], 16) for i in (1, 3, 5))
    assert red > green and red > blue
    for path in [*root.glob("*/templates/*"), *root.glob("*/*/templates/*"), *root.glob("scheduler/*.py")]:
        if path.name != "base.html":
            assert not re.search(r"--l[0-4]\s*:", path.read_text()), path
            assert not re.search(r"\.level-[0-4]\s*\{", path.read_text()), path


def test_the_console_script_reads_codes_as_the_server_does(tmp_path):
    """console_common.js's `label()` and bot/labels.py give the same words for the same codes."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    from knowledge.texts import load_texts

    labels = Labels(load_texts())
    source = (Path(__file__).parents[2] / "handoff/templates/console_common.js").read_text()
    function = re.search(r"^function label\(group, code\) \{.*?^\}$", source, re.M | re.S).group(0)
    cases = [("reason", r) for r in REASONS] + [("source", s) for s in SOURCES] + [("outcome", o) for o in OUTCOMES] \
        + [("event", k) for k in EVENT_KINDS] + [("action", a) for a in ACTIONS] + [("level", 3), ("reason", "新码")]
    script = tmp_path / "labels.js"
    script.write_text(f"const LABELS = {json.dumps(labels.table())};\n{function}\n"
                      f"console.log(JSON.stringify({json.dumps(cases)}.map(([g, c]) => label(g, c))));\n")
    out = subprocess.run([node, str(script)], capture_output=True, text=True, check=True, timeout=30).stdout
    assert json.loads(out) == [labels(code, group) for group, code in cases]
