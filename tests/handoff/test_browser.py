"""In a real browser: a resident in the simulator asks for help, a counsellor in the console takes it, they talk.

Headless Chromium (Debian's) driven by Playwright against a real server on a free port, with the
mock WeChat API behind it: the resident sees the counsellor's message arrive in the simulator's
live inbox exactly as a customer-service message would reach WeChat.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import create_app
from bot.appkeys import SERVICES
from bot.auth.users import add_user
from handoff.roster import set_weekly
from tests.conftest import make_config
from tests.handoff.conftest import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
TIMEOUT = 10_000  # ms, for each thing we wait to see

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)")


@pytest.fixture
async def server(aiohttp_server, clean_database, mock_wechat):
    app = create_app(make_config(clean_database, str(mock_wechat.make_url("")).rstrip("/")))
    running = await aiohttp_server(app)
    services = app[SERVICES]
    await services.redis.flushdb()
    staff = await add_user(services.db, "wang", PASSWORD, ["counsellor"], display_name="王咨询师")
    async with services.db.begin() as session:
        await set_weekly(session, staff.id, "counsellor", list(range(7)), "00:00", "24:00")
    return running


@pytest.fixture
async def browser():
    playwright_api = pytest.importorskip("playwright.async_api")
    async with playwright_api.async_playwright() as p:
        launched = await p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        await launched.close()


async def test_resident_and_counsellor_talk_live_in_the_browser(server, browser):
    base = str(server.make_url("")).rstrip("/")
    resident = await (await browser.new_context()).new_page()
    counsellor = await (await browser.new_context()).new_page()

    await counsellor.goto(base + "/console")
    await counsellor.fill("input[name=username]", "wang")
    await counsellor.fill("input[name=password]", PASSWORD)
    await counsellor.click("button[type=submit]")
    await counsellor.wait_for_selector("#live.ok", timeout=TIMEOUT)

    await resident.goto(base + "/simulator")
    await resident.fill("#text", "人工")
    await resident.click("#send")
    await resident.wait_for_selector("#chat >> text=第 1 位", timeout=TIMEOUT)

    await counsellor.wait_for_selector("#waiting [data-case]", timeout=TIMEOUT)  # arrives live, no reload
    await counsellor.click("#take-next")
    await counsellor.wait_for_selector("#mine [data-case]", timeout=TIMEOUT)
    await counsellor.wait_for_selector("#composer:not([hidden])", timeout=TIMEOUT)

    await resident.fill("#text", "我最近压力很大，睡不着")
    await resident.click("#send")
    await counsellor.wait_for_selector("#msgs >> text=我最近压力很大，睡不着", timeout=TIMEOUT)

    await counsellor.fill("#composer textarea", "我在这里陪着你，可以多说一些吗？")
    await counsellor.click("#send")
    await resident.wait_for_selector("#chat >> text=我在这里陪着你，可以多说一些吗？", timeout=TIMEOUT)
    assert await counsellor.text_content("#send-error") == ""
