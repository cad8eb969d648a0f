"""The admin pages through HTTP: the role, creating and previewing a campaign, running it, CSV import."""
from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import select

from bot.auth.users import add_user
from bot.models import Resident, ResidentTag
from scheduler.models import Audience, Campaign, CampaignRun
from scheduler.seed import seed
from tests.scheduler.conftest import make_residents

PASSWORD = "correct horse battery"


async def login(client, username: str):
    page = await client.get("/login")
    token = re.search(r'name="_csrf" value="([^"]+)"', await page.text()).group(1)
    await client.post("/login", data={"_csrf": token, "username": username, "password": PASSWORD},
                      allow_redirects=False)


async def csrf(client, path: str) -> str:
    return re.search(r'name="_csrf" value="([^"]+)"', await (await client.get(path)).text()).group(1)


async def as_admin(sched_client, services):
    await add_user(services.db, "ada", PASSWORD, ["admin"])
    await login(sched_client, "ada")
    return sched_client


async def test_admin_pages_need_the_admin_role(sched_client, services):
    assert (await sched_client.get("/admin/campaigns", allow_redirects=False)).status == 302
    await add_user(services.db, "cai", PASSWORD, ["counsellor"])
    await login(sched_client, "cai")
    assert (await sched_client.get("/admin/campaigns", allow_redirects=False)).status == 403


async def test_every_admin_page_renders(sched_client, services, out):
    client = await as_admin(sched_client, services)
    await seed(out)
    for path in ("/admin", "/admin?days=7", "/admin/campaigns", "/admin/audiences", "/admin/tags", "/admin/events",
                 "/admin/knowledge", "/admin/staff"):
        resp = await client.get(path)
        assert resp.status == 200, path


async def test_dashboard_charts_campaign_reach(sched_client, services, out, mock_wechat):
    from scheduler import fanout, runs
    from tests.scheduler.conftest import make_campaign

    client = await as_admin(sched_client, services)
    await make_residents(services, 2, prefix="dash")
    await fanout.execute(out, await runs.open_run(out, await make_campaign(services), "x"))
    page = await (await client.get("/admin?days=7")).text()
    assert "触达居民 2 人" in page and "<svg" in page


async def test_dashboard_shows_the_weekly_share_of_unclear_readings(sched_client, services):
    from datetime import timedelta

    from bot.db import utcnow
    from flows.models import IntentRead

    client = await as_admin(sched_client, services)
    [resident] = await make_residents(services, 1, prefix="words")
    now = utcnow()
    reads = [("unclear", now), ("events", now), ("counsellor", now), ("unclear", now - timedelta(days=8))]
    async with services.db.begin() as session:
        session.add_all(IntentRead(resident_id=resident, conversation_id=0, platform_msg_id="", intent=intent,
                                   confidence=0.9, runner_up="menu", created_at=at,
                                   action="unclear" if intent == "unclear" else "acted") for intent, at in reads)
    page = await (await client.get("/admin?days=30")).text()
    assert '读过居民留言 4 条，没读懂 <strong id="unclear">2</strong> 条（50.0%）' in page
    assert "当周" in page and "33.3%" in page and "100%" in page


async def test_create_preview_and_run_a_campaign(sched_client, services, mock_wechat):
    client = await as_admin(sched_client, services)
    await make_residents(services, 3, prefix="adm", tags=("students",), name="小陈")
    token = await csrf(client, "/admin/audiences")
    await client.post("/admin/audiences", data={"_csrf": token, "name": "学生", "tags_any": "students"})
    assert "<td>3</td>" in await (await client.get("/admin/audiences")).text()
    async with services.db() as session:
        from scheduler.models import Audience
        audience = await session.scalar(select(Audience.id))
    resp = await client.post("/admin/campaigns", data={
        "_csrf": token, "name": "考试减压", "audience_id": str(audience), "channel": "template",
        "template_id": "SERVICE_NOTICE", "field.SERVICE_NOTICE.thing1": "{{ name }}，考试周注意休息", "kind": "manual",
        "active": "on"}, allow_redirects=False)
    assert resp.status == 302
    page = resp.headers["Location"]
    preview = await (await client.get(page, params={"openid": "adm-0"})).text()
    assert "小陈，考试周注意休息" in preview and "受众人数：<strong id=\"size\">3" in preview
    assert (await client.post(page + "/run", data={"_csrf": token}, allow_redirects=False)).status == 302
    from tests.scheduler.test_schedules import wait_until

    async def finished():
        async with services.db() as session:
            return await session.scalar(select(CampaignRun).where(CampaignRun.status == "done"))
    run = await wait_until(finished)
    assert run.sent == 3 and len(mock_wechat.state.sent) == 3
    progress = await (await client.get(f"/admin/runs/{run.id}/progress")).json()
    assert progress["sent"] == 3 and progress["left"] == 0


