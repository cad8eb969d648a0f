"""/metrics is for a scraper inside the network: private peers only, or a bearer token when configured."""
from __future__ import annotations

import pytest

from bot.app import create_app
from tests.conftest import make_config

TOKEN = "scrape-token-0123456789"


async def test_a_private_peer_reads_metrics(client):
    resp = await client.get("/metrics")
    assert resp.status == 200 and "xz_webhook_requests_total" in await resp.text()


@pytest.mark.parametrize("forwarded", ["8.8.8.8", "10.0.0.2, 8.8.8.8", "not-an-address"])
async def test_a_public_visitor_behind_a_proxy_is_refused(client, forwarded):
    resp = await client.get("/metrics", headers={"X-Forwarded-For": forwarded})
    assert resp.status == 403 and "xz_" not in await resp.text()


async def test_a_private_chain_behind_a_proxy_is_allowed(client):
    assert (await client.get("/metrics", headers={"X-Forwarded-For": "172.18.0.5"})).status == 200


@pytest.fixture
async def token_client(aiohttp_client, clean_database, mock_wechat):
    config = make_config(clean_database, str(mock_wechat.make_url("")).rstrip("/"), XZ_METRICS_TOKEN=TOKEN)
    return await aiohttp_client(create_app(config))


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer 令牌"])
async def test_with_a_token_configured_anything_else_is_refused_even_from_a_private_peer(token_client, header):
    resp = await token_client.get("/metrics", headers={"Authorization": header} if header else {})
    assert resp.status == 401 and resp.headers["WWW-Authenticate"] == "Bearer"


async def test_with_a_token_configured_the_token_opens_it(token_client):
    resp = await token_client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert resp.status == 200 and "xz_webhook_requests_total" in await resp.text()
