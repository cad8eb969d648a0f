"""A campaign's send time is typed in local time (XZ_TIMEZONE), stored in UTC and shown back local."""
from __future__ import annotations

from sqlalchemy import select

from scheduler.models import Audience, Campaign
from tests.scheduler.test_admin import as_admin, csrf


async def test_a_campaign_at_20_local_is_stored_as_12_utc_and_shown_as_20(sched_client, services):
    client = await as_admin(sched_client, services)
    token = await csrf(client, "/admin/audiences")
    await client.post("/admin/audiences", data={"_csrf": token, "name": "全部", "tags_any": "students"})
    async with services.db() as session:
        audience = await session.scalar(select(Audience.id))
    resp = await client.post("/admin/campaigns", data={
        "_csrf": token, "name": "晚间提醒", "audience_id": str(audience), "channel": "text", "text": "早点休息",
        "kind": "once", "at": "2027-01-15T20:00"}, allow_redirects=False)
    assert resp.status == 302
    async with services.db() as session:
        campaign = await session.scalar(select(Campaign))
    assert campaign.schedule == {"kind": "once", "at": "2027-01-15T12:00:00+00:00"}
    page = await (await client.get(resp.headers["Location"])).text()
    assert 'name="at" type="datetime-local" value="2027-01-15T20:00"' in page
