"""Staff login, roles, CSRF, session expiry and login throttling."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest
from aiohttp import web
from sqlalchemy import select

from bot.app import create_app
from bot.appkeys import SERVICES
from bot.auth import SESSIONS, require_role
from bot.auth.sessions import IDLE_SECONDS
from bot.auth.users import add_user, authenticate
from bot.models import StaffUser

PASSWORD = "correct horse battery"


async def admin_only(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


@pytest.fixture
async def staff_client(aiohttp_client, app_config):
    app = create_app(app_config)
    app.router.add_route("*", "/api/test-admin", require_role("admin")(admin_only))
    client = await aiohttp_client(app)
    services = app[SERVICES]
    await services.redis.flushdb()
    await add_user(services.db, "ada", PASSWORD, ["admin"])
    await add_user(services.db, "cai", PASSWORD, ["counsellor"])
    return client


async def login(client, username: str, password: str = PASSWORD, next_path: str = ""):
    page = await client.get("/login")
    token = re.search(r'name="_csrf" value="([^"]+)"', await page.text()).group(1)
    return await client.post("/login", data={"_csrf": token, "username": username, "password": password,
                                             "next": next_path}, allow_redirects=False)


@pytest.mark.parametrize("path", ["/console", "/admin", "/review", "/admin/anything/deep"])
async def test_anonymous_visitors_of_staff_areas_go_to_login(staff_client, path):
    resp = await staff_client.get(path, allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"].startswith("/login?next=")


async def test_anonymous_api_call_gets_401(staff_client):
    assert (await staff_client.get("/api/test-admin")).status == 401


async def test_login_with_right_password_sets_an_httponly_session(staff_client):
    resp = await login(staff_client, "ada", next_path="/api/test-admin")
    assert resp.status == 302 and resp.headers["Location"] == "/api/test-admin"
    assert "HttpOnly" in resp.headers["Set-Cookie"] and "SameSite=Lax" in resp.headers["Set-Cookie"]
    assert (await staff_client.get("/api/test-admin")).status == 200


async def test_wrong_password_is_refused(staff_client):
    assert (await login(staff_client, "ada", "wrong password")).status == 401
    assert (await staff_client.get("/api/test-admin")).status == 401


async def test_login_refuses_offsite_next(staff_client):
    resp = await login(staff_client, "ada", next_path="//evil.example/")
    assert resp.headers["Location"] == "/admin"


async def test_wrong_role_is_forbidden(staff_client):
    await login(staff_client, "cai")
    assert (await staff_client.get("/api/test-admin")).status == 403


async def test_unsafe_method_without_csrf_token_is_refused(staff_client):
    await login(staff_client, "ada")
    assert (await staff_client.post("/api/test-admin", json={})).status == 403
    session_id = staff_client.session.cookie_jar.filter_cookies(staff_client.make_url("/"))["xz_session"].value
    session = await staff_client.server.app[SESSIONS].get(session_id)
    ok = await staff_client.post("/api/test-admin", json={}, headers={"X-CSRF-Token": session.csrf})
    assert ok.status == 200


async def test_repeated_failures_are_throttled_even_with_the_right_password(staff_client):
    for _ in range(5):
        assert (await login(staff_client, "ada", "nope nope")).status == 401
    assert (await login(staff_client, "ada")).status == 429


async def test_logout_ends_the_session(staff_client):
    await login(staff_client, "ada")
    page = await staff_client.get("/login")
    token = re.search(r'name="_csrf" value="([^"]+)"', await page.text()).group(1)
    sid = staff_client.session.cookie_jar.filter_cookies(staff_client.make_url("/"))["xz_session"].value
    csrf = (await staff_client.server.app[SESSIONS].get(sid)).csrf
    assert token  # the login page still renders for a logged-in user
    await staff_client.post("/logout", data={"_csrf": csrf}, allow_redirects=False)
    assert await staff_client.server.app[SESSIONS].get(sid) is None
    assert (await staff_client.get("/api/test-admin")).status == 401


async def test_sessions_expire_when_idle(staff_client):
    """The idle timeout is the session key's time to live in Redis, started again by each use."""
    store, redis = staff_client.server.app[SESSIONS], staff_client.server.app[SERVICES].redis
    session = await store.create(1)
    key = f"xz:session:{session.sid}"
    assert IDLE_SECONDS - 5 <= await redis.ttl(key) <= IDLE_SECONDS
    await redis.expire(key, 60)  # most of the idle period has gone by
    assert await store.get(session.sid) is not None
    assert await redis.ttl(key) > IDLE_SECONDS - 5  # used again: a whole idle period from now
    await redis.expire(key, 0)  # the idle period ran out: Redis drops the key, as its TTL does
    assert await store.get(session.sid) is None


async def test_passwords_are_stored_as_argon2_hashes(staff_client):
    async with staff_client.server.app[SERVICES].db() as session:
        row = await session.scalar(select(StaffUser).where(StaffUser.username == "ada"))
    assert row.password_hash.startswith("$argon2") and PASSWORD not in row.password_hash
    assert await authenticate(staff_client.server.app[SERVICES].db, "ada", PASSWORD) is not None


def test_user_add_command_creates_an_account(clean_database, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "XZ_WECHAT_TOKEN": "t", "XZ_WECHAT_APPID": "wx", "XZ_WECHAT_SECRET": "s",
           "XZ_DATABASE_URL": clean_database, "XZ_NEW_USER_PASSWORD": "a long password"}
    cmd = [sys.executable, "-m", "bot.cli", "user", "add", "zhang", "--role", "counsellor", "--role", "supervisor"]
    ok = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert ok.returncode == 0 and "zhang" in ok.stdout
    again = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert again.returncode == 2 and "already exists" in again.stderr


@pytest.mark.parametrize("path", ["/login", "/healthz", "/console", "/no-such-page"])
async def test_every_response_carries_security_headers(staff_client, path):
    resp = await staff_client.get(path, allow_redirects=False)
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]


async def test_staff_pages_are_not_cached(staff_client):
    assert (await staff_client.get("/login")).headers["Cache-Control"] == "no-store"
