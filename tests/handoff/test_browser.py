"""In a real browser: a resident in the simulator asks for help, a counsellor in the console takes it, they talk;
and what the counsellor wrote and noted is there when the resident comes back, for every later reader.

Headless Chromium (Debian's) driven by Playwright against a real server on a free port, with the
mock WeChat API behind it: the resident sees the counsellor's message arrive in the simulator's
live inbox exactly as a customer-service message would reach WeChat.
"""
from __future__ import annotations

import json
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


# The first case's words, and what the resident writes in it: everywhere the case is read later.
RESIDENT_WORDS = "这几天总是半夜醒来，白天也提不起劲"
COUNSELLOR_WORDS = "我们约好明天下午再联系，好吗？"
NOTE = "来访者睡眠差，约好次日回访"
SUMMARY = "情绪平稳，已约回访"


async def logged_in(browser, base: str, path: str, username: str):
    """A staff member's own browser context, logged in through the real form on the way to `path`."""
    page = await (await browser.new_context(accept_downloads=True)).new_page()
    await page.goto(base + path)
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(lambda url: "/login" not in url, timeout=TIMEOUT)
    return page


async def a_case_taken_by_wang(browser, base: str):
    """The resident asks for a person in the simulator; 王咨询师 takes the case. Returns both pages and the case id."""
    resident = await (await browser.new_context()).new_page()
    wang = await logged_in(browser, base, "/console", "wang")
    await wang.wait_for_selector("#live.ok", timeout=TIMEOUT)
    await resident.goto(base + "/simulator")
    await resident.fill("#text", "人工")
    await resident.click("#send")
    await wang.wait_for_selector("#waiting [data-case]", timeout=TIMEOUT)
    await wang.click("#take-next")
    await wang.wait_for_selector("#composer:not([hidden])", timeout=TIMEOUT)
    return resident, wang, int(await wang.get_attribute("#mine [data-case]", "data-case"))


async def test_a_counsellors_words_and_notes_follow_the_resident_into_every_later_view(server, browser):
    """Issue 13: what a counsellor wrote and noted in a closed case is in the resident's next case,
    the supervisor's view, review search, the review conversation page and its export."""
    base = str(server.make_url("")).rstrip("/")
    services = server.app[SERVICES]
    for username, roles in (("li", ["counsellor"]), ("zhou", ["supervisor"]), ("chen", ["reviewer"])):
        staff = await add_user(services.db, username, PASSWORD, roles, display_name=username + "老师")
        if roles != ["reviewer"]:
            async with services.db.begin() as session:
                await set_weekly(session, staff.id, roles[0], list(range(7)), "00:00", "24:00")

    resident, wang, _ = await a_case_taken_by_wang(browser, base)
    await resident.fill("#text", RESIDENT_WORDS)
    await resident.click("#send")
    await wang.wait_for_selector(f"#msgs >> text={RESIDENT_WORDS}", timeout=TIMEOUT)
    await wang.fill("#composer textarea", COUNSELLOR_WORDS)
    await wang.click("#send")
    await resident.wait_for_selector(f"#chat >> text={COUNSELLOR_WORDS}", timeout=TIMEOUT)
    await wang.fill("#note-text", NOTE)
    await wang.click("#add-note")
    await wang.wait_for_selector(f"#msgs .note >> text={NOTE}", timeout=TIMEOUT)
    await wang.select_option("#outcome", "follow_up")
    await wang.select_option("#rating", "1")
    await wang.fill("#summary", SUMMARY)
    await wang.click("#close")
    await wang.wait_for_selector("#chat-status >> text=已结案", timeout=TIMEOUT)

    # The resident comes back in the same conversation and asks for a person again.
    await resident.fill("#text", "我又睡不着了")
    await resident.click("#send")
    await resident.fill("#text", "人工")
    await resident.click("#send")

    # (a) The counsellor who takes the new case reads the first case's chat, its notes and summary.
    li = await logged_in(browser, base, "/console", "li")
    await li.wait_for_selector("#waiting [data-case]", timeout=TIMEOUT)
    await li.click("#take-next")
    await li.wait_for_selector("#composer:not([hidden])", timeout=TIMEOUT)
    await li.wait_for_selector(f"#msgs >> text={COUNSELLOR_WORDS}", timeout=TIMEOUT)
    await li.wait_for_selector(f"#record >> text={NOTE}", timeout=TIMEOUT)
    await li.wait_for_selector(f"#record >> text={SUMMARY}", timeout=TIMEOUT)
    second_case = await li.get_attribute("#mine [data-case]", "data-case")

    # (b) The supervisor watching the new case reads the same.
    zhou = await logged_in(browser, base, "/console/supervisor", "zhou")
    await zhou.click(f"#cases tr >> text=#{second_case}")
    await zhou.wait_for_selector(f"#msgs >> text={COUNSELLOR_WORDS}", timeout=TIMEOUT)
    await zhou.wait_for_selector(f"#watch-record >> text={NOTE}", timeout=TIMEOUT)
    await zhou.wait_for_selector(f"#watch-record >> text={SUMMARY}", timeout=TIMEOUT)

    # (c) A reviewer finds the counsellor's words in search: the first case is closed.
    chen = await logged_in(browser, base, "/review", "chen")
    await chen.fill("input[name=q]", "明天下午再联系")
    await chen.click("form.filters button[type=submit]")
    await chen.wait_for_selector(f"td.content >> text={COUNSELLOR_WORDS}", timeout=TIMEOUT)

    # (d) The conversation page: the closed case's chat, note and summary, and nothing of the live case.
    await chen.click("a[href^='/review/conversations/']")
    await chen.wait_for_selector(f".msg >> text={COUNSELLOR_WORDS}", timeout=TIMEOUT)
    page = await chen.content()
    assert NOTE in page and SUMMARY in page and RESIDENT_WORDS in page
    assert "我又睡不着了" not in page  # the live case's, read in the console

    # (e) The conversation's export, downloaded: the counsellor's message, the note and the summary.
    async with chen.expect_download() as downloading:
        await chen.click("a[href$='/export.json']")
    exported = json.loads(Path(await (await downloading.value).path()).read_text(encoding="utf-8"))
    assert COUNSELLOR_WORDS in [m["content"] for m in exported["messages"] if m["sender"] == "counsellor"]
    [case] = exported["cases"]
    assert case["summary"] == SUMMARY and [n["body"] for n in case["notes"]] == [NOTE]
    async with chen.expect_download() as downloading:
        await chen.click("a[href$='/export.csv']")
    assert COUNSELLOR_WORDS in Path(await (await downloading.value).path()).read_text(encoding="utf-8-sig")

    # Issue 18: the reviewer marks the resident's message as one the bot missed, from the same page.
    message = chen.locator(".msg", has_text=RESIDENT_WORDS)
    await message.locator("select[name=level]").select_option("3")
    await message.locator("form.missed button").click()
    await chen.wait_for_selector(".msg >> text=工作人员标注：机器人漏判", timeout=TIMEOUT)
