"""The app-teardown guard: a cleanup that never ends fails the test and shows where it waits."""
from __future__ import annotations

import asyncio

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from tests.conftest import close_clients


async def never_done(app: web.Application):
    yield
    await asyncio.Event().wait()  # a shutdown step whose signal never comes


async def quick(app: web.Application):
    yield


async def started(app: web.Application) -> TestClient:
    client = TestClient(TestServer(app))
    await client.start_server()
    return client


async def test_a_hung_cleanup_fails_the_test_naming_where_it_waits():
    app = web.Application()
    app.cleanup_ctx.append(never_done)
    client = await started(app)
    with pytest.raises(pytest.fail.Exception) as failure:
        await close_clients([client], limit=0.2)
    message = str(failure.value)
    assert "app cleanup hung for 0.2s" in message
    assert "in never_done" in message and "in wait" in message  # the await chain, not only the outer frame


async def test_a_cleanup_that_ends_passes():
    app = web.Application()
    app.cleanup_ctx.append(quick)
    client = await started(app)
    await close_clients([client], limit=5)
    assert client.server.closed
