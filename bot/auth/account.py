"""A staff member's own account page: change the password, sign out everywhere.

Both end every session the person has open (a phone left logged in, a shared computer at the
station); a password change opens a fresh session for the browser that made it. Signing out
everywhere is the logout form with `everywhere` set (bot/auth/views.py).
"""
from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from bot.appkeys import CONFIG, SERVICES
from bot.auth import COOKIE, SESSIONS, current_user, require_role
from bot.auth.sessions import IDLE_SECONDS
from bot.auth.throttle import THROTTLE
from bot.auth.users import authenticate, set_password
from bot.client_address import client_address


async def account_page(request: web.Request, error: str = "", status: int = 200) -> web.Response:
    return aiohttp_jinja2.render_template("account.html", request, {
        "error": error, "changed": request.query.get("changed") == "1"}, status=status)


@require_role()
async def show(request: web.Request) -> web.Response:
    return await account_page(request)


@require_role()
async def change_password(request: web.Request) -> web.Response:
    user, form = await current_user(request), await request.post()
    throttle, address = request.app[THROTTLE], client_address(request) or "-"
    if (await throttle.check(user.username, address))[0]:
        return await account_page(request, "尝试次数过多，请15分钟后再试。", 429)
    if await authenticate(request.app[SERVICES].db, user.username, str(form.get("current", ""))) is None:
        await throttle.failed(user.username, address)
        return await account_page(request, "当前密码不对。", 400)
    new = str(form.get("new", ""))
    if new != str(form.get("confirm", "")):
        return await account_page(request, "两次输入的新密码不一致。", 400)
    try:
        changed = await set_password(request.app[SERVICES].db, user.id, new)
    except ValueError as exc:
        return await account_page(request, str(exc), 400)
    sessions = request.app[SESSIONS]
    await sessions.drop_all(user.id)
    session = await sessions.create(changed.id, changed.credential)
    response = web.HTTPSeeOther("/account?changed=1")
    response.set_cookie(COOKIE, session.sid, httponly=True, samesite="Lax", max_age=IDLE_SECONDS,
                        secure=request.app[CONFIG].cookie_secure)
    raise response


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/account", show)
    app.router.add_post("/account/password", change_password)
