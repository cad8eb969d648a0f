"""Checks on the compose stack that .ci/docker_stack.sh started, through nginx as a visitor and the
WeChat platform would reach it, and through `compose exec` as an operator would.

    docker_stack_check.py up         after `up`: health, a signed message, transcript, console, workers
    docker_stack_check.py stop-app   `docker stop` of app ends within its grace period, status 0; app back
    docker_stack_check.py after-up   after `down` / `up`: the data of the first phase is still there

Settings from the environment (docker_stack.sh sets them): XZ_CI_HTTP and XZ_CI_HTTPS (nginx's
published addresses), XZ_CI_COMPOSE (the compose command line, project and files included),
XZ_CI_ENV_FILE (the stack's .env), XZ_CI_STATE (a JSON file the phases share). Run from the
repository root with the project's venv: the signed requests are built by tests/platform.py.
"""
from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import subprocess
import sys
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import aiohttp
import yaml
from yarl import URL

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bot.auth import COOKIE  # noqa: E402  (the repository root is on the path now)
from tests.platform import Platform  # noqa: E402

HTTP, HTTPS = os.environ["XZ_CI_HTTP"], os.environ["XZ_CI_HTTPS"]
COMPOSE = shlex.split(os.environ["XZ_CI_COMPOSE"])
STATE = Path(os.environ["XZ_CI_STATE"])
ENV = dict(line.split("=", 1) for line in Path(os.environ["XZ_CI_ENV_FILE"]).read_text().splitlines()
           if "=" in line and not line.startswith("#"))
STAFF_USER, STAFF_PASSWORD = "ci-counsellor", uuid.uuid4().hex
HEALTHY = {"status": "ok", "database": "ok", "redis": "ok"}


class CheckFailed(Exception):
    pass


def ok(what: str, detail: str = "") -> None:
    print(f"  ok  {what}" + (f"  ({detail})" if detail else ""), flush=True)


def require(condition: bool, what: str, detail: str = "") -> None:
    if not condition:
        raise CheckFailed(f"{what}: {detail}")
    ok(what)


