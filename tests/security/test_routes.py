"""Every route of the full app, walked: public by an explicit decision, or guarded by its declared roles.

The expected answers come from each handler's `@require_role(...)` declaration, read off the
guard itself, so a route added without a guard, or a role check that lets the wrong staff in,
fails here whatever page it is.
"""
from __future__ import annotations

import inspect
import re

from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from bot.app import create_app
from bot.appkeys import SERVICES
from bot.auth import COOKIE, SESSIONS, require_role
from bot.auth.users import ROLES, add_user
from bot.config import REAL_WECHAT_API

# Paths anyone may call, and why. Everything else must declare its roles.
PUBLIC = {
    "/wechat": "the platform's webhook: every request is signed (tests/security/test_webhook_fuzz.py)",
    "/healthz": "load balancers and compose health checks; says only ok/degraded",
    "/metrics": "private addresses or a bearer token (test_metrics_access.py)",
    "/login": "the way in; CSRF-checked and throttled",
    "/logout": "ends the caller's own session (or, with everywhere, all of the caller's) only; CSRF-checked",
    "/record/{token}": "a resident's own record, opened by a signed link that expires",
    "/privacy": "the privacy notice, public by design: residents read it before they consent",
}
# The simulator speaks as any resident, so it only exists while the WeChat API is a mock (demo, tests).
MOCK_ONLY = {"/simulator", "/simulator/api/send", "/simulator/api/inbox"}
STAFF_PATHS = ("/console", "/admin", "/review", "/api/")
GUARD_CODE = require_role("admin")(lambda request: None).__code__
PASSWORD = "route-walk-password"


def declared_roles(handler) -> frozenset[str] | None:
    """The roles a `@require_role` guard admits (all staff when it names none); None when unguarded."""
    if getattr(handler, "__code__", None) is not GUARD_CODE:
        return None
    return frozenset(inspect.getclosurevars(handler).nonlocals["roles"]) or frozenset(ROLES)


def sample_path(route: web.AbstractRoute) -> str:
    """A concrete path this route matches: ids become 1, a choice becomes its first option."""
    info = route.resource.get_info()
    if "path" in info:
        return info["path"]

    def fill(group: re.Match) -> str:
        choices = group.group(1)
        return choices.split("|")[0] if re.fullmatch(r"[\w|]+", choices) else "1"
    filled = re.sub(r"\(\?P<\w+>([^()]*)\)", fill, info["pattern"].pattern)
    return re.sub(r"\\(.)", r"\1", filled)


def guarded_routes(app: web.Application) -> list[tuple[str, str, str, frozenset[str]]]:
    found = []
    for route in app.router.routes():
        pattern = route.resource.canonical
        roles = declared_roles(route.handler)
        if roles is not None:
            found.append((route.method, pattern, sample_path(route), roles))
    return found


def test_every_route_is_public_by_decision_or_declares_its_roles(client):
    undecided = sorted({(r.method, r.resource.canonical) for r in client.server.app.router.routes()
                        if declared_roles(r.handler) is None and r.resource.canonical not in set(PUBLIC) | MOCK_ONLY})
    assert undecided == [], "routes with neither a @require_role guard nor a place in PUBLIC"
    patterns = {r.resource.canonical for r in client.server.app.router.routes()}
    assert set(PUBLIC) | MOCK_ONLY <= patterns, "PUBLIC names a route that no longer exists"


def test_against_the_real_wechat_api_the_simulator_does_not_exist(app_config):
    app = create_app(app_config.with_(wechat_api_base=REAL_WECHAT_API))
    assert not [r for r in app.router.routes() if r.resource.canonical in MOCK_ONLY]


async def test_the_sample_paths_reach_their_own_routes(client):
    app = client.server.app
    for method, pattern, path, _ in guarded_routes(app):
        match = await app.router.resolve(make_mocked_request(method, path, app=app))
        assert match.route.resource.canonical == pattern, (method, pattern, path)


async def session_cookies(client) -> dict[str, tuple[str, str]]:
    """{role: (session id, csrf)} for one account per role."""
    app, sessions = client.server.app, {}
    for role in ROLES:
        staff = await add_user(app[SERVICES].db, f"walk-{role}", PASSWORD, [role])
        created = await app[SESSIONS].create(staff.id, staff.credential)
        sessions[role] = (created.sid, created.csrf)
    return sessions


def refused_anonymous(resp: web.Response) -> bool:
    if resp.status in (401, 403):
        return True
    return resp.status in (302, 303) and resp.headers.get("Location", "").startswith("/login")


def headers_missing(path: str, resp) -> list[str]:
    missing = [h for h in ("X-Content-Type-Options", "X-Frame-Options", "Content-Security-Policy",
                           "Referrer-Policy") if h not in resp.headers]
    if path.startswith(STAFF_PATHS) and resp.headers.get("Cache-Control") != "no-store":
        missing.append("Cache-Control: no-store")
    return missing


async def test_every_guarded_route_refuses_anonymous_visitors_and_the_wrong_roles(client):
    sessions = await session_cookies(client)
    problems = []
    for method, pattern, path, allowed in guarded_routes(client.server.app):
        resp = await client.request(method, path, allow_redirects=False)
        if not refused_anonymous(resp):
            problems.append(f"{method} {pattern}: anonymous got {resp.status}")
        if missing := headers_missing(path, resp):
            problems.append(f"{method} {pattern}: anonymous answer lacks {missing}")
        for role, (sid, csrf) in sessions.items():
            resp = await client.request(method, path, allow_redirects=False,
                                        headers={"Cookie": f"{COOKIE}={sid}", "X-CSRF-Token": csrf})
            body = await resp.text()
            if role not in allowed and resp.status != 403:
                problems.append(f"{method} {pattern}: {role} (not in {sorted(allowed)}) got {resp.status}")
            if role in allowed and (resp.status == 401 or refused_anonymous(resp) and resp.status != 403
                                    or "你的角色无权访问" in body):
                problems.append(f"{method} {pattern}: {role} (allowed) was turned away with {resp.status}")
            if missing := headers_missing(path, resp):
                problems.append(f"{method} {pattern}: {role}'s answer lacks {missing}")
    assert not problems, "\n".join(problems)
