"""The tags page (admin role): how many residents carry each tag, and one resident tagged or untagged
by openid. A CSV import of many residents' tags (scheduler/admin_tag_import.py) shows its result here."""
from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import select

from bot.auth import require_role
from bot.models import Resident
from bot import tags
from scheduler.outreach import OUTREACH

admin = require_role("admin")


async def render(request: web.Request, result: tags.ImportResult | None = None, error: str = "") -> web.Response:
    """The page with what was just done, or why it was not; its callers are the role-checked handlers."""
    counts = await tags.tag_counts(request.app[OUTREACH].services.db)
    return aiohttp_jinja2.render_template("admin_tags.html", request,
                                          {"counts": counts, "result": result, "error": error})


@admin
async def tags_page(request: web.Request) -> web.Response:
    return await render(request)


@admin
async def tag_resident(request: web.Request) -> web.Response:
    form = await request.post()
    db = request.app[OUTREACH].services.db
    async with db() as session:
        resident_id = await session.scalar(select(Resident.id).where(Resident.openid == str(form.get("openid", ""))))
    if resident_id is None:
        return await render(request, error="没有这个 openid 的居民")
    try:
        if form.get("remove"):
            await tags.remove_tag(db, resident_id, str(form.get("tag", "")))
        else:
            await tags.add_tags(db, resident_id, [str(form.get("tag", ""))])
    except ValueError as exc:
        return await render(request, error=str(exc))
    raise web.HTTPFound("/admin/tags")


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/admin/tags", tags_page)
    app.router.add_post("/admin/tags", tag_resident)
