"""Sending a run: everyone once, opt-outs never, the frequency cap, quiet hours, quota, a kill."""
from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, time, timedelta, timezone

import pytest
from sqlalchemy import select, update

from bot.db import utcnow
from scheduler import fanout, launch, policy, runs
from scheduler.models import CampaignRun, Delivery
from tests.scheduler.conftest import TEST_SETTINGS, make_campaign, make_residents

SHANGHAI = TEST_SETTINGS.timezone


def template_sends(mock_wechat) -> Counter:
    return Counter(m["touser"] for m in mock_wechat.state.sent if m["kind"] == "template")


async def deliveries(services, run_id: int) -> list[Delivery]:
    async with services.db() as session:
        return list(await session.scalars(select(Delivery).where(Delivery.run_id == run_id)))


async def run_of(services, run_id: int) -> CampaignRun:
    async with services.db() as session:
        return await session.get(CampaignRun, run_id)


async def test_a_run_sends_each_resident_one_rendered_template_message(out, services, mock_wechat):
    await make_residents(services, 25, prefix="s", tags=("students",), name="小王")
    await make_residents(services, 3, prefix="other")
    campaign = await make_campaign(services, rule={"tags_any": ["students"]})
    run_id = await runs.open_run(out, campaign, "now")
    assert await fanout.execute(out, run_id) == "done"
    sends = template_sends(mock_wechat)
    assert set(sends) == {f"s-{i}" for i in range(25)} and set(sends.values()) == {1}
    assert mock_wechat.state.sent[0]["payload"]["data"]["thing1"]["value"] == "小王好"
    rows = await deliveries(services, run_id)
    assert {d.status for d in rows} == {"sent"} and all(d.msgid for d in rows)
    run = await run_of(services, run_id)
    assert (run.status, run.total, run.sent, run.failed) == ("done", 25, 25, 0)


async def test_a_second_run_of_the_same_occurrence_is_not_opened(out, services):
    campaign = await make_campaign(services)
    assert await runs.open_run(out, campaign, "2025-03-01T09:00") is not None
    assert await runs.open_run(out, campaign, "2025-03-01T09:00") is None


async def test_opted_out_residents_get_nothing(out, services, mock_wechat):
    await make_residents(services, 2, prefix="keep", tags=("students",))
    await make_residents(services, 2, prefix="out", tags=("students", "optout:campaigns"))
    run_id = await runs.open_run(out, await make_campaign(services, rule={"tags_any": ["students"]}), "x")
    await fanout.execute(out, run_id)
    assert set(template_sends(mock_wechat)) == {"keep-0", "keep-1"}


async def test_frequency_cap_skips_residents_pushed_today(out, services, mock_wechat):
    await make_residents(services, 3, prefix="cap", tags=("t",))
    first = await runs.open_run(out, await make_campaign(services, rule={"tags_any": ["t"]}, name="a"), "x")
    await fanout.execute(out, first)
    second = await runs.open_run(out, await make_campaign(services, rule={"tags_any": ["t"]}, name="b"), "x")
    await fanout.execute(out, second)
    assert set(template_sends(mock_wechat).values()) == {1}
    assert {(d.status, d.error) for d in await deliveries(services, second)} == {("skipped", "frequency cap")}
    assert (await run_of(services, second)).skipped == 3


async def test_a_field_missing_for_a_resident_fails_that_delivery_with_the_reason(out, services, mock_wechat):
    await make_residents(services, 2, prefix="miss")
    campaign = await make_campaign(services, content={"template_id": "SERVICE_NOTICE", "fields": {"thing1": "{{ event.title }}"}})
    run_id = await runs.open_run(out, campaign, "x")
    await fanout.execute(out, run_id)
    assert not mock_wechat.state.sent
    assert all(d.status == "failed" and "event" in d.error for d in await deliveries(services, run_id))


@pytest.mark.parametrize("local, quiet", [(time(22, 0), True), (time(3, 0), True), (time(7, 59), True),
                                          (time(8, 0), False), (time(21, 29), False)])
def test_quiet_hours_wrap_midnight(local, quiet):
    at = datetime.combine(datetime(2025, 3, 1).date(), local, tzinfo=SHANGHAI)
    assert policy.in_quiet_hours(at, time(21, 30), time(8, 0), SHANGHAI) is quiet


def test_quiet_hours_hold_until_the_next_morning():
    late = datetime(2025, 3, 1, 23, 0, tzinfo=SHANGHAI)
    assert policy.quiet_until(late, time(21, 30), time(8, 0), SHANGHAI) == \
        datetime(2025, 3, 2, 0, 0, tzinfo=timezone.utc)  # 08:00 in Shanghai


