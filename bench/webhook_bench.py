"""Webhook benchmark: signed messages from 10,000 residents against a server in another process.

    python bench/webhook_bench.py                      # embedded defaults (SQLite, fakeredis)
    python bench/webhook_bench.py --real               # PostgreSQL + Redis on this machine
    python bench/webhook_bench.py --real --workers 2   # two worker processes
    python bench/webhook_bench.py --bare               # the ceiling: parse and answer only

Prints messages/s and p50/p99 latency. The load generator shares the machine's cores with the
server; say so beside the numbers.
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.wechat.security import sign  # noqa: E402

TOKEN = "bench-token"
REAL_DB = "postgresql+asyncpg://postgres@127.0.0.1:5432/xinzhan_bench"
REAL_REDIS = "redis://127.0.0.1:6379/7"
# A realistic mix: menu taps and words, assessment answers, tip searches, free text, a little crisis.
MIX = [("click", "MENU_ASSESS"), ("click", "MENU_TIPS"), ("text", "菜单"), ("text", "1"), ("text", "2"),
       ("text", "0"), ("text", "睡不着怎么办"), ("text", "最近压力很大，考试焦虑"), ("text", "附近站点"),
       ("text", "你好"), ("text", "谢谢"), ("click", "MENU_EVENTS"), ("text", "我不想活了")]
_ids = itertools.count(int(time.time() * 1000))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def message(openid: str) -> str:
    kind, value = random.choice(MIX)
    now = int(time.time())
    head = f"<xml><ToUserName>gh_bench</ToUserName><FromUserName>{openid}</FromUserName><CreateTime>{now}</CreateTime>"
    if kind == "click":
        return head + f"<MsgType>event</MsgType><Event>CLICK</Event><EventKey>{value}</EventKey></xml>"
    return head + f"<MsgType>text</MsgType><Content><![CDATA[{value}]]></Content><MsgId>{next(_ids)}</MsgId></xml>"


async def one(session: aiohttp.ClientSession, url: str, openid: str, latencies: list[float], errors: list[int]):
    ts, nonce = str(int(time.time())), os.urandom(5).hex()
    params = {"timestamp": ts, "nonce": nonce, "signature": sign(TOKEN, ts, nonce)}
    started = time.perf_counter()
    async with session.post(url, params=params, data=message(openid).encode()) as resp:
        await resp.read()
        if resp.status != 200:
            errors.append(resp.status)
    latencies.append(time.perf_counter() - started)


async def drive(url: str, total: int, concurrency: int, residents: int) -> None:
    openids = [f"bench-{i:05d}" for i in range(residents)]
    latencies: list[float] = []
    errors: list[int] = []
    queue = asyncio.Queue()
    for i in range(total):
        queue.put_nowait(openids[i % residents] if i < residents else random.choice(openids))

    async def worker(session):
        while not queue.empty():
            await one(session, url, queue.get_nowait(), latencies, errors)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        for _ in range(min(200, total)):  # warm-up: connections, caches, JIT-free but pools filled
            await one(session, url, random.choice(openids), [], [])
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    q = statistics.quantiles(latencies, n=100)
    print(f"requests {len(latencies)}  concurrency {concurrency}  residents {residents}  errors {len(errors)}")
    print(f"throughput {len(latencies) / elapsed:.0f} msg/s  p50 {q[49] * 1000:.1f} ms  p99 {q[98] * 1000:.1f} ms")


def server_env(port: int, mock_port: int, workers: int) -> dict[str, str]:
    return dict(os.environ, XZ_WECHAT_TOKEN=TOKEN, XZ_WECHAT_APPID="wxbench", XZ_WECHAT_SECRET="bench-secret",
                XZ_HOST="127.0.0.1", XZ_PORT=str(port), XZ_WORKERS=str(workers), XZ_LOG_LEVEL="WARNING",
                XZ_WECHAT_API_BASE=f"http://127.0.0.1:{mock_port}")


def empty_real_stores(database: str, redis_db: int) -> None:
    """A new PostgreSQL database and an emptied Redis db, so each run starts from nothing."""
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-q",
                    "-c", f"DROP DATABASE IF EXISTS {database} WITH (FORCE)", "-c", f"CREATE DATABASE {database}"],
                   check=True)
    subprocess.run(["redis-cli", "-n", str(redis_db), "flushdb"], check=True, capture_output=True)


def migrate_and_serve(env: dict[str, str], **popen) -> subprocess.Popen:
    subprocess.run([sys.executable, "-m", "bot.cli", "migrate"], env=env, check=True, cwd=ROOT, capture_output=True)
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "serve"], env=env, cwd=ROOT, **popen)


def start_server(args, port: int) -> list[subprocess.Popen]:
    env = server_env(port, args.mock_port, args.workers)
    if args.bare:
        cmd = [sys.executable, str(ROOT / "bench" / "bare_server.py"), str(port)]
        return [subprocess.Popen(cmd, env=env) for _ in range(args.workers)]
    if args.real:
        env.update(XZ_DATABASE_URL=REAL_DB, XZ_REDIS_URL=REAL_REDIS)
        empty_real_stores("xinzhan_bench", 7)
    else:
        env["XZ_DATABASE_URL"] = f"sqlite+aiosqlite:///{ROOT}/var/bench.db"
        (ROOT / "var" / "bench.db").unlink(missing_ok=True)
    return [migrate_and_serve(env)]


def wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"server did not start on port {port}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--residents", type=int, default=10000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--real", action="store_true", help="PostgreSQL and Redis on this machine")
    parser.add_argument("--bare", action="store_true", help="the parse-and-answer ceiling")
    args = parser.parse_args()
    port, args.mock_port = free_port(), free_port()
    procs = [subprocess.Popen([sys.executable, "-m", "bot.cli", "mock-wechat", "--port", str(args.mock_port),
                               "--appid", "wxbench", "--secret", "bench-secret"], cwd=ROOT, stdout=subprocess.DEVNULL)]
    try:
        procs += start_server(args, port)
        wait_port(port)
        wait_port(args.mock_port)
        label = "bare aiohttp" if args.bare else ("PostgreSQL+Redis" if args.real else "embedded SQLite+fakeredis")
        print(f"xinzhan webhook benchmark: {label}, {args.workers} worker(s), {os.cpu_count()} cores shared with the load generator")
        asyncio.run(drive(f"http://127.0.0.1:{port}/wechat", args.requests, args.concurrency, args.residents))
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
