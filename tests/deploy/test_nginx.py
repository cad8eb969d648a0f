"""docker/nginx.conf under this machine's nginx (Debian's; the image runs 1.27): `nginx -t` accepts
it, every location hands the app the headers it relies on (client address, scheme, request id,
host, WebSocket upgrade), the body caps hold, and, in front of the compose stack's app, /healthz
and /wechat reach the service through it.
"""
from __future__ import annotations

import json
import re

import aiohttp
import pytest
from aiohttp import web
from multidict import CIMultiDict

from tests.conftest import needs_real_db, needs_real_redis
from tests.deploy import dockerfile
from tests.deploy.compose import ROOT, load_compose
from tests.deploy.nginx import CERT_DIR, NGINX_CONF, Nginx, nginx_binary, upstream_address
from tests.deploy.stack import ENV_FILE
from tests.faults.test_redis_restart import wait_until

NGINX = nginx_binary()
needs_nginx = pytest.mark.skipif(NGINX is None, reason="needs nginx on PATH or in /usr/sbin (Debian: apt-get "
                                                      "install nginx; .ci/run installs it)")
HSTS = "max-age=31536000"


@pytest.fixture
async def nginx_before(tmp_path):
    """Starts nginx with docker/nginx.conf in front of the given upstream port; stops it after."""
    started: list[Nginx] = []

    async def start(upstream_port: int) -> Nginx:
        nginx = Nginx.prepare(NGINX, tmp_path / f"nginx-{len(started)}", upstream_port)
        checked = nginx.test_config()
        assert checked.returncode == 0, checked.stderr
        await nginx.start()
        started.append(nginx)
        return nginx

    yield start
    for nginx in started:
        assert await nginx.stop() == 0, nginx.errors()


async def _echo(request: web.Request) -> web.Response:
    return web.json_response({"headers": dict(request.headers), "size": len(await request.read())})


async def _echo_ws(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    await ws.send_json({"headers": dict(request.headers)})
    await ws.close()
    return ws


@pytest.fixture
async def echo_upstream(aiohttp_server):
    """Stands in for the app: answers every path with the request headers it received."""
    app = web.Application(client_max_size=20 * 1024 * 1024)
    app.router.add_get("/console/ws", _echo_ws)
    app.router.add_route("*", "/{tail:.*}", _echo)
    return await aiohttp_server(app)


def https(nginx: Nginx, path: str) -> str:
    return f"https://127.0.0.1:{nginx.https_port}{path}"


def client() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=False))  # our self-signed certificate


def assert_forwarded(headers: dict) -> None:
    """What the app reads: the client's address (/metrics, the review audit), the scheme, a request
    id for its logs, and the host the visitor asked for."""
    headers = CIMultiDict(headers)  # nginx spells it X-Request-ID
    assert headers.get("X-Forwarded-For") == "127.0.0.1"
    assert headers.get("X-Forwarded-Proto") == "https"
    assert re.fullmatch(r"[0-9a-f]{32}", headers.get("X-Request-Id", "")), headers
    assert headers.get("Host") == "127.0.0.1"


def test_upstream_is_the_app_service_on_the_image_port():
    host, port = upstream_address(NGINX_CONF.read_text(encoding="utf-8"))
    assert host in load_compose(ENV_FILE)["services"]
    assert port == int(dockerfile.load()[-1].env()["XZ_PORT"])


def test_compose_mounts_the_site_and_the_readme_certificates_where_nginx_reads_them():
    volumes = load_compose(ENV_FILE)["services"]["nginx"]["volumes"]
    mounts = {target: (ROOT / "docker" / source).resolve() for source, target, *_ in (v.split(":") for v in volumes)}
    assert mounts["/etc/nginx/conf.d/default.conf"] == NGINX_CONF  # inside the image's http {} block
    conf = NGINX_CONF.read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in ("fullchain.pem", "privkey.pem"):
        assert f"{CERT_DIR}/{name};" in conf and f"`{name}`" in readme
    assert mounts[CERT_DIR] == ROOT / "docker" / "certs" and "in `docker/certs/`" in readme


