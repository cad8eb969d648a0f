"""In Chromium, what a console needs all day (issue 14 item 5): browser notifications (granted in the
test browser) for a new high-risk case and a new message in one's own case, unread counts per case
and in the tab title, canned responses a supervisor edits and a counsellor inserts with `/`, the
48-hour allowance updated when the resident writes, and call-back requests with their case.
"""
from __future__ import annotations

from bot.appkeys import SERVICES
from bot.auth.users import add_user
from bot.stores.cs_window import AFTER_MESSAGE
from handoff import cases
from handoff.roster import set_weekly
from tests.handoff.conftest import PASSWORD
from tests.handoff.test_browser import TIMEOUT, browser, logged_in, server  # noqa: F401 (fixtures)

# Notifications the page creates are recorded, so the test reads what a counsellor would see.
RECORD_NOTIFICATIONS = """
window.__notes = [];
const Real = window.Notification;
class Recorded extends Real {
  constructor(title, options) { window.__notes.push(title); super(title, options); }
}
Object.defineProperty(Recorded, 'permission', {get: () => Real.permission});
Recorded.requestPermission = (...a) => Real.requestPermission(...a);
window.Notification = Recorded;
"""


async def console_with_notifications(browser, base: str, username: str):
    context = await browser.new_context()
    await context.grant_permissions(["notifications"], origin=base)
    await context.add_init_script(RECORD_NOTIFICATIONS)
    page = await context.new_page()
    await page.goto(base + "/console")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_selector("#live.ok", timeout=TIMEOUT)
    return page


async def resident_says(page, text: str) -> None:
    """Write in the simulator and wait until the webhook has answered (the echo stops being pending)."""
    await page.fill("#text", text)
    await page.click("#send")
    await page.wait_for_selector(".pending", state="detached", timeout=TIMEOUT)


async def notified(page, title: str) -> None:
    await page.wait_for_function("t => window.__notes.some(n => n.includes(t))", arg=title, timeout=TIMEOUT)


async def test_notifications_and_unread_counts(server, browser):  # noqa: F811
    base = str(server.make_url("")).rstrip("/")
    services = server.app[SERVICES]
    wang = await console_with_notifications(browser, base, "wang")
    assert await wang.is_hidden("#notify-on")  # permission already granted: nothing to ask
    first = await (await browser.new_context()).new_page()
    second = await (await browser.new_context()).new_page()
    for resident in (first, second):
        await resident.goto(base + "/simulator")
    # The simulator speaks as one resident per browser context, each with its own openid.
    await resident_says(first, "人工")
    await wang.wait_for_selector("#waiting [data-case]", timeout=TIMEOUT)
    await wang.click("#take-next")
    await wang.wait_for_selector("#composer:not([hidden])", timeout=TIMEOUT)
    first_case = int(await wang.get_attribute("#mine [data-case]", "data-case"))

    await resident_says(second, "人工")
    await wang.wait_for_selector("#waiting [data-case]", timeout=TIMEOUT)
    second_case = int(await wang.get_attribute("#waiting [data-case]", "data-case"))
    assert await wang.evaluate("window.__notes.length") == 0  # a level-0 request is not a desktop alarm
    await cases.raise_level(services, second_case, 4, "测试")
    await notified(wang, f"新的高风险个案 #{second_case}")

    # Taken, then the counsellor looks at the other case while this resident writes twice.
    await wang.click(f"#waiting [data-case='{second_case}'] button")
    await wang.wait_for_selector(f"#mine [data-case='{second_case}']", timeout=TIMEOUT)
    await wang.click(f"#mine [data-case='{first_case}']")
    await wang.wait_for_selector(f"#chat-title >> text=个案 #{first_case}", timeout=TIMEOUT)
    await resident_says(second, "你好，在吗")
    await notified(wang, f"个案 #{second_case} 有新消息")
    await wang.wait_for_selector(f"#mine [data-case='{second_case}'] .unread >> text=1", timeout=TIMEOUT)
    await resident_says(second, "我还在")
    await wang.wait_for_selector(f"#mine [data-case='{second_case}'] .unread >> text=2", timeout=TIMEOUT)
    await wang.wait_for_function("document.title.startsWith('(2) ')", timeout=TIMEOUT)
    assert not await wang.evaluate("window.__notes.some(n => n.includes('#' + arguments[0]) && n.includes('消息'))"
                                   .replace("arguments[0]", str(first_case)))

    # Opened: read, in the list and in the title.
    await wang.click(f"#mine [data-case='{second_case}']")
    await wang.wait_for_selector(f"#mine [data-case='{second_case}'] .unread", state="detached", timeout=TIMEOUT)
    await wang.wait_for_function("!document.title.startsWith('(')", timeout=TIMEOUT)