@pytest.fixture
def settings():
    """Quiet all day long in this module's quiet-hours test only when asked; default: never quiet."""
    return TEST_SETTINGS


async def test_a_run_in_quiet_hours_is_held_until_morning(out, services, mock_wechat):
    await make_residents(services, 2, prefix="night")
    out.settings = TEST_SETTINGS.with_(quiet_start=time(0, 0), quiet_end=time(23, 59, 59))
    run_id = await runs.open_run(out, await make_campaign(services), "x")
    assert await fanout.execute(out, run_id) == "paused"
    run = await run_of(services, run_id)
    assert run.pause_reason == "quiet hours" and run.resume_at is not None
    assert not mock_wechat.state.sent


async def test_quota_error_pauses_the_run_and_resume_sends_the_rest_once(out, services, mock_wechat):
    await make_residents(services, 30, prefix="q")
    services.api._backoff = 0.001  # the client's own retries of 45009 need not wait in a test
    out.settings = TEST_SETTINGS.with_(concurrency=1)  # one send meets all three faults (the client retries)
    mock_wechat.state.faults.append(__import__("bot.mock_wechat.state", fromlist=["Fault"]).Fault(
        path="/cgi-bin/message/template/send", errcode=45009, count=3))
    run_id = await runs.open_run(out, await make_campaign(services), "x")
    assert await fanout.execute(out, run_id) == "paused"
    run = await run_of(services, run_id)
    resume_at = run.resume_at if run.resume_at.tzinfo else run.resume_at.replace(tzinfo=timezone.utc)
    assert "45009" in run.pause_reason and resume_at > utcnow() + timedelta(minutes=30)
    async with services.db.begin() as session:  # morning comes: the sweeper resumes due runs
        await session.execute(update(CampaignRun).where(CampaignRun.id == run_id).values(resume_at=utcnow()))
    from scheduler.jobs import sweep_runs
    assert await sweep_runs(out) == [run_id]
    await wait_for_status(services, run_id, "done")
    sends = template_sends(mock_wechat)
    assert set(sends) == {f"q-{i}" for i in range(30)} and set(sends.values()) == {1}


async def wait_for_status(services, run_id: int, status: str) -> None:
    for _ in range(500):
        if (await run_of(services, run_id)).status == status:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"run never became {status}")


async def test_a_run_killed_half_way_resumes_without_a_second_copy_to_anyone(out, services, mock_wechat):
    await make_residents(services, 60, prefix="k")
    run_id = await runs.open_run(out, await make_campaign(services), "x")
    task = asyncio.ensure_future(fanout.execute(out, run_id))
    while len(mock_wechat.state.sent) < 25:
        await asyncio.sleep(0.001)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert 0 < len(mock_wechat.state.sent) < 60
    assert await fanout.execute(out, run_id) == "done"
    sends = template_sends(mock_wechat)
    assert max(sends.values()) == 1  # never a second copy
    rows = await deliveries(services, run_id)
    assert len(rows) == 60 and {d.status for d in rows} <= {"sent", "uncertain"}
    uncertain = [d for d in rows if d.status == "uncertain"]
    assert len(uncertain) <= TEST_SETTINGS.concurrency  # only requests in flight at the kill
    assert len(sends) >= 60 - len(uncertain)


async def test_customer_service_campaign_reaches_only_residents_in_the_window(out, services, platform, mock_wechat):
    await platform.text("o-talked", "你好")
    await make_residents(services, 1, prefix="silent")
    campaign = await make_campaign(services, channel="text", content={"text": "{{ name }}，本周有讲座"})
    run_id = await runs.open_run(out, campaign, "x")
    await fanout.execute(out, run_id)
    custom = [m for m in mock_wechat.state.sent if m["kind"] == "custom" and "讲座" in str(m["payload"])]
    assert [m["touser"] for m in custom] == ["o-talked"]


async def test_pause_stops_and_cancel_ends_a_run(out, services, mock_wechat):
    await make_residents(services, 5, prefix="p")
    run_id = await runs.open_run(out, await make_campaign(services), "x")
    assert await runs.pause(out, run_id)
    assert await fanout.execute(out, run_id) == "paused" and not mock_wechat.state.sent
    assert await runs.cancel(out, run_id)
    assert (await run_of(services, run_id)).status == "cancelled"
    assert not await launch.resume(out, run_id)