def compose(*args: str, check: bool = True, timeout: float = 120) -> str:
    done = subprocess.run([*COMPOSE, *args], capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise CheckFailed(f"`compose {' '.join(args)}` exited {done.returncode}: {done.stderr[-2000:]}")
    return done.stdout


def container(service: str) -> str:
    found = compose("ps", "-q", service).split()
    if len(found) != 1:
        raise CheckFailed(f"expected one {service} container, found {found}")
    return found[0]


def docker(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)


def psql(sql: str) -> str:
    return compose("exec", "-T", "postgres", "psql", "-U", "xinzhan", "-d", "xinzhan", "-AtX",
                   "-v", "ON_ERROR_STOP=1", "-c", sql)


def transcript(openid: str) -> list[list]:
    """[resident id, conversation id, direction, sender, content] of the resident's messages, in order."""
    if not re.fullmatch(r"[\w-]+", openid):
        raise ValueError(openid)
    return json.loads(psql(
        "SELECT coalesce(json_agg(json_build_array(m.resident_id, m.conversation_id, m.direction, m.sender, m.content)"
        f" ORDER BY m.id), '[]') FROM messages m JOIN residents r ON r.id = m.resident_id WHERE r.openid = '{openid}'"))


def session(cookies: aiohttp.CookieJar | None = None) -> aiohttp.ClientSession:
    # ssl=False: the stack's certificate is a throwaway self-signed one. unsafe=True: keep cookies
    # set by an IP address (127.0.0.1).
    return aiohttp.ClientSession(base_url=HTTPS, connector=aiohttp.TCPConnector(ssl=False),
                                 cookie_jar=cookies or aiohttp.CookieJar(unsafe=True))


def platform(client: aiohttp.ClientSession) -> Platform:
    config = SimpleNamespace(wechat_token=ENV["XZ_WECHAT_TOKEN"], wechat_aes_key=ENV["XZ_WECHAT_AES_KEY"],
                             wechat_appid=ENV["XZ_WECHAT_APPID"], encrypted=bool(ENV["XZ_WECHAT_AES_KEY"]))
    return Platform(client, config)


async def wait_healthy(client: aiohttp.ClientSession, timeout: float = 90) -> dict:
    deadline, last = time.monotonic() + timeout, ""
    while time.monotonic() < deadline:
        try:
            async with client.get("/healthz") as resp:
                body = await resp.json(content_type=None)
                if resp.status == 200 and body == HEALTHY:
                    return body
                last = f"{resp.status} {body}"
        except (aiohttp.ClientError, ValueError) as exc:
            last = repr(exc)
        await asyncio.sleep(1)
    raise CheckFailed(f"/healthz through nginx not ok within {timeout:.0f} s: {last}")


def wait_container_healthy(service: str, timeout: float = 60) -> None:
    """Docker's own verdict from the image's (or compose's) HEALTHCHECK."""
    deadline, status = time.monotonic() + timeout, ""
    while time.monotonic() < deadline:
        status = docker("inspect", "-f", "{{.State.Health.Status}}", container(service)).stdout.strip()
        if status == "healthy":
            return
        time.sleep(1)
    raise CheckFailed(f"{service}: Docker health status {status!r} after {timeout:.0f} s")


async def send_text(client: aiohttp.ClientSession, openid: str, content: str) -> tuple[str, str]:
    """The reply's text and how it went: passive, in the HTTP answer; or, where the turn missed the
    4 s deadline (a loaded machine), `success` at once and the reply through the customer-service
    API, which CI cannot reach: the transcript keeps it, marked failed."""
    answer = await platform(client).text(openid, content)
    if answer.status == 200 and answer.text:
        return answer.text, "passive reply"
    if answer.status == 200 and answer.body == "success":
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline:
            rows = transcript(openid)
            sent = max((i for i, r in enumerate(rows) if r[2:] == ["in", "resident", content]), default=None)
            replies = [r for r in rows[sent + 1:] if r[2:4] == ["out", "bot"]] if sent is not None else []
            if replies:
                return replies[0][4], "`success` after the 4 s deadline, the reply sent through the customer-service API"
            await asyncio.sleep(1)
    raise CheckFailed(f"/wechat answered {answer.status} {answer.body[:300]!r}, and no reply followed")


async def login(client: aiohttp.ClientSession) -> None:
    async with client.get("/login", params={"next": "/console"}) as resp:
        page = await resp.text()
        token = re.search(r'name="_csrf" value="([^"]+)"', page)
        require(resp.status == 200 and token is not None, "login form served with its CSRF token")
    form = {"_csrf": token.group(1), "username": STAFF_USER, "password": STAFF_PASSWORD, "next": "/console"}
    async with client.post("/login", data=form, allow_redirects=False) as resp:
        secure = any(c.startswith(f"{COOKIE}=") and "; secure" in c.lower() for c in resp.headers.getall("Set-Cookie", []))
        require(resp.status == 302 and resp.headers.get("Location") == "/console" and secure,
                "staff login through nginx: 302 to /console, session cookie Secure",
                f"{resp.status} {resp.headers.get('Location')} {resp.headers.get('Set-Cookie')}")


async def console_open(client: aiohttp.ClientSession) -> bool:
    async with client.get("/console", allow_redirects=False) as resp:
        return resp.status == 200 and "<html" in (await resp.text()).lower()


async def phase_up() -> None:
    async with aiohttp.ClientSession() as plain:
        async with plain.get(f"{HTTP}/healthz", allow_redirects=False) as resp:
            require(resp.status == 301 and resp.headers.get("Location", "").startswith("https://"),
                    "http:// redirects to https://", f"{resp.status} {resp.headers.get('Location')}")
    async with session() as client:
        body = await wait_healthy(client)
        ok("GET /healthz through nginx (TLS): 200", json.dumps(body))
        for service in ("postgres", "redis", "app", "scheduler"):
            wait_container_healthy(service)
        ok("Docker healthchecks: postgres, redis, app, scheduler healthy")

        uid = compose("exec", "-T", "app", "id", "-u").strip()
        require(uid == "10001", "app runs as the image's user xinzhan (uid 10001), not root", uid)
        workers = compose("exec", "-T", "app", "python", "-c",
                          "from bot.commands.serve import worker_pids; print(len(worker_pids(1)))").strip()
        require(workers == ENV["XZ_WORKERS"], f"app serves with XZ_WORKERS={ENV['XZ_WORKERS']} worker processes",
                workers)
        leader = "scheduler leadership taken"
        deadline = time.monotonic() + 30
        while leader not in compose("logs", "--no-color", "scheduler") and time.monotonic() < deadline:
            await asyncio.sleep(1)
        require(leader in compose("logs", "--no-color", "scheduler")
                and "scheduler leadership" not in compose("logs", "--no-color", "app"),
                "the scheduler service leads the scheduler; app stays out (XZ_SCHEDULER=off)")

        openid = f"ci-{uuid.uuid4().hex[:12]}"
        reply, how = await send_text(client, openid, "你好")
        ok("signed, encrypted WeChat message to /wechat answered (safe mode)", f"{how}: {reply[:30]!r}...")
        rows = transcript(openid)
        require([r[2:4] for r in rows][:1] == [["in", "resident"]] and rows[0][4] == "你好"
                and any(r[2:4] == ["out", "bot"] and r[4] == reply for r in rows),
                "the message and the reply are in the transcript (PostgreSQL)", str(rows))

        async with client.get("/console", allow_redirects=False) as resp:
            require(resp.status == 302 and resp.headers.get("Location", "").startswith("/login"),
                    "GET /console, anonymous: sent to the login page", f"{resp.status} {resp.headers.get('Location')}")
        compose("exec", "-T", "-e", f"XZ_NEW_USER_PASSWORD={STAFF_PASSWORD}", "app",
                "xinzhan", "user", "add", STAFF_USER, "--role", "counsellor")
        ok(f"`compose exec app xinzhan user add {STAFF_USER} --role counsellor` (README step 4)")
        await login(client)
        require(await console_open(client), "the console page served to the logged-in counsellor")
        cookie = {c.key: c.value for c in client.cookie_jar}
    STATE.write_text(json.dumps({"openid": openid, "rows": rows, "cookies": cookie}))


async def phase_stop_app() -> None:
    grace = int(re.fullmatch(r"(\d+)s", yaml.safe_load(compose("config"))["services"]["app"]
                             .get("stop_grace_period", "10s")).group(1))
    app = container("app")
    started = time.monotonic()
    stopped = docker("stop", "-t", str(grace), app, timeout=grace + 30)
    took = time.monotonic() - started
    state = json.loads(docker("inspect", "-f", "{{json .State}}", app).stdout)
    require(stopped.returncode == 0 and state["ExitCode"] == 0 and not state["OOMKilled"] and took < grace,
            f"`docker stop` of app: exit status 0 in {took:.1f} s (grace period {grace} s)",
            f"{stopped.stderr} exit {state['ExitCode']} after {took:.1f} s")
    compose("start", "app")
    async with session() as client:
        await wait_healthy(client)
    ok("app started again; /healthz through nginx ok")


async def phase_after_up() -> None:
    state = json.loads(STATE.read_text())
    openid = state["openid"]
    jar = aiohttp.CookieJar(unsafe=True)
    jar.update_cookies(state["cookies"], URL(HTTPS))
    async with session(jar) as client:
        body = await wait_healthy(client)
        ok("after `down` and `up`: GET /healthz through nginx: 200", json.dumps(body))
        rows = transcript(openid)
        require(rows == state["rows"], "the transcript kept the first message and reply (pgdata volume)", str(rows))
        require(await console_open(client),
                "the counsellor's session still opens the console (sessions in Redis, redisdata volume)")
        reply, how = await send_text(client, openid, "谢谢")
        now = transcript(openid)
        require(now[:len(rows)] == rows and now[len(rows)][2:] == ["in", "resident", "谢谢"]
                and now[len(rows)][:2] == rows[0][:2] and any(r[2:] == ["out", "bot", reply] for r in now[len(rows):]),
                f"a second message from the same resident answered ({how}) and filed with the first (same conversation)",
                str(now))


PHASES = {"up": phase_up, "stop-app": phase_stop_app, "after-up": phase_after_up}

if __name__ == "__main__":
    try:
        asyncio.run(PHASES[sys.argv[1]]())
    except CheckFailed as exc:
        print(f"  FAILED  {exc}", flush=True)
        sys.exit(1)
