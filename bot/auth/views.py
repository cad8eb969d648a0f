"""Login and logout, the guard that sends anonymous visitors of staff areas to the login page, what
page templates get about the staff member, and the demo's seeded staff accounts."""
from __future__ import annotations

import asyncio
import hmac
import secrets
from urllib.parse import urlsplit

import aiohttp_jinja2
from aiohttp import web

from bot.appkeys import CONFIG, SERVICES
from bot.client_address import client_address
from bot.auth import (COOKIE, SESSIONS, account, current_session, current_user, not_logged_in, refusal,
                      template_context)
from bot.auth.sessions import IDLE_SECONDS, SessionStore
from bot.auth.throttle import THROTTLE, LoginThrottle
from bot.auth.users import ROLES, add_user, authenticate, normalise_username
from bot.wechat.webhook import PATH as WEBHOOK_PATH

STAFF_AREAS = ("/console", "/admin", "/review")
LOGIN_CSRF_COOKIE = "xz_login_csrf"
HOME_BY_ROLE = (("counsellor", "/console"), ("supervisor", "/console"), ("admin", "/admin"), ("reviewer", "/review"))


@web.middleware
async def page_context(request: web.Request, handler):
    """What every page template gets (aiohttp_jinja2's context processors: the staff member, the CSRF
    token, the request), made for any request but the webhook's: it renders no page, and a cookie
    sent along with a message would cost a session lookup."""
    if request.path == WEBHOOK_PATH:
        return await handler(request)
    return await aiohttp_jinja2.context_processors_middleware(request, handler)


@web.middleware
async def staff_area_guard(request: web.Request, handler):
    """Nobody anonymous sees anything under the staff areas, whatever the page; a refusal there
    (a 403 raised as bare text by any handler) keeps the navigation, or is JSON for an API call.
    Anything else, the webhook included, passes at once."""
    if not request.path.startswith(STAFF_AREAS):
        return await handler(request)
    if await current_user(request) is None:
        raise not_logged_in(request)
    try:
        return await handler(request)
    except web.HTTPForbidden as refused:
        if refused.content_type != "text/plain":
            raise
        raise await refusal(request, refused.text or "你无权访问此页面。") from None


def _safe_next(target: str) -> str:
    parts = urlsplit(target)
    return target if target.startswith("/") and not target.startswith("//") and not parts.netloc else ""


def _home(user) -> str:
    return next((path for role, path in HOME_BY_ROLE if role in user.roles), "/console")


async def login_page(request: web.Request, error: str = "", status: int = 200) -> web.Response:
    token = secrets.token_urlsafe(24)
    response = aiohttp_jinja2.render_template("login.html", request, {
        "login_csrf": token, "next": _safe_next(request.query.get("next", "")), "error": error}, status=status)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="Strict",
                        secure=request.app[CONFIG].cookie_secure, max_age=3600)
    return response


async def login(request: web.Request) -> web.Response:
    form = await request.post()
    if not hmac.compare_digest(str(form.get("_csrf", "")).encode("utf-8", "surrogatepass"),
                               request.cookies.get(LOGIN_CSRF_COOKIE, "").encode("utf-8", "surrogatepass")) \
            or not form.get("_csrf"):
        return await login_page(request, "页面已过期，请重新登录。", 403)
    username, password = normalise_username(str(form.get("username", ""))), str(form.get("password", ""))
    address = client_address(request) or "-"
    throttle = request.app[THROTTLE]
    blocked, delay = await throttle.check(username, address)
    if blocked:
        return await login_page(request, "尝试次数过多，请15分钟后再试。", 429)
    await asyncio.sleep(delay)  # an account guessed at from many addresses: slower, never locked
    user = await authenticate(request.app[SERVICES].db, username, password)
    if user is None:
        await throttle.failed(username, address)
        return await login_page(request, "用户名或密码错误。", 401)
    await throttle.succeeded(username, address)
    old = await current_session(request)
    if old is not None:
        await request.app[SESSIONS].drop(old.sid)  # a new session id at every login (no fixation)
    session = await request.app[SESSIONS].create(user.id, user.credential)
    response = web.HTTPFound(_safe_next(str(form.get("next", ""))) or _home(user))
    response.set_cookie(COOKIE, session.sid, httponly=True, samesite="Lax", max_age=IDLE_SECONDS,
                        secure=request.app[CONFIG].cookie_secure)
    response.del_cookie(LOGIN_CSRF_COOKIE)
    raise response


async def logout(request: web.Request) -> web.Response:
    """Ends this session, or with `everywhere` set every session of its owner (the account page)."""
    session = await current_session(request)
    if session is not None:
        form = await request.post()
        if not hmac.compare_digest(str(form.get("_csrf", "")).encode("utf-8", "surrogatepass"), session.csrf.encode()):
            raise web.HTTPForbidden(text="CSRF token missing or wrong")
        if form.get("everywhere"):
            await request.app[SESSIONS].drop_all(session.user_id)
        await request.app[SESSIONS].drop(session.sid)
    response = web.HTTPFound("/login")
    response.del_cookie(COOKIE)
    raise response


async def auth_stores(app: web.Application):
    redis = app[SERVICES].redis
    app[SESSIONS] = SessionStore(redis)
    app[THROTTLE] = LoginThrottle(redis)
    yield


def setup_app(app: web.Application) -> None:
    app.cleanup_ctx.append(auth_stores)
    app[aiohttp_jinja2.APP_CONTEXT_PROCESSORS_KEY] = (template_context, aiohttp_jinja2.request_processor)
    app.middlewares.append(page_context)
    app.middlewares.append(staff_area_guard)
    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
    account.setup_routes(app)


async def seed_demo(app: web.Application) -> None:
    """One account per role, named after the role; the password is XZ_DEMO_PASSWORD or printed once."""
    password = app[CONFIG].demo_password or secrets.token_urlsafe(9)
    for role in ROLES:
        await add_user(app[SERVICES].db, role, password, [role], display_name=DEMO_NAMES[role], replace=True)
    print(f"  staff logins:   {', '.join(ROLES)} (password: {password})", flush=True)


DEMO_NAMES = {"counsellor": "王咨询师", "supervisor": "李督导", "admin": "管理员", "reviewer": "质控员"}
