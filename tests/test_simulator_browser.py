"""The simulator in a real browser shows what the resident's WeChat would: the menu of the
language they chose (the platform's conditional menu for their tag), and a station answer's map
link and numbers to tap."""
from __future__ import annotations

from bot.appkeys import SERVICES
from bot.wechat.menu import load_menus
from bot.wechat.menu_api import publish_menus
from tests.handoff.test_browser import TIMEOUT, browser, pytestmark, server  # noqa: F401


async def menu_names(page) -> list[str]:
    return [await b.text_content() for b in await page.query_selector_all("#menu > button")]


async def test_the_simulator_menu_changes_with_the_chosen_language(server, browser):  # noqa: F811
    await publish_menus(server.app[SERVICES].api, load_menus())
    page = await (await browser.new_context()).new_page()
    await page.goto(str(server.make_url("/simulator")))
    assert await menu_names(page) == ["心理服务", "活动站点", "找咨询师"]

    await page.fill("#text", "English")
    await page.click("#send")
    await page.wait_for_selector("#menu > button >> text=Counsellor", timeout=TIMEOUT)
    assert await menu_names(page) == ["Support", "Near me", "Counsellor"]
    await page.click("#menu > button >> text=Support")
    assert "Self-check" in await page.text_content("#menu .sub")

    await page.fill("#text", "繁體")
    await page.click("#send")
    await page.wait_for_selector("#menu > button >> text=找諮詢師", timeout=TIMEOUT)
    assert await menu_names(page) == ["心理服務", "活動站點", "找諮詢師"]


async def test_a_station_answer_has_a_map_link_and_numbers_to_tap(server, browser):  # noqa: F811
    page = await (await browser.new_context()).new_page()
    await page.goto(str(server.make_url("/simulator")))
    await page.click("#loc")
    await page.click("#places button >> nth=0")
    link = page.locator("#chat a.link", has_text="查看地图").first
    await link.wait_for(timeout=TIMEOUT)
    assert (await link.get_attribute("href")).startswith("https://uri.amap.com/marker?position=")
    calls = [await a.get_attribute("href") for a in await page.query_selector_all("#chat a.tel")]
    assert "tel:12356" in calls and any(href.startswith("tel:0700") for href in calls)
    assert "<a href" not in await page.text_content("#chat")
