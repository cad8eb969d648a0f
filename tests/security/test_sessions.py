"""Sessions and login beyond tests/test_auth.py: sliding and absolute expiry over HTTP, throttling by
address, fixation, cookie flags over HTTPS, HSTS, and hostile tokens that must be refused, not crash."""
from __future__ import annotations

import json
import re
import time

import pytest
from aiohttp.test_utils import make_mocked_request
from aiohttp import web

from bot.app import create_app
from bot.appkeys import SERVICES
from bot.auth import COOKIE, SESSIONS
from bot.auth.sessions import ABSOLUTE_SECONDS, IDLE_SECONDS
from bot.auth.throttle import Limits
from bot.auth.users import add_user
from bot.security_headers import add_security_headers
from tests.conftest import make_config

PASSWORD = "sessions-password-1"


@pytest.fixture
async def staff(client, services):
    await add_user(services.db, "ada", PASSWORD, ["admin"])
    await add_user(services.db, "cai", PASSWORD, ["counsellor"])
    return client


def session_key(sid: str) -> str:
    return f"xz:session:{sid}"


async def login(client, username: str, password: str = PASSWORD):
    page = await client.get("/login")  # a logged-in user's page also has the logout form's token: take the last
    token = re.findall(r'name="_csrf" value="([^"]+)"', await page.text())[-1]
    return await client.post("/login", data={"_csrf": token, "username": username, "password": password},
                             allow_redirects=False)


async def test_each_request_slides_the_idle_expiry_back_to_its_full_length(staff, services):
    eve = await add_user(services.db, "eve", PASSWORD, ["admin"])
    session = await staff.server.app[SESSIONS].create(eve.id, eve.credential)
    await services.redis.expire(session_key(session.sid), 60)
    resp = await staff.get("/admin", headers={"Cookie": f"{COOKIE}={session.sid}"}, allow_redirects=False)
    assert resp.status == 200
    assert await services.redis.ttl(session_key(session.sid)) > IDLE_SECONDS - 60


async def test_a_session_past_its_absolute_lifetime_is_refused_and_dropped_however_active(staff, services):
    old = await add_user(services.db, "old", PASSWORD, ["admin"])
    session = await staff.server.app[SESSIONS].create(old.id, old.credential)
    key = session_key(session.sid)
    data = json.loads(await services.redis.get(key))
    data["created"] = time.time() - ABSOLUTE_SECONDS - 1
    await services.redis.set(key, json.dumps(data), keepttl=True)
    resp = await staff.get("/admin", headers={"Cookie": f"{COOKIE}={session.sid}"}, allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"].startswith("/login")
    assert await services.redis.exists(key) == 0


async def test_failures_from_one_address_are_throttled_across_usernames(staff):
    for n in range(Limits().address):
        assert (await login(staff, f"nobody-{n}", "wrong password")).status == 401
    assert (await login(staff, "ada")).status == 429  # the right password, but from the same address


async def test_login_issues_a_new_session_id_and_drops_the_old_one(staff):
    await login(staff, "ada")
    first = staff.session.cookie_jar.filter_cookies(staff.make_url("/"))[COOKIE].value
    await login(staff, "cai")
    second = staff.session.cookie_jar.filter_cookies(staff.make_url("/"))[COOKIE].value
    assert first != second
    assert await staff.server.app[SESSIONS].get(first) is None


@pytest.fixture
async def https_client(aiohttp_client, clean_database, mock_wechat):
    config = make_config(clean_database, str(mock_wechat.make_url("")).rstrip("/"), XZ_COOKIE_SECURE="1")
    client = await aiohttp_client(create_app(config))
    await client.server.app[SERVICES].redis.flushdb()
    await add_user(client.server.app[SERVICES].db, "ada", PASSWORD, ["admin"])
    return client


def cookie_flags(resp, name: str) -> str:
    [header] = [h for h in resp.headers.getall("Set-Cookie") if h.startswith(name + "=")]
    return header


async def test_behind_https_every_cookie_is_secure_httponly_and_samesite(https_client):
    page = await https_client.get("/login")
    login_csrf = cookie_flags(page, "xz_login_csrf")
    assert "Secure" in login_csrf and "HttpOnly" in login_csrf and "SameSite=Strict" in login_csrf
    https_client.session.cookie_jar._unsafe = True  # the test server is plain http; keep Secure cookies
    token = re.search(r'name="_csrf" value="([^"]+)"', await page.text()).group(1)
    resp = await https_client.post("/login", data={"_csrf": token, "username": "ada", "password": PASSWORD},
                                   cookies={"xz_login_csrf": token}, allow_redirects=False)
    assert resp.status == 302
    session = cookie_flags(resp, COOKIE)
    assert "Secure" in session and "HttpOnly" in session and "SameSite=Lax" in session
    assert f"Max-Age={IDLE_SECONDS}" in session


@pytest.mark.parametrize("scheme,hsts", [("https", True), ("http", False)])
async def test_strict_transport_security_only_over_https(scheme, hsts):
    request = make_mocked_request("GET", "/login").clone(scheme=scheme)
    response = web.Response()
    await add_security_headers(request, response)
    assert ("Strict-Transport-Security" in response.headers) is hsts
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response.headers["Permissions-Policy"]


@pytest.mark.parametrize("token", ["令牌", "\u00e9" * 10, ""])
async def test_a_hostile_csrf_header_is_refused_not_a_crash(staff, services, token):
    hdr = await add_user(services.db, "hdr", PASSWORD, ["admin"])
    session = await staff.server.app[SESSIONS].create(hdr.id, hdr.credential)
    resp = await staff.post("/admin/tags", headers={"Cookie": f"{COOKIE}={session.sid}",
                                                   "X-CSRF-Token": token.encode().decode("latin-1")}, data=b"")
    assert resp.status == 403


@pytest.mark.parametrize("form_token", ["令牌", "\u00e9"])
async def test_hostile_login_and_logout_form_tokens_are_refused_not_a_crash(staff, form_token):
    await staff.get("/login")
    resp = await staff.post("/login", data={"_csrf": form_token, "username": "ada", "password": PASSWORD},
                            allow_redirects=False)
    assert resp.status == 403
    await login(staff, "ada")
    resp = await staff.post("/logout", data={"_csrf": form_token}, allow_redirects=False)
    assert resp.status == 403
