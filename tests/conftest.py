"""Test settings: embedded SQLite + fakeredis by default; real PostgreSQL and Redis when
XZ_TEST_DATABASE_URL / XZ_TEST_REDIS_URL are set (CI sets both). The tests get their own
PostgreSQL database (created here, named by XZ_TEST_DB_NAME so parallel runs can keep apart) and
their own Redis database number (the one in XZ_TEST_REDIS_URL).
"""
from __future__ import annotations

import asyncio
import os

import pytest
from aiohttp.test_utils import BaseTestServer, TestClient, TestServer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import create_app
from bot.appkeys import SERVICES
from bot.config import load_config
from bot.db import load_models
from bot.migrate import upgrade
from bot.mock_wechat.app import MOCK_STATE, create_mock_app
from tests.platform import Platform
from tests.task_stacks import task_stacks

REAL_DB = os.environ.get("XZ_TEST_DATABASE_URL", "")
REAL_REDIS = os.environ.get("XZ_TEST_REDIS_URL", "")
TEST_DB_NAME = os.environ.get("XZ_TEST_DB_NAME", "xinzhan_test")
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
APPID = "wxtest000000000001"
SECRET = "test-secret"

needs_real_redis = pytest.mark.skipif(not REAL_REDIS, reason="needs a real Redis server: set XZ_TEST_REDIS_URL")
needs_real_db = pytest.mark.skipif(not REAL_DB, reason="needs a real PostgreSQL: set XZ_TEST_DATABASE_URL")


async def _recreate_pg_database(admin_url: str) -> str:
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(f"DROP DATABASE IF EXISTS {TEST_DB_NAME} WITH (FORCE)"))
        await conn.execute(text(f"CREATE DATABASE {TEST_DB_NAME}"))
    await engine.dispose()
    return admin_url.rsplit("/", 1)[0] + "/" + TEST_DB_NAME


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """One migrated database for the session; tests empty it between them."""
    if REAL_DB:
        url = asyncio.run(_recreate_pg_database(REAL_DB))
    else:
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    upgrade(url)
    return url


async def empty_database(url: str) -> None:
    tables = list(reversed(load_models().sorted_tables))
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        if url.startswith("postgresql"):
            await conn.execute(text("TRUNCATE " + ", ".join(t.name for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                await conn.execute(table.delete())
    await engine.dispose()


@pytest.fixture
async def clean_database(database_url) -> str:
    await empty_database(database_url)
    return database_url


TEARDOWN_LIMIT = 30.0


async def close_clients(clients: list[TestClient], limit: float = TEARDOWN_LIMIT) -> None:
    """Close each client; a cleanup still running after `limit` seconds fails the test with every
    task's await chain, so a hang in some plugin's shutdown is seen and located instead of stalling
    the run. (The hangs once seen here were loops that outlived their cancel: see bot/redis_conn.py.)
    """
    hangs = []
    for client in clients:
        closing = asyncio.ensure_future(client.close())
        done, _ = await asyncio.wait({closing}, timeout=limit)
        if not done:
            hangs.append(task_stacks())
            closing.cancel()
    if hangs:
        pytest.fail(f"app cleanup hung for {limit:g}s; the tasks then:\n" + "\n\n".join(hangs), pytrace=False)


@pytest.fixture
async def aiohttp_client():
    """pytest-aiohttp's client factory, with app cleanup bounded in time (close_clients)."""
    clients: list[TestClient] = []

    async def make(app_or_server, **kwargs) -> TestClient:
        server = app_or_server if isinstance(app_or_server, BaseTestServer) else TestServer(app_or_server)
        client = TestClient(server, **kwargs)
        await client.start_server()
        clients.append(client)
        return client

    yield make
    await close_clients(clients)


@pytest.fixture
async def mock_wechat(aiohttp_server):
    server = await aiohttp_server(create_mock_app(APPID, SECRET))
    server.state = server.app[MOCK_STATE]
    return server


def make_config(database_url: str, api_base: str, **overrides):
    env = {
        "XZ_WECHAT_TOKEN": "test-token",
        "XZ_WECHAT_APPID": APPID,
        "XZ_WECHAT_SECRET": SECRET,
        "XZ_WECHAT_API_BASE": api_base,
        "XZ_DATABASE_URL": database_url,
        "XZ_REDIS_URL": REAL_REDIS,
        "XZ_SIMULATOR": "on",  # tests speak through the simulator too; tests/test_simulator.py checks it off
    }
    env.update(overrides)
    return load_config(env)


@pytest.fixture(params=["plain"])
def aes_key(request) -> str:
    return AES_KEY if request.param != "plain" else ""


@pytest.fixture
async def app_config(clean_database, mock_wechat, aes_key):
    return make_config(clean_database, str(mock_wechat.make_url("")).rstrip("/"), XZ_WECHAT_AES_KEY=aes_key)


@pytest.fixture
async def client(aiohttp_client, app_config):
    app = create_app(app_config)
    test_client = await aiohttp_client(app)
    await app[SERVICES].redis.flushdb()
    return test_client


@pytest.fixture
def services(client):
    return client.server.app[SERVICES]


@pytest.fixture
def platform(client, app_config) -> Platform:
    return Platform(client, app_config)


# The background work a message starts (its turn; a waiting-list notice); other packages run long-lived tasks.
TURN_WORK = ("turn:", "promoted:")


async def settle(services, timeout: float = 5.0) -> None:
    """Wait for the background work of the messages sent so far, and any it starts meanwhile (later
    replies, customer-service sends, transcript writes, waiting-list notices): woken as each task
    ends, not by polling. Work still running after `timeout` fails the test, naming the tasks."""
    try:
        async with asyncio.timeout(timeout):
            while running := {t for t in services.tasks._tasks if t.get_name().startswith(TURN_WORK)}:
                await asyncio.wait(running)
    except TimeoutError:
        names = sorted(t.get_name() for t in services.tasks._tasks if t.get_name().startswith(TURN_WORK))
        raise AssertionError(f"background work still running after {timeout} s: {names}") from None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI (XZ_TEST_REQUIRE_REAL=1) a skipped test is a failure: every test must really run.
    An expected failure (xfail) did run; pytest only reports it as skipped."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("XZ_TEST_REQUIRE_REAL") and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where nothing may skip: {report.longrepr}"


@pytest.fixture
def say(platform, services):
    """Send one text as the resident; the passive reply's text once the turn's work is done."""
    async def send(openid: str, text: str) -> str:
        answer = await platform.text(openid, text)
        assert answer.status == 200
        await settle(services)
        return answer.text
    return send
