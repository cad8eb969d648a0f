"""In Chromium: an admin schedules a campaign inside quiet hours and the page shows when it will really
go out, in local time (XZ_TIMEZONE), beside the card the resident will see. A screenshot is kept."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

from bot import localtime
from bot.app import create_app
from bot.appkeys import SERVICES
from bot.auth.users import add_user
from bot.db import utcnow
from scheduler.web import SETTINGS
from tests.handoff.test_browser import ARGS, CHROMIUM, TIMEOUT
from tests.scheduler.conftest import TEST_SETTINGS
from tests.test_auth import PASSWORD

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)")


@pytest.fixture
async def admin_server(aiohttp_server, app_config):
    app = create_app(app_config)
    app[SETTINGS] = TEST_SETTINGS.with_(quiet_start=time(21, 30), quiet_end=time(8, 0))
    server = await aiohttp_server(app)
    await app[SERVICES].redis.flushdb()
    await add_user(app[SERVICES].db, "ada", PASSWORD, ["admin"])
    return server


async def test_a_campaign_scheduled_in_quiet_hours_shows_its_real_send_time(admin_server, tmp_path):
    playwright_api = pytest.importorskip("playwright.async_api")
    day = localtime.local(utcnow()).date() + timedelta(days=1)
    planned = datetime.combine(day, time(23, 0))
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = await (await browser.new_context(viewport={"width": 1280, "height": 1000})).new_page()
        await page.goto(str(admin_server.make_url("/admin/campaigns")))
        await page.fill("input[name=username]", "ada")
        await page.fill("input[name=password]", PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_selector("#template-choice", timeout=TIMEOUT)
        await page.fill("input[name=name]", "睡眠讲座提醒")
        await page.select_option("#template-choice", "EVENT_REMINDER")
        assert await page.is_visible("input[name='field.EVENT_REMINDER.thing1']")
        assert not await page.is_visible("input[name='field.SERVICE_NOTICE.thing1']")  # only the chosen template's
        await page.fill("input[name='field.EVENT_REMINDER.thing1']", "睡眠讲座")
        await page.fill("input[name='field.EVENT_REMINDER.time2']", f"{day} 19:00")
        await page.fill("input[name='field.EVENT_REMINDER.thing3']", "{{ name }}的社区服务站")
        await page.select_option("select[name=kind]", "once")
        await page.fill("input[name=at]", planned.strftime("%Y-%m-%dT%H:%M"))
        await page.click("form[action='/admin/campaigns'] button[type=submit]")
        await page.wait_for_selector("#quiet-warning", timeout=TIMEOUT)
        assert await page.text_content("#real-send-time") == f"{day + timedelta(days=1)} 08:00"
        assert f"{day} 23:00" in await page.text_content("#quiet-warning")
        card = await page.text_content("#template-card")
        assert "活动名称" in card and "睡眠讲座" in card and "小李的社区服务站" in card and "thing1" not in card
        await page.screenshot(path=str(tmp_path / "campaign-quiet-hours.png"), full_page=True)
        await browser.close()
