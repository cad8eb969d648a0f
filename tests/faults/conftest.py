"""Fault-test fixtures: a Redis server of our own (so it can be killed), worker processes, and a
platform that retries like WeChat does."""
from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import APPID, SECRET

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "test-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def wait_port(port: int, timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        await writer.wait_closed()
        return
    raise AssertionError(f"nothing listening on port {port} after {timeout:.0f}s")


class OwnRedis:
    """A throwaway redis-server that keeps nothing on disk, so a restart loses every key (as production's may)."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        await wait_port(self.port)

    async def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            await asyncio.to_thread(self.proc.wait)
        self.proc = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()


@pytest.fixture
async def own_redis(tmp_path):
    server = OwnRedis(tmp_path)
    await server.start()
    yield server
    await server.stop()


def worker_env(database_url: str, redis_url: str, api_base: str, port: int) -> dict[str, str]:
    return dict(os.environ, XZ_WECHAT_TOKEN=TOKEN, XZ_WECHAT_APPID=APPID, XZ_WECHAT_SECRET=SECRET,
                XZ_WECHAT_API_BASE=api_base, XZ_DATABASE_URL=database_url, XZ_REDIS_URL=redis_url,
                XZ_HOST="127.0.0.1", XZ_PORT=str(port), XZ_WORKERS="1", XZ_LOG_LEVEL="WARNING")


class Workers:
    """`xinzhan serve` processes started by a test; whatever is still running is stopped at the end."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []

    async def start(self, env: dict[str, str]) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve"], env=env, cwd=ROOT,
                                stdout=subprocess.DEVNULL)
        self.procs.append(proc)
        await wait_port(int(env["XZ_PORT"]), timeout=30)
        return proc

    async def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                await asyncio.wait_for(asyncio.to_thread(proc.wait), 20)
            except asyncio.TimeoutError:
                proc.kill()


@pytest.fixture
async def workers():
    group = Workers()
    yield group
    await group.stop_all()