@needs_nginx
def test_nginx_accepts_the_site_config(tmp_path):
    checked = Nginx.prepare(NGINX, tmp_path / "nginx", 8080).test_config()
    assert checked.returncode == 0 and "test is successful" in checked.stderr, checked.stderr


@needs_nginx
@pytest.mark.parametrize("path", ["/wechat", "/console/api/queue", "/metrics", "/healthz"])
async def test_each_location_forwards_what_the_app_reads(echo_upstream, nginx_before, path):
    nginx = await nginx_before(echo_upstream.port)
    async with client() as session, session.get(https(nginx, path)) as resp:
        assert resp.status == 200 and resp.headers.get("Strict-Transport-Security") == HSTS
        assert_forwarded((await resp.json())["headers"])


@needs_nginx
async def test_console_websocket_upgrades_through_nginx_with_the_same_headers(echo_upstream, nginx_before):
    nginx = await nginx_before(echo_upstream.port)
    async with client() as session, session.ws_connect(https(nginx, "/console/ws")) as ws:
        assert_forwarded(json.loads((await ws.receive()).data)["headers"])


@needs_nginx
async def test_plain_http_is_sent_to_https(echo_upstream, nginx_before):
    nginx = await nginx_before(echo_upstream.port)
    async with client() as session:
        async with session.get(f"http://127.0.0.1:{nginx.http_port}/wechat?x=1", allow_redirects=False) as resp:
            assert (resp.status, resp.headers["Location"]) == (301, "https://127.0.0.1/wechat?x=1")


@needs_nginx
async def test_wechat_bodies_are_capped_at_64k_while_admin_uploads_may_be_larger(echo_upstream, nginx_before):
    nginx = await nginx_before(echo_upstream.port)
    big = b"x" * (65 * 1024)
    async with client() as session:
        async with session.post(https(nginx, "/wechat"), data=big) as resp:
            assert resp.status == 413
        async with session.post(https(nginx, "/admin/campaigns/import"), data=big * 20) as resp:
            assert resp.status == 200 and (await resp.json())["size"] == len(big) * 20


# ---- in front of the compose stack's app (tests/deploy/conftest.py) ----

def _app(stack):
    return next(s for s in stack.running if s.name == "app")


@needs_nginx
@needs_real_db
@needs_real_redis
async def test_through_nginx_healthz_and_wechat_reach_the_app(compose_stack, nginx_before):
    app = _app(compose_stack)
    nginx = await nginx_before(app.port)
    async with client() as session:
        async with session.get(https(nginx, "/healthz")) as resp:
            assert (resp.status, (await resp.json())["status"]) == (200, "ok")
            assert resp.headers.get("Strict-Transport-Security") == HSTS
            assert resp.headers.get("X-Content-Type-Options") == "nosniff"  # the app's own headers pass too
        query = {"signature": "0" * 40, "timestamp": "1700000000", "nonce": "1", "echostr": "hello"}
        async with session.get(https(nginx, "/wechat"), params=query) as resp:
            assert (resp.status, await resp.text()) == (403, "bad signature")

    async def refusal_logged_with_nginx_request_id() -> bool:
        entries = [json.loads(line) for line in app.log.read_text(errors="replace").splitlines() if line.startswith("{")]
        return any(e.get("msg") == "webhook request refused" and re.fullmatch(r"[0-9a-f]{32}", e.get("request_id", ""))
                   for e in entries)

    assert await wait_until(refusal_logged_with_nginx_request_id, timeout=10), app.log.read_text()[-2000:]


@needs_nginx
@needs_real_db
@needs_real_redis
async def test_through_nginx_metrics_open_to_a_private_client_not_a_forwarded_public_one(compose_stack, nginx_before):
    nginx = await nginx_before(_app(compose_stack).port)
    async with client() as session:
        async with session.get(https(nginx, "/metrics")) as resp:
            assert resp.status == 200 and resp.content_type == "text/plain"
        async with session.get(https(nginx, "/metrics"), headers={"X-Forwarded-For": "8.8.8.8"}) as resp:
            assert (resp.status, await resp.text()) == (403, "metrics are served to private addresses only")