async def test_bad_content_is_refused_with_the_reason(sched_client, services):
    client = await as_admin(sched_client, services)
    token = await csrf(client, "/admin/campaigns")
    resp = await client.post("/admin/campaigns", data={"_csrf": token, "name": "x", "channel": "template",
                                                       "template_id": "", "kind": "manual"})
    assert resp.status == 400 and "请选择平台上已配置的模板" in await resp.text()
    async with services.db() as session:
        assert await session.scalar(select(Campaign.id)) is None


async def test_csv_import_tags_known_residents_and_lists_unknown_ones(sched_client, services):
    client = await as_admin(sched_client, services)
    await make_residents(services, 2, prefix="csv")
    token = await csrf(client, "/admin/tags")
    body = "openid,tags,area\ncsv-0,students;daily_tip,东城\ncsv-1,elderly,\nnobody,students,\n"
    from aiohttp import FormData
    form = FormData()
    form.add_field("_csrf", token)
    form.add_field("file", body.encode(), filename="tags.csv", content_type="text/csv")
    page = await (await client.post("/admin/tags/import", data=form)).text()
    assert "新增标签 3 个" in page and "nobody" in page
    async with services.db() as session:
        tags = set((await session.execute(select(Resident.openid, ResidentTag.tag).join(ResidentTag))).all())
        area = await session.scalar(select(Resident.area).where(Resident.openid == "csv-0"))
    assert tags == {("csv-0", "students"), ("csv-0", "daily_tip"), ("csv-1", "elderly")} and area == "东城"


async def test_demo_seed_is_idempotent(out, services):
    await seed(out)
    await seed(out)
    async with services.db() as session:
        systems = sorted(await session.scalars(select(Campaign.system)))
    assert systems == ["daily_tip", "event_reminder"]


async def _save_text_campaign(client, token: str, text: str):
    return await client.post("/admin/campaigns", data={"_csrf": token, "name": "t", "channel": "text", "text": text,
                                                       "kind": "manual", "active": "on"}, allow_redirects=False)


async def test_a_huge_power_in_a_template_neither_freezes_the_save_nor_the_preview(sched_client, services):
    client = await as_admin(sched_client, services)
    await make_residents(services, 1, prefix="pow")
    token = await csrf(client, "/admin/campaigns")
    started = time.monotonic()
    resp = await _save_text_campaign(client, token, "{{ (9**(9**7)) > 1 }}")  # 3-4 s of folding before
    assert resp.status == 302 and time.monotonic() - started < 1.0
    started = time.monotonic()
    preview = await client.get(resp.headers["Location"], params={"openid": "pow-0"})
    assert preview.status == 200 and "too large" in await preview.text()
    assert time.monotonic() - started < 1.0


async def test_a_template_preview_that_divides_by_zero_is_a_form_error(sched_client, services):
    client = await as_admin(sched_client, services)
    await make_residents(services, 1, prefix="div")
    resp = await _save_text_campaign(client, await csrf(client, "/admin/campaigns"), "{{ 1/0 }}")
    preview = await client.get(resp.headers["Location"], params={"openid": "div-0"})
    assert preview.status == 200 and "ZeroDivisionError" in await preview.text()


async def test_templates_past_the_size_limit_are_refused(sched_client, services):
    client = await as_admin(sched_client, services)
    resp = await _save_text_campaign(client, await csrf(client, "/admin/campaigns"), "好" * 4001)
    assert resp.status == 400 and "超过上限" in await resp.text()


@pytest.mark.parametrize("days", ["1 OR 1=1", "999999999", "-1", "３"])
async def test_a_bad_active_within_days_is_a_form_error_and_the_page_still_works(sched_client, services, days):
    client = await as_admin(sched_client, services)
    token = await csrf(client, "/admin/audiences")
    resp = await client.post("/admin/audiences", data={"_csrf": token, "name": "活跃", "active_within_days": days})
    assert resp.status == 400 and "近 N 天活跃须为 0-3650 的整数" in await resp.text()
    assert (await client.get("/admin/audiences")).status == 200
    async with services.db() as session:
        assert await session.scalar(select(Audience.id)) is None


async def test_an_audience_rule_saved_before_the_checks_shows_as_invalid(sched_client, services):
    client = await as_admin(sched_client, services)
    async with services.db.begin() as session:
        session.add(Audience(name="旧规则", rule={"active_within_days": 999999999}))
    page = await client.get("/admin/audiences")
    assert page.status == 200 and "规则无效" in await page.text()
