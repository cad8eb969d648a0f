"""The staff page (admin role): where counsellors, rosters and accounts are managed (the supervisor's
console and `xinzhan user add`); the admin pages keep no staff records of their own."""
from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from bot.auth import require_role


@require_role("admin")
async def staff_page(request: web.Request) -> web.Response:
    return aiohttp_jinja2.render_template("admin_staff.html", request, {})


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/admin/staff", staff_page)
