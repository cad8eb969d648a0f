"""Refusals in the staff areas: a page keeps the navigation and says where to go; an API call gets JSON."""
from __future__ import annotations

import pytest

from bot.app import create_app
from bot.appkeys import SERVICES
from bot.auth.users import add_user
from tests.test_auth import PASSWORD, login


@pytest.fixture
async def staff(aiohttp_client, app_config):
    app = create_app(app_config)
    client = await aiohttp_client(app)
    await app[SERVICES].redis.flushdb()
    await add_user(app[SERVICES].db, "cai", PASSWORD, ["counsellor"])
    await add_user(app[SERVICES].db, "rui", PASSWORD, ["reviewer"])
    await add_user(app[SERVICES].db, "ada", PASSWORD, ["admin"])
    return client


async def test_counsellor_opening_admin_sees_navigation_and_where_to_go(staff):
    await login(staff, "cai")
    resp = await staff.get("/admin")
    page = await resp.text()
    assert resp.status == 403 and resp.content_type == "text/html"
    assert "<nav>" in page and 'href="/console"' in page
    assert "无权访问" in page and "你可以前往" in page


@pytest.mark.parametrize("path", ["/console/api/queue", "/review/api/search", "/console/api/staff"])
async def test_anonymous_api_call_gets_json_401(staff, path):
    resp = await staff.get(path, allow_redirects=False)
    assert resp.status == 401 and resp.content_type == "application/json"
    assert "error" in await resp.json()


@pytest.mark.parametrize("who, path", [("rui", "/console/api/queue"), ("rui", "/console/api/staff"), ("ada", "/review/api/search")])
async def test_wrong_role_api_call_gets_json_403(staff, who, path):
    await login(staff, who)
    resp = await staff.get(path)
    assert resp.status == 403 and resp.content_type == "application/json"
    assert (await resp.json())["error"]


async def test_api_call_without_csrf_token_gets_json_403(staff):
    await login(staff, "cai")
    resp = await staff.post("/console/api/take", json={})
    assert resp.status == 403 and resp.content_type == "application/json"
    assert "CSRF" in (await resp.json())["error"]


async def test_json_client_of_an_admin_endpoint_gets_json(staff):
    await login(staff, "cai")
    resp = await staff.get("/admin/runs/1/progress", headers={"Accept": "application/json"})
    assert resp.status == 403 and resp.content_type == "application/json"


async def test_in_a_browser_a_counsellor_at_admin_sees_the_navigation_and_a_way_on(aiohttp_server, app_config, tmp_path):
    from tests.handoff.test_browser import ARGS, CHROMIUM
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium")
    playwright_api = pytest.importorskip("playwright.async_api")
    app = create_app(app_config)
    server = await aiohttp_server(app)
    await app[SERVICES].redis.flushdb()
    await add_user(app[SERVICES].db, "cai", PASSWORD, ["counsellor"])
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = await (await browser.new_context(viewport={"width": 1280, "height": 720})).new_page()
        await page.goto(str(server.make_url("/admin")))
        await page.fill("input[name=username]", "cai")
        await page.fill("input[name=password]", PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_selector("text=无权访问", timeout=10_000)
        assert await page.is_visible("header.top nav a[href='/console']")
        assert await page.is_visible("main a[href='/console']")  # where to go instead
        await page.screenshot(path=str(tmp_path / "forbidden-admin.png"))
        await browser.close()
