"""Console latency: from a resident's message entering the webhook to the event reaching a console WebSocket.

    python bench/console_latency.py                 # embedded defaults (SQLite, fakeredis), 1 worker
    python bench/console_latency.py --real          # PostgreSQL + Redis on this machine
    python bench/console_latency.py --real --workers 2

A server runs in its own process(es); a load generator in another process keeps the webhook busy
with the realistic mix of bench/webhook_bench.py; this process logs in as a counsellor, opens the
console WebSocket, takes the probe resident's case, and times each probe message from the moment
its signed POST starts to the moment the matching "message" event arrives. Prints p50/p99 (and the
load's own throughput). Everything shares the machine's cores: say so beside the numbers.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import webhook_bench as wb  # noqa: E402
from bot.wechat.security import sign  # noqa: E402

PASSWORD = "bench-password-1"
PROBE = "probe-resident"
REAL_DB = "postgresql+asyncpg://postgres@127.0.0.1:5432/xinzhan_console_bench"
REAL_REDIS = "redis://127.0.0.1:6379/11"
EMBEDDED_DB = ROOT / "var" / "console-bench.db"


def server_env(args, port: int) -> dict:
    env = dict(os.environ, XZ_WECHAT_TOKEN=wb.TOKEN, XZ_WECHAT_APPID="wxbench", XZ_WECHAT_SECRET="bench-secret",
               XZ_HOST="127.0.0.1", XZ_PORT=str(port), XZ_WORKERS=str(args.workers), XZ_LOG_LEVEL="WARNING",
               XZ_WECHAT_API_BASE=f"http://127.0.0.1:{args.mock_port}", XZ_NEW_USER_PASSWORD=PASSWORD)
    if args.real:
        env.update(XZ_DATABASE_URL=REAL_DB, XZ_REDIS_URL=REAL_REDIS)
    else:
        env["XZ_DATABASE_URL"] = f"sqlite+aiosqlite:///{EMBEDDED_DB}"
    return env


def start_server(args, env: dict) -> subprocess.Popen:
    """A fresh database of our own (never the webhook bench's), migrated, with a counsellor account."""
    if args.real:
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-q",
                        "-c", "DROP DATABASE IF EXISTS xinzhan_console_bench WITH (FORCE)",
                        "-c", "CREATE DATABASE xinzhan_console_bench"], check=True)
        subprocess.run(["redis-cli", "-n", "11", "flushdb"], check=True, capture_output=True)
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{EMBEDDED_DB}{suffix}").unlink(missing_ok=True)
    for cmd in (["migrate"], ["user", "add", "bench-counsellor", "--role", "counsellor", "--role", "supervisor"]):
        subprocess.run([sys.executable, "-m", "bot.cli", *cmd], env=env, check=True, cwd=ROOT, capture_output=True)
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "serve"], env=env, cwd=ROOT)


def signed_text(openid: str, content: str) -> tuple[dict, bytes]:
    ts, nonce = str(int(time.time())), os.urandom(5).hex()
    xml = (f"<xml><ToUserName>gh_bench</ToUserName><FromUserName>{openid}</FromUserName>"
           f"<CreateTime>{ts}</CreateTime><MsgType>text</MsgType><Content><![CDATA[{content}]]></Content>"
           f"<MsgId>{next(wb._ids)}</MsgId></xml>")
    return {"timestamp": ts, "nonce": nonce, "signature": sign(wb.TOKEN, ts, nonce)}, xml.encode()


async def login(session: aiohttp.ClientSession, base: str) -> str:
    page = await (await session.get(base + "/login")).text()
    token = re.search(r'name="_csrf" value="([^"]+)"', page).group(1)
    await session.post(base + "/login", data={"_csrf": token, "username": "bench-counsellor", "password": PASSWORD})
    console = await (await session.get(base + "/console")).text()
    return re.search(r'<meta name="csrf" content="([^"]+)"', console).group(1)


async def wait_for(ws, predicate, timeout: float = 10.0) -> dict:
    deadline = time.perf_counter() + timeout
    while True:
        msg = await ws.receive(timeout=max(0.01, deadline - time.perf_counter()))
        if msg.type != aiohttp.WSMsgType.TEXT:
            raise RuntimeError(f"console socket closed: {msg.type}")
        event = json.loads(msg.data)
        if predicate(event):
            return event


