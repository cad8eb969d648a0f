"""Tags for many residents at once, from an uploaded CSV (admin role). The upload's size and encoding
are checked here, its rows by bot.tags; the tags page shows what was imported and what was not."""
from __future__ import annotations

from aiohttp import web

from bot import tags
from bot.auth import require_role
from scheduler import admin_tags
from scheduler.outreach import OUTREACH

MAX_CSV_BYTES = 20 * 1024 * 1024


@require_role("admin")
async def import_tags(request: web.Request) -> web.Response:
    if (request.content_length or 0) > MAX_CSV_BYTES:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_CSV_BYTES, actual_size=request.content_length)
    form = await request.post()
    upload = form.get("file")
    if upload is None or not hasattr(upload, "file"):
        return await admin_tags.render(request, error="请选择一个 CSV 文件")
    try:
        text = upload.file.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        return await admin_tags.render(request, error="CSV 需为 UTF-8 编码")
    result = await tags.import_csv(request.app[OUTREACH].services.db, text)
    return await admin_tags.render(request, result=result)


def setup_routes(app: web.Application) -> None:
    app.router.add_post("/admin/tags/import", import_tags)
