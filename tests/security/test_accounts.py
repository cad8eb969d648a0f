"""Staff accounts: passwords worth having, usernames that mean one person, and sessions that end
when the password changes or the person signs out everywhere."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from bot.app import create_app
from bot.appkeys import SERVICES
from bot.auth.users import add_user

PASSWORD = "correct horse battery"


@pytest.fixture
async def app(app_config):
    return create_app(app_config)


@pytest.fixture
async def browser(aiohttp_client, app):
    """`await browser()` opens another browser on the one server: its own cookies. Ada has an account."""
    first = await aiohttp_client(app)
    await app[SERVICES].redis.flushdb()
    await add_user(app[SERVICES].db, "ada", PASSWORD, ["counsellor"])

    async def open_one():
        return await aiohttp_client(first.server)
    return open_one


async def login(client, username: str = "ada", password: str = PASSWORD) -> int:
    page = await client.get("/login")
    token = re.search(r'name="_csrf" value="([^"]+)"', await page.text()).group(1)
    resp = await client.post("/login", data={"_csrf": token, "username": username, "password": password},
                             allow_redirects=False)
    return resp.status


async def logged_in(client) -> bool:
    return (await client.get("/account", allow_redirects=False)).status == 200


async def form_token(client, path: str = "/account") -> str:
    return re.findall(r'name="_csrf" value="([^"]+)"', await (await client.get(path)).text())[-1]


def cli(database_url: str, *args: str, password: str = "a different long password") -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "XZ_WECHAT_TOKEN": "t", "XZ_WECHAT_APPID": "wx", "XZ_WECHAT_SECRET": "s",
           "XZ_DATABASE_URL": database_url, "XZ_NEW_USER_PASSWORD": password}
    return subprocess.run([sys.executable, "-m", "bot.cli", "user", "add", *args], env=env, capture_output=True,
                          text=True)


async def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(browser):
    desk, phone = await browser(), await browser()
    await login(desk), await login(phone)
    resp = await desk.post("/account/password", data={
        "_csrf": await form_token(desk), "current": PASSWORD, "new": "a brand new passphrase",
        "confirm": "a brand new passphrase"}, allow_redirects=False)
    assert resp.status == 303
    assert await logged_in(desk) and not await logged_in(phone)
    assert await login(phone, password="a brand new passphrase") == 302


async def test_a_password_change_needs_the_current_password(browser):
    desk = await browser()
    await login(desk)
    resp = await desk.post("/account/password", data={"_csrf": await form_token(desk), "current": "not it",
                                                      "new": "a brand new passphrase", "confirm": "a brand new passphrase"})
    assert resp.status == 400 and "当前密码不对" in await resp.text()


async def test_user_add_reset_ends_every_session_of_that_person(browser, app_config):
    desk = await browser()
    await login(desk)
    assert await logged_in(desk)
    result = cli(app_config.database_url, "ada", "--role", "counsellor", "--reset")
    assert result.returncode == 0, result.stderr
    assert not await logged_in(desk)


async def test_sign_out_everywhere_ends_every_session_of_that_person_only(browser, app):
    desk, phone, colleague = await browser(), await browser(), await browser()
    await add_user(app[SERVICES].db, "cai", PASSWORD, ["counsellor"])
    await login(desk), await login(phone), await login(colleague, "cai")
    resp = await desk.post("/logout", data={"_csrf": await form_token(desk), "everywhere": "1"},
                           allow_redirects=False)
    assert resp.status == 302
    assert not await logged_in(desk) and not await logged_in(phone) and await logged_in(colleague)


@pytest.mark.parametrize("password", ["12345678", "Password", "  qwertyuiop  ", "        ", "woaini1314"])
async def test_common_and_blank_passwords_are_refused_on_the_account_page(browser, password):
    desk = await browser()
    await login(desk)
    resp = await desk.post("/account/password", data={"_csrf": await form_token(desk), "current": PASSWORD,
                                                      "new": password, "confirm": password})
    assert resp.status == 400 and ("密码" in await resp.text())
    assert await login(await browser()) == 302  # the old password still works


@pytest.mark.parametrize("password,reason", [("12345678", "太常见"), ("           ", "空格"), ("zhangsan", "用户名相同")])
def test_user_add_refuses_common_blank_and_username_passwords(clean_database, password, reason):
    result = cli(clean_database, "zhangsan", "--role", "counsellor", password=password)
    assert result.returncode == 2 and reason in result.stderr


def test_usernames_are_trimmed_and_case_folded(clean_database):
    assert cli(clean_database, "  Wang.Li ", "--role", "counsellor").returncode == 0
    again = cli(clean_database, "WANG.LI", "--role", "counsellor")
    assert again.returncode == 2 and "already exists" in again.stderr


@pytest.mark.parametrize("username", ["wang li", "王老师", "a;drop", "_dash", "x" * 65, "   "])
def test_usernames_outside_the_safe_alphabet_are_refused(clean_database, username):
    result = cli(clean_database, username, "--role", "counsellor")
    assert result.returncode == 2 and "用户名" in result.stderr


async def test_login_takes_the_username_in_any_case_and_with_spaces(browser):
    assert await login(await browser(), " ADA ") == 302