async def probe(base: str, samples: int, gap: float) -> list[float]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:  # cookies on an IP
        csrf = await login(session, base)
        headers = {"X-CSRF-Token": csrf, "Accept": "application/json"}
        ws = await session.ws_connect(base + "/console/ws", origin=base)  # the console checks Origin
        await wait_for(ws, lambda e: e["type"] == "hello")
        params, body = signed_text(PROBE, "人工")
        await session.post(base + "/wechat", params=params, data=body)
        queued = await wait_for(ws, lambda e: e["type"] == "queued")
        taken = await (await session.post(base + "/console/api/take", json={"case_id": queued["case_id"]},
                                          headers=headers)).json()
        if taken.get("status") != "ok":
            raise SystemExit(f"could not take the probe case: {taken}")
        latencies = []
        for n in range(samples):
            marker = f"probe message {n}"
            params, body = signed_text(PROBE, marker)
            started = time.perf_counter()
            async with session.post(base + "/wechat", params=params, data=body) as resp:
                await resp.read()
            await wait_for(ws, lambda e: e["type"] == "message" and e.get("message", {}).get("content") == marker)
            latencies.append(time.perf_counter() - started)
            await asyncio.sleep(gap)
        await ws.close()
        return latencies


def run_load(url: str, concurrency: int, residents: int) -> None:
    """The load process: the webhook mix, forever (until terminated), reporting throughput at exit."""
    sent = [0]

    async def forever() -> None:
        openids = [f"load-{i:05d}" for i in range(residents)]
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:
            async def worker():
                while True:
                    try:
                        await wb.one(session, url, wb.random.choice(openids), [], [])
                        sent[0] += 1
                    except aiohttp.ClientError:
                        await asyncio.sleep(0.05)
            await asyncio.gather(*(worker() for _ in range(concurrency)))

    started = time.perf_counter()

    def report(*_):
        print(f"load: {sent[0]} webhook requests, {sent[0] / (time.perf_counter() - started):.0f} msg/s", flush=True)
        raise SystemExit(0)
    signal.signal(signal.SIGTERM, report)
    asyncio.run(forever())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--gap", type=float, default=0.05, help="seconds between probe messages")
    parser.add_argument("--load-concurrency", type=int, default=32)
    parser.add_argument("--residents", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--real", action="store_true", help="PostgreSQL and Redis on this machine")
    parser.add_argument("--load-only", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load_only:
        run_load(args.load_only, args.load_concurrency, args.residents)
        return
    port, args.mock_port = wb.free_port(), wb.free_port()
    procs = [subprocess.Popen([sys.executable, "-m", "bot.cli", "mock-wechat", "--port", str(args.mock_port),
                               "--appid", "wxbench", "--secret", "bench-secret"], cwd=ROOT, stdout=subprocess.DEVNULL)]
    try:
        procs.append(start_server(args, server_env(args, port)))
        wb.wait_port(port)
        base = f"http://127.0.0.1:{port}"
        load = subprocess.Popen([sys.executable, __file__, "--load-only", base + "/wechat",
                                 "--load-concurrency", str(args.load_concurrency), "--residents", str(args.residents)],
                                cwd=ROOT)
        procs.append(load)
        time.sleep(2)  # let the load reach its pace
        label = "PostgreSQL+Redis" if args.real else "embedded SQLite+fakeredis"
        print(f"xinzhan console latency: {label}, {args.workers} worker(s), load concurrency {args.load_concurrency}, "
              f"{os.cpu_count()} cores shared by server, load and probe", flush=True)
        latencies = sorted(asyncio.run(probe(base, args.samples, args.gap)))
        q = statistics.quantiles(latencies, n=100)
        print(f"webhook -> console event: samples {len(latencies)}  p50 {q[49] * 1000:.1f} ms  "
              f"p99 {q[98] * 1000:.1f} ms  max {latencies[-1] * 1000:.1f} ms", flush=True)
        load.send_signal(signal.SIGTERM)
        load.wait(timeout=10)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
