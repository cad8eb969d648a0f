"""`xinzhan serve --workers 2`: a worker killed with SIGKILL is replaced, the service answers on the
same port meanwhile and after, and SIGTERM still stops everything cleanly."""
from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys

import aiohttp

from tests.conftest import make_config, needs_real_db
from bot.commands.serve import worker_pids
from tests.faults.conftest import ROOT, free_port, worker_env
from tests.faults.retrying import RetryingPlatform, text_xml
from tests.faults.test_redis_restart import wait_until


@needs_real_db
async def test_a_killed_worker_is_replaced_and_the_port_keeps_answering(clean_database, mock_wechat, own_redis, workers):
    api, port = str(mock_wechat.make_url("")).rstrip("/"), free_port()
    env = dict(worker_env(clean_database, own_redis.url, api, port), XZ_WORKERS="2")
    server = await workers.start(env)
    assert await wait_until(lambda: _count(server.pid, 2), timeout=20), "two workers never started"
    first, second = worker_pids(server.pid)

    os.kill(first, signal.SIGKILL)
    replaced = await wait_until(lambda: _replaced(server.pid, first), timeout=30)
    assert replaced and second in replaced and first not in replaced

    async with aiohttp.ClientSession(base_url=f"http://127.0.0.1:{port}") as session:
        platform = RetryingPlatform(session, make_config(clean_database, api, XZ_REDIS_URL=own_redis.url), gap=1.0)
        for n in range(6):  # the kernel spreads connections over both workers
            answer = await platform.deliver(text_xml(f"o-after-kill-{n}", "菜单", 66000 + n), str(66000 + n))
            assert answer is not None, "the platform's tries all went unanswered"

    server.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(asyncio.to_thread(server.wait), 30) == 0
    assert worker_pids(server.pid) == []


async def _count(parent: int, n: int) -> bool:
    return len(worker_pids(parent)) == n


async def _replaced(parent: int, dead: int) -> list[int] | None:
    now = worker_pids(parent)
    return now if len(now) == 2 and dead not in now else None


async def test_workers_that_cannot_start_stop_the_service_instead_of_restarting_forever(tmp_path, mock_wechat):
    with socket.socket() as taken:  # the port is held without SO_REUSEPORT: no worker can bind it
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = dict(worker_env(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", "redis://127.0.0.1:1/0",
                              str(mock_wechat.make_url("")).rstrip("/"), port), XZ_WORKERS="2")
        server = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve"], env=env, cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            status = await asyncio.wait_for(asyncio.to_thread(server.wait), 40)
        finally:
            server.kill()
    assert status == 1
