"""In a real browser whose own clock is in another zone, the console shows a message written at
00:10 Beijing time (16:10 UTC the day before) at 00:10: the service's zone, not the browser's."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import update

from bot.appkeys import SERVICES
from bot.models import Message
from tests.handoff.conftest import PASSWORD
from tests.handoff.test_browser import CHROMIUM, TIMEOUT, browser, pytestmark, server  # noqa: F401

WRITTEN = datetime(2026, 6, 1, 16, 10, tzinfo=timezone.utc)


async def test_console_shows_the_service_zone_whatever_the_browser_zone(server, browser):  # noqa: F811
    base = str(server.make_url("")).rstrip("/")
    resident = await (await browser.new_context()).new_page()
    counsellor = await (await browser.new_context(timezone_id="America/Los_Angeles")).new_page()
    await counsellor.goto(base + "/console")
    await counsellor.fill("input[name=username]", "wang")
    await counsellor.fill("input[name=password]", PASSWORD)
    await counsellor.click("button[type=submit]")

    await resident.goto(base + "/simulator")
    await resident.fill("#text", "人工")
    await resident.click("#send")
    await counsellor.wait_for_selector("#waiting [data-case]", timeout=TIMEOUT)
    async with server.app[SERVICES].db.begin() as session:
        await session.execute(update(Message).where(Message.content == "人工").values(created_at=WRITTEN))

    await counsellor.click("#take-next")
    await counsellor.wait_for_selector("#msgs >> text=人工", timeout=TIMEOUT)
    shown = await counsellor.text_content("#msgs")
    assert "00:10:00" in shown and "09:10:00" not in shown
