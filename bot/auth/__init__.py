"""Staff authentication and roles, shared by the console, admin and review pages.

`@require_role(...)` guards a handler: anonymous visitors go to the login page (or get 401 on
/api paths), the wrong role gets 403, and unsafe methods must carry the session's CSRF token.
A refusal answers a JSON call in JSON and a page with a page that keeps the navigation.
"""
from __future__ import annotations

import functools
import hmac
import json
from urllib.parse import quote

import aiohttp_jinja2
from aiohttp import web

from bot.appkeys import SERVICES
from bot.auth.sessions import Session, SessionStore
from bot.auth.users import Staff, load_staff

COOKIE = "xz_session"
SESSIONS = web.AppKey("staff_sessions", SessionStore)
SESSION_OF_REQUEST = web.RequestKey("staff_session", object)
USER_OF_REQUEST = web.RequestKey("staff_user", object)
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}

__all__ = ["Staff", "current_user", "current_session", "require_role", "template_context", "COOKIE", "SESSIONS"]


async def current_session(request: web.Request) -> Session | None:
    if SESSION_OF_REQUEST not in request:
        request[SESSION_OF_REQUEST] = await request.app[SESSIONS].get(request.cookies.get(COOKIE, ""))
    return request[SESSION_OF_REQUEST]


async def current_user(request: web.Request) -> Staff | None:
    """The session's staff member, if their account is active and the session was opened with
    their present password (a change or reset ends older sessions, see sessions.py)."""
    if USER_OF_REQUEST not in request:
        session = await current_session(request)
        user = (await load_staff(request.app[SERVICES].db, session.user_id)) if session else None
        if user is not None and not hmac.compare_digest(session.credential, user.credential):
            await request.app[SESSIONS].drop(session.sid)
            request[SESSION_OF_REQUEST], user = None, None
        request[USER_OF_REQUEST] = user
    return request[USER_OF_REQUEST]


def login_redirect(request: web.Request) -> web.HTTPFound:
    return web.HTTPFound("/login?next=" + quote(request.path_qs, safe=""))


def wants_json(request: web.Request) -> bool:
    """A JSON API call (any /api/ path, or a client asking for JSON), not a page in a browser."""
    return "/api/" in request.path or "application/json" in request.headers.get("Accept", "")


def not_logged_in(request: web.Request) -> web.HTTPException:
    if wants_json(request):
        return web.HTTPUnauthorized(text=json.dumps({"error": "login required"}), content_type="application/json")
    return login_redirect(request)


async def refusal(request: web.Request, message: str, status: int = 403) -> web.HTTPException:
    """A 401/403 as JSON for an API call, else a page with the navigation and where to go instead."""
    kind = web.HTTPForbidden if status == 403 else web.HTTPUnauthorized
    if wants_json(request):
        return kind(text=json.dumps({"error": message}, ensure_ascii=False), content_type="application/json")
    context = {**await template_context(request), "message": message}
    return kind(text=aiohttp_jinja2.render_string("forbidden.html", request, context), content_type="text/html")


async def _csrf_ok(request: web.Request, session: Session) -> bool:
    sent = request.headers.get("X-CSRF-Token", "")
    if not sent and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        sent = str((await request.post()).get("_csrf", ""))
    return hmac.compare_digest(sent.encode("utf-8", "surrogatepass"), session.csrf.encode())  # bytes: any input


def require_role(*roles: str):
    """Allow staff holding any of `roles`; check CSRF on unsafe methods."""
    def decorate(handler):
        @functools.wraps(handler)
        async def guarded(request: web.Request):
            user = await current_user(request)
            if user is None:
                raise not_logged_in(request)
            if roles and not user.has(*roles):
                raise await refusal(request, "你的角色无权访问此页面。")
            if request.method in UNSAFE and not await _csrf_ok(request, await current_session(request)):
                raise await refusal(request, "页面已过期（CSRF 校验失败），请刷新页面后重试。")
            return await handler(request)
        return guarded
    return decorate


async def template_context(request: web.Request) -> dict:
    """Every page template gets the logged-in user and the CSRF token."""
    if SESSIONS not in request.app:  # e.g. the mock WeChat sub-application
        return {}
    session = await current_session(request)
    return {"user": await current_user(request), "csrf_token": session.csrf if session else ""}
