"""The platform's reports and scenes, through the real webhook."""
from __future__ import annotations

from prometheus_client import REGISTRY
from sqlalchemy import select

from bot.models import Resident, ResidentTag
from scheduler import fanout, runs
from scheduler.models import CampaignRun, Delivery
from tests.scheduler.conftest import make_campaign, make_residents


async def test_templatesendjobfinish_updates_the_delivery_through_the_webhook(out, services, platform):
    await make_residents(services, 2, prefix="rep")
    run_id = await runs.open_run(out, await make_campaign(services), "x")
    await fanout.execute(out, run_id)
    before = {o: REGISTRY.get_sample_value("xz_campaign_pushes_total", {"outcome": o}) or 0
              for o in ("delivered", "rejected")}
    async with services.db() as session:
        by_openid = {o: d for d, o in (await session.execute(
            select(Delivery, Resident.openid).join(Resident, Resident.id == Delivery.resident_id))).all()}
    ok = await platform.event("rep-0", "TEMPLATESENDJOBFINISH", MsgID=by_openid["rep-0"].msgid, Status="success")
    blocked = await platform.event("rep-1", "TEMPLATESENDJOBFINISH", MsgID=by_openid["rep-1"].msgid,
                                   Status="failed:user block")
    assert ok.status == blocked.status == 200 and ok.body == blocked.body == "success"
    async with services.db() as session:
        rows = {d.resident_id: d for d in await session.scalars(select(Delivery))}
        run = await session.get(CampaignRun, run_id)
    assert rows[by_openid["rep-0"].resident_id].report == "success"
    assert rows[by_openid["rep-1"].resident_id].status == "failed"
    assert (run.sent, run.failed, run.delivered) == (1, 1, 1)
    assert {o: REGISTRY.get_sample_value("xz_campaign_pushes_total", {"outcome": o}) - n
            for o, n in before.items()} == {"delivered": 1, "rejected": 1}


async def test_subscribing_through_a_qr_code_tags_the_scene(services, platform):
    await platform.event("o-qr", "subscribe", EventKey="qrscene_station_001")
    async with services.db() as session:
        tags = list(await session.scalars(select(ResidentTag.tag).join(Resident).where(Resident.openid == "o-qr")))
    assert "scene:station_001" in tags