async def test_a_supervisors_canned_response_is_inserted_with_a_slash_and_its_variables(server, browser):  # noqa: F811
    base = str(server.make_url("")).rstrip("/")
    services = server.app[SERVICES]
    zhou = await add_user(services.db, "zhou", PASSWORD, ["supervisor"], display_name="周督导")
    async with services.db.begin() as session:
        await set_weekly(session, zhou.id, "supervisor", list(range(7)), "00:00", "24:00")
    supervisor = await logged_in(browser, base, "/console", "zhou")
    await supervisor.click("#canned-admin summary")
    new_row = supervisor.locator("#canned-list [data-canned='']")
    await new_row.locator(".canned-shortcut").fill("wait")
    await new_row.locator(".canned-body").fill("{name}好，我是{counsellor}，请稍等，我马上回复您。")
    await new_row.locator("button >> text=保存").click()
    await supervisor.wait_for_selector("#canned-list [data-canned='wait']", timeout=TIMEOUT)
    assert await supervisor.locator("#canned-list [data-canned='greeting']").count() == 1  # defaults kept

    resident = await (await browser.new_context()).new_page()
    await resident.goto(base + "/simulator")
    await resident_says(resident, "人工")
    wang = await logged_in(browser, base, "/console", "wang")
    await wang.wait_for_selector("#waiting [data-case]", timeout=TIMEOUT)
    await wang.click("#take-next")
    await wang.wait_for_selector("#composer:not([hidden])", timeout=TIMEOUT)
    await wang.wait_for_function("() => day.vars.counsellor === '王咨询师'", timeout=TIMEOUT)  # the case's variables
    await wang.type("#text", "/wa")
    await wang.wait_for_selector("#canned-suggest [data-shortcut='wait']", timeout=TIMEOUT)
    await wang.press("#text", "Enter")
    expected = "您好，我是王咨询师，请稍等，我马上回复您。"
    assert await wang.input_value("#text") == expected
    await wang.click("#send")
    await resident.wait_for_selector(f"#chat >> text={expected}", timeout=TIMEOUT)
    # The counsellor's allowance went down by one; the resident writes and it is full again, live.
    await wang.wait_for_selector(f"#sends-left >> text=还可发送 {AFTER_MESSAGE - 1} 条", timeout=TIMEOUT)
    await resident_says(resident, "好的")
    await wang.wait_for_selector(f"#sends-left >> text=还可发送 {AFTER_MESSAGE} 条", timeout=TIMEOUT)


async def test_a_call_back_request_shows_its_case_and_risk_and_is_marked_done(server, browser):  # noqa: F811
    base = str(server.make_url("")).rstrip("/")
    services = server.app[SERVICES]
    resident = await (await browser.new_context()).new_page()
    await resident.goto(base + "/simulator")
    await resident_says(resident, "人工")
    wang = await logged_in(browser, base, "/console", "wang")
    await wang.wait_for_selector("#waiting [data-case]", timeout=TIMEOUT)
    case_id = int(await wang.get_attribute("#waiting [data-case]", "data-case"))
    await cases.raise_level(services, case_id, 3, "测试")
    await resident_says(resident, "回电 13800138000")
    item = wang.locator("#callbacks [data-callback]")
    await item.locator(f"text=个案 #{case_id}").wait_for(timeout=TIMEOUT)
    assert "13800138000" in await item.inner_text() and await item.locator(".level-3").count() == 1
    await item.locator("button >> text=已回电").click()
    await wang.wait_for_selector("#callbacks-card[hidden]", state="attached", timeout=TIMEOUT)
