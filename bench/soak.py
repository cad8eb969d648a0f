"""Soak: `xinzhan serve --workers 2` on PostgreSQL + Redis at a steady rate for a long time.

    python bench/soak.py                          # 30 minutes at 10 msg/s
    python bench/soak.py --rate 15 --minutes 3    # a short check

Open loop: a message leaves every 1/rate seconds whether or not earlier ones were answered (the
platform does not wait either), from 10,000 residents with webhook_bench.py's mix. Prints one line
per minute: sent, answered, p50/p99 latency of the answered, errors (non-200, or no answer within
the platform's 5 s), and the resident set size and open files (sockets) of each worker process, so
a leak or a creeping latency shows as a trend. Uses database xinzhan_soak and Redis db 9, both emptied at start.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

# the same mix, signing and server start as the webhook benchmark
from webhook_bench import (ROOT, TOKEN, empty_real_stores, free_port, message, migrate_and_serve, server_env,
                           sign, wait_port)

from bot.commands.serve import worker_pids

DATABASE = "xinzhan_soak"
DATABASE_URL = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{DATABASE}"
REDIS_DB = 9
PLATFORM_TIMEOUT = 5.0
MAX_IN_FLIGHT = 1000  # beyond this the server is hopelessly behind; count the rest as errors


@dataclass
class Minute:
    sent: int = 0
    answered: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)


def open_files(pid: int) -> int:
    """Sockets mostly: database and Redis pools, the platform's keep-alive connections."""
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


async def send_one(session: aiohttp.ClientSession, url: str, openid: str, minute: Minute) -> None:
    ts, nonce = str(int(time.time())), os.urandom(5).hex()
    params = {"timestamp": ts, "nonce": nonce, "signature": sign(TOKEN, ts, nonce)}
    started = time.perf_counter()
    try:
        async with session.post(url, params=params, data=message(openid).encode(),
                                timeout=aiohttp.ClientTimeout(total=PLATFORM_TIMEOUT)) as resp:
            await resp.read()
            ok = resp.status == 200
    except (aiohttp.ClientError, asyncio.TimeoutError):
        ok = False
    if ok:
        minute.answered += 1
        minute.latencies.append(time.perf_counter() - started)
    else:
        minute.errors += 1


def report(index: int, minute: Minute, workers: list[int]) -> None:
    lat = sorted(minute.latencies)
    if len(lat) >= 2:
        q = statistics.quantiles(lat, n=100)
        p50, p99 = f"{q[49] * 1000:.0f}", f"{q[98] * 1000:.0f}"
    else:
        p50 = p99 = "-"
    rss = " ".join(f"{pid}:{rss_mb(pid):.0f}MB/{open_files(pid)}fd" for pid in workers) or "no workers"
    print(f"minute {index:3d}  sent {minute.sent:5d}  answered {minute.answered:5d}  p50 {p50:>5} ms  "
          f"p99 {p99:>5} ms  errors {minute.errors:4d}  rss {rss}", flush=True)


async def drive(url: str, rate: float, minutes: int, residents: int, server_pid: int) -> None:
    openids = [f"soak-{i:05d}" for i in range(residents)]
    in_flight: set[asyncio.Task] = set()
    reports: list[asyncio.Task] = []

    async def report_when_answered(index: int, minute: Minute, sent: list[asyncio.Task]) -> None:
        if sent:
            await asyncio.wait(sent)  # each has the platform's 5 s limit
        report(index, minute, worker_pids(server_pid))  # read again: a replaced worker has a new pid

    connector = aiohttp.TCPConnector(limit=MAX_IN_FLIGHT)
    async with aiohttp.ClientSession(connector=connector) as session:
        loop = asyncio.get_running_loop()
        start = loop.time()
        for n in range(int(minutes * 60 * rate)):
            index = n // int(60 * rate) + 1
            if n % int(60 * rate) == 0:
                minute, sent = Minute(), []
            await asyncio.sleep(max(0.0, start + n / rate - loop.time()))
            minute.sent += 1
            if len(in_flight) >= MAX_IN_FLIGHT:
                minute.errors += 1
            else:
                task = asyncio.create_task(send_one(session, url, random.choice(openids), minute))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
                sent.append(task)
            if (n + 1) % int(60 * rate) == 0:  # the minute is over: report it once its answers are in
                reports.append(asyncio.create_task(report_when_answered(index, minute, sent)))
        await asyncio.gather(*reports)


def start(port: int, mock_port: int, workers: int) -> list[subprocess.Popen]:
    env = server_env(port, mock_port, workers)
    env.update(XZ_DATABASE_URL=DATABASE_URL, XZ_REDIS_URL=f"redis://127.0.0.1:6379/{REDIS_DB}")
    empty_real_stores(DATABASE, REDIS_DB)
    mock = subprocess.Popen([sys.executable, "-m", "bot.cli", "mock-wechat", "--port", str(mock_port),
                             "--appid", "wxbench", "--secret", "bench-secret"], cwd=ROOT, stdout=subprocess.DEVNULL)
    return [migrate_and_serve(env, stdout=subprocess.DEVNULL), mock]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=10.0, help="messages per second")
    parser.add_argument("--minutes", type=int, default=30)
    parser.add_argument("--residents", type=int, default=10000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    port, mock_port = free_port(), free_port()
    procs = start(port, mock_port, args.workers)
    try:
        wait_port(port)
        wait_port(mock_port)
        time.sleep(2)  # let every worker finish starting, so each is in the RSS column
        print(f"xinzhan soak: {args.rate:g} msg/s for {args.minutes} min, {args.workers} workers, PostgreSQL+Redis, "
              f"{os.cpu_count()} cores shared with the load generator", flush=True)
        asyncio.run(drive(f"http://127.0.0.1:{port}/wechat", args.rate, args.minutes, args.residents, procs[0].pid))
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
