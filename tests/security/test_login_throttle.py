"""Login throttling behind nginx: counted per real client, so a stranger cannot lock the night shift out.

The test client connects from 127.0.0.1, a trusted proxy by default (XZ_TRUSTED_PROXIES), so its
X-Forwarded-For stands for the client nginx would have seen.
"""
from __future__ import annotations

import ipaddress
import re
import time

import pytest

from bot.app import create_app
from bot.appkeys import SERVICES
from bot.auth.users import add_user

PASSWORD = "correct horse battery"


async def make_client(aiohttp_client, config):
    app = create_app(config)
    client = await aiohttp_client(app)
    await app[SERVICES].redis.flushdb()
    await add_user(app[SERVICES].db, "ada", PASSWORD, ["counsellor"])
    return client


@pytest.fixture
async def client(aiohttp_client, app_config):
    return await make_client(aiohttp_client, app_config)


async def login(client, username: str, password: str, client_address: str = "") -> int:
    headers = {"X-Forwarded-For": client_address} if client_address else {}
    page = await client.get("/login")
    token = re.search(r'name="_csrf" value="([^"]+)"', await page.text()).group(1)
    resp = await client.post("/login", data={"_csrf": token, "username": username, "password": password},
                             headers=headers, allow_redirects=False)
    client.session.cookie_jar.clear_domain("127.0.0.1")  # each attempt a fresh visitor
    return resp.status


async def test_failures_behind_the_proxy_block_that_client_not_everyone(client):
    for i in range(20):
        assert await login(client, f"guess{i}", "wrong password", "203.0.113.7") == 401
    assert await login(client, "ada", PASSWORD, "203.0.113.7") == 429
    assert await login(client, "ada", PASSWORD, "203.0.113.8") == 302


async def test_a_stranger_failing_on_an_account_slows_its_owner_but_never_locks_them_out(client):
    for _ in range(5):
        assert await login(client, "ada", "wrong password", "198.51.100.1") == 401
    assert await login(client, "ada", PASSWORD, "198.51.100.1") == 429  # that pair is blocked
    started = time.monotonic()
    assert await login(client, "ada", PASSWORD, "203.0.113.50") == 302  # the owner, elsewhere
    assert time.monotonic() - started >= 1.0  # slower, not refused


async def test_a_success_clears_the_address_count(client):
    for _ in range(4):
        assert await login(client, "ada", "wrong password", "203.0.113.9") == 401
    assert await login(client, "ada", PASSWORD, "203.0.113.9") == 302
    for _ in range(4):
        assert await login(client, "ada", "wrong password", "203.0.113.9") == 401
    assert await login(client, "ada", PASSWORD, "203.0.113.9") == 302


async def test_a_forwarded_for_from_a_peer_that_is_not_a_trusted_proxy_is_ignored(aiohttp_client, app_config):
    client = await make_client(aiohttp_client, app_config.with_(
        trusted_proxies=(ipaddress.ip_network("10.9.9.9/32"),)))
    for i in range(5):  # a new forged address each time: all are the one peer
        assert await login(client, "ada", "wrong password", f"192.0.2.{i}") == 401
    assert await login(client, "ada", PASSWORD, "192.0.2.200") == 429
