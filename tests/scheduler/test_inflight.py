"""A sender stopped mid-send: claims never tried are sent once on resume; claims in flight are uncertain,
and a template push so left is resent with its client_msg_id (the platform drops a copy it already sent)."""
from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import insert, select, update

from bot.db import utcnow
from bot.models import Resident
from scheduler import fanout, push, runs
from scheduler.inflight import InFlight
from scheduler.models import CampaignRun, Delivery
from tests.scheduler.conftest import make_campaign, make_residents
from tests.scheduler.test_admin import as_admin


def template_sends(mock_wechat) -> Counter:
    return Counter(m["touser"] for m in mock_wechat.state.sent if m["kind"] == "template")


def pushes(outcome: str) -> float:
    return REGISTRY.get_sample_value("xz_campaign_pushes_total", {"outcome": outcome}) or 0.0


async def statuses(services, run_id: int) -> dict[str, str]:
    async with services.db() as session:
        rows = await session.execute(select(Resident.openid, Delivery.status)
                                     .join(Resident, Resident.id == Delivery.resident_id).where(Delivery.run_id == run_id))
    return dict(rows.all())


async def run_of(services, run_id: int) -> CampaignRun:
    async with services.db() as session:
        return await session.get(CampaignRun, run_id)


def hang_for(services, openids: set[str]) -> list[str]:
    """The platform never answers these residents' requests (they may or may not arrive)."""
    real = services.api.send_template
    hanging: list[str] = []

    async def send_template(openid, *args, **kwargs):
        if openid in openids:
            hanging.append(openid)
            await asyncio.Event().wait()
        return await real(openid, *args, **kwargs)
    services.api.send_template = send_template
    return hanging


async def test_a_run_stopped_mid_send_sends_the_untried_once_and_resends_the_in_flight_once(
        out, services, mock_wechat):
    await make_residents(services, 40, prefix="m")  # batches of 10, 4 sends at a time
    in_flight = {f"m-{i}" for i in (13, 14, 15, 16)}  # all four senders stuck; 17-19 never tried
    hanging = hang_for(services, in_flight)
    run_id = await runs.open_run(out, await make_campaign(services), "x")
    uncertain_before, sent_before, resent_before = pushes("uncertain"), pushes("sent"), pushes("resent")
    task = asyncio.ensure_future(fanout.execute(out, run_id))
    while len(hanging) < 4:
        await asyncio.sleep(0.001)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert set(template_sends(mock_wechat)) == {f"m-{i}" for i in range(13)}
    assert {o for o, s in (await statuses(services, run_id)).items() if s == "uncertain"} == in_flight
    del services.api.send_template  # the platform answers again
    assert await fanout.execute(out, run_id) == "done"
    sends = template_sends(mock_wechat)
    assert set(sends.values()) == {1} and set(sends) == {f"m-{i}" for i in range(40)}
    assert set((await statuses(services, run_id)).values()) == {"sent"}
    run = await run_of(services, run_id)
    assert (run.sent, run.uncertain, run.failed) == (40, 0, 0)
    assert pushes("uncertain") - uncertain_before == 4 and pushes("resent") - resent_before == 4
    assert pushes("sent") - sent_before == 36  # first sends; the four resends are counted as resent


@pytest.mark.parametrize("redis_kept_the_set", [True, False])
async def test_claims_a_killed_worker_left_queued_are_settled_by_the_in_flight_set(
        out, services, mock_wechat, redis_kept_the_set):
    """What a SIGKILL leaves: a claimed batch, some sent, two requests in flight, the rest untried."""
    ids = await make_residents(services, 30, prefix="dead")
    run_id = await runs.open_run(out, await make_campaign(services), "x")
    async with services.db.begin() as session:
        delivery = dict((await session.execute(insert(Delivery).returning(Delivery.resident_id, Delivery.id), [
            {"run_id": run_id, "resident_id": r, "status": "queued", "created_at": utcnow()} for r in ids[:10]])).all())
        await session.execute(update(Delivery).where(Delivery.resident_id.in_(ids[:3])).values(status="sent"))
        await session.execute(update(CampaignRun).where(CampaignRun.id == run_id).values(status="running", sent=3))
    inflight = InFlight(services.redis, run_id)
    if redis_kept_the_set:
        await inflight.start()
        for r in ids[:5]:  # the first three were recorded as sent but not yet removed: harmless
            await inflight.add(delivery[r])
    mock_wechat.state.record_template({"touser": "dead-3", "template_id": "SERVICE_NOTICE", "data": {},  # it did arrive
                                       "client_msg_id": push.client_msg_id(run_id, ids[3])})
    assert await fanout.execute(out, run_id) == "done"
    sends = template_sends(mock_wechat)
    assert set(sends.values()) == {1} and set(sends) == {f"dead-{i}" for i in range(3, 30)}
    assert mock_wechat.state.deduplicated == 1  # dead-3's resend, dropped by the platform
    assert set((await statuses(services, run_id)).values()) == {"sent"}
    assert (await run_of(services, run_id)).uncertain == 0
    assert not await services.redis.exists(inflight.key)  # a finished run leaves nothing behind


async def test_the_run_page_lists_uncertain_customer_service_pushes(sched_client, out, services, mock_wechat):
    """Customer-service messages have no client_msg_id: an uncertain one is never resent, only reported."""
    client = await as_admin(sched_client, services)
    [resident] = await make_residents(services, 1, prefix="unsure", name="小李", last_inbound_at=utcnow())
    run_id = await runs.open_run(out, await make_campaign(services, channel="text",
                                                          content={"text": "{{ name }}，你好"}), "x")
    async with services.db.begin() as session:
        await session.execute(insert(Delivery), [{"run_id": run_id, "resident_id": resident, "status": "queued",
                                                  "created_at": utcnow()}])
    await fanout.execute(out, run_id)  # no in-flight set at all: the queued claim is uncertain
    page = await (await client.get(f"/admin/runs/{run_id}")).text()
    assert '<td id="uncertain">1</td>' in page and "unsure-0" in page and "小李" in page
    assert "客服消息没有去重编号，为避免重复，系统不会重发" in page
    assert not mock_wechat.state.sent
