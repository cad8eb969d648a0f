"""The knowledge browser (admin role): the tips by topic and the service stations, as the bot knows them."""
from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from bot.auth import require_role
from scheduler.outreach import OUTREACH


@require_role("admin")
async def knowledge_page(request: web.Request) -> web.Response:
    knowledge = request.app[OUTREACH].services.knowledge
    library = knowledge.tips
    return aiohttp_jinja2.render_template("admin_knowledge.html", request, {
        "topics": [(t, library.by_topic(t.id)) for t in library.topics()],
        "stations": knowledge.stations.stations()})


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/admin/knowledge", knowledge_page)
