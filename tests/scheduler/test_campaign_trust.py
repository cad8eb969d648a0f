"""Campaign pages an admin can trust: the real send time in quiet hours, why a run is paused and until
when, controls that match the run's state, visible feedback on resume, the dashboard's waits."""
from __future__ import annotations

import re
from datetime import datetime, time, timedelta, timezone

from bot import localtime
from bot.db import utcnow
from scheduler import fanout, runs, send_time
from tests.scheduler.conftest import TEST_SETTINGS, make_campaign, make_residents
from tests.scheduler.test_admin import as_admin, csrf

NIGHT = TEST_SETTINGS.with_(quiet_start=time(21, 30), quiet_end=time(8, 0))


def tomorrow_at(hour: int, minute: int = 0) -> datetime:
    day = localtime.local(utcnow()).date() + timedelta(days=1)
    return datetime.combine(day, time(hour, minute), tzinfo=localtime.zone())


def test_a_send_planned_at_23_goes_out_at_8_the_next_morning():
    planned = tomorrow_at(23)
    held = send_time.held_send({"kind": "once", "at": planned.isoformat()}, NIGHT, utcnow())
    assert held.planned == planned and localtime.fmt(held.real) == f"{planned.date() + timedelta(days=1)} 08:00"


def test_a_daily_cron_inside_quiet_hours_is_held_and_one_outside_is_not():
    assert send_time.held_send({"kind": "cron", "cron": "0 22 * * *"}, NIGHT, utcnow()) is not None
    assert send_time.held_send({"kind": "cron", "cron": "30 8 * * *"}, NIGHT, utcnow()) is None
    assert send_time.held_send({"kind": "manual"}, NIGHT, utcnow()) is None


def test_a_once_schedule_in_the_past_has_no_next_send():
    past = (utcnow() - timedelta(days=1)).isoformat()
    assert send_time.next_planned({"kind": "once", "at": past}, NIGHT, utcnow()) is None


async def test_the_campaign_page_warns_with_the_real_send_time(sched_client, services, out):
    out.settings = NIGHT
    client = await as_admin(sched_client, services)
    planned = tomorrow_at(22, 15)
    campaign = await make_campaign(services, schedule={"kind": "once", "at": planned.astimezone(timezone.utc).isoformat()})
    page = await (await client.get(f"/admin/campaigns/{campaign}")).text()
    assert "免打扰时段（21:30-08:00）" in page
    real = re.search(r'id="real-send-time">([^<]+)<', page).group(1)
    assert real == f"{planned.date() + timedelta(days=1)} 08:00"


async def test_a_run_held_by_quiet_hours_says_why_and_when_it_resumes(sched_client, services, out):
    client = await as_admin(sched_client, services)
    await make_residents(services, 1, prefix="night")
    out.settings = TEST_SETTINGS.with_(quiet_start=time(0, 0), quiet_end=time(23, 59, 59))
    campaign = await make_campaign(services)
    run_id = await runs.open_run(out, campaign, "x")
    assert await fanout.execute(out, run_id) == "paused"
    page = await (await client.get(f"/admin/runs/{run_id}")).text()
    resume_at = localtime.fmt((await runs.progress(out, run_id)).resume_at)
    assert "免打扰时段" in page and f'<strong class="resume-at">{resume_at}</strong> 自动继续' in page


async def test_a_run_paused_by_staff_says_it_waits_for_resume(sched_client, services, out):
    client = await as_admin(sched_client, services)
    run_id = await runs.open_run(out, await make_campaign(services), "x")
    assert await runs.pause(out, run_id)
    page = await (await client.get(f"/admin/runs/{run_id}")).text()
    assert "工作人员暂停" in page and "不会自动继续" in page


def actions_in(page: str, run_id: int) -> set[str]:
    return set(re.findall(rf'action="/admin/runs/{run_id}/(\w+)"', page))


async def test_controls_match_the_runs_state(sched_client, services, out, mock_wechat):
    client = await as_admin(sched_client, services)
    await make_residents(services, 2, prefix="ctl")
    campaign = await make_campaign(services)
    done = await runs.open_run(out, campaign, "done")
    assert await fanout.execute(out, done) == "done"
    paused = await runs.open_run(out, campaign, "paused")
    await runs.pause(out, paused)
    page = await (await client.get(f"/admin/campaigns/{campaign}")).text()
    assert actions_in(page, done) == set() and actions_in(page, paused) == {"resume", "cancel"}
    resp = await client.post(f"/admin/runs/{done}/pause", data={"_csrf": await csrf(client, "/admin/campaigns")})
    assert resp.status == 409 and "已完成" in await resp.text()


async def test_resume_says_it_happened_and_what_the_run_does_now(sched_client, services, out, mock_wechat):
    client = await as_admin(sched_client, services)
    await make_residents(services, 1, prefix="res")
    campaign = await make_campaign(services)
    run_id = await runs.open_run(out, campaign, "x")
    await runs.pause(out, run_id)
    resp = await client.post(f"/admin/runs/{run_id}/resume", data={"_csrf": await csrf(client, "/admin/campaigns")},
                             allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"].endswith(f"?done=resume&run={run_id}")
    page = await (await client.get(resp.headers["Location"])).text()
    notice = re.search(r'id="run-notice"[^>]*>([^<]+)', page).group(1)
    assert notice.startswith("已继续发送：批次 x 现为「")


async def test_dashboard_wait_figures_count_cases_still_waiting(sched_client, services, out):
    from handoff.models import Case

    client = await as_admin(sched_client, services)
    [resident] = await make_residents(services, 1, prefix="wait")
    now = utcnow()
    async with services.db.begin() as session:
        session.add_all([Case(resident_id=resident, conversation_id=0, reason="request", status="closed",
                              queued_at=now - timedelta(minutes=3), claimed_at=now - timedelta(minutes=2)),
                         Case(resident_id=resident, conversation_id=0, reason="request", status="waiting",
                              queued_at=now - timedelta(minutes=20))])
    page = await (await client.get("/admin?days=7")).text()
    assert '<strong id="still-waiting">1</strong> 例仍在等待' in page
    assert re.search(r">&gt;15 分钟</text>.*?>1 例</text>", page)  # the waiting case, 20 minutes so far


async def test_every_dashboard_chart_is_titled_in_chinese(sched_client, services, out, mock_wechat):
    client = await as_admin(sched_client, services)
    await make_residents(services, 2, prefix="dash")
    await fanout.execute(out, await runs.open_run(out, await make_campaign(services), "x"))
    page = await (await client.get("/admin?days=7")).text()
    svgs = re.findall(r"<svg[^>]*>", page)
    assert svgs and all(re.search(r'aria-label="[^"]*[\u4e00-\u9fff][^"]*"', s) for s in svgs)
