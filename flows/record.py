"""The mental-health record (心理健康档案): saving results, the signed link, the resident's page.

The page is reached from a chat link, not a login, so the link carries the resident id signed
with the service's secret and an expiry; without a valid signature the page shows nothing.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import select

from bot import localtime
from bot.appkeys import CONFIG, SERVICES
from bot.db import utcnow
from bot.models import Resident
from bot.services import Services
from bot.values import Article, Reply
from bot.charts import BandArea, band_fill, trend_svg
from flows.models import Assessment
from knowledge.scales import ScoreResult

log = logging.getLogger(__name__)

LINK_DAYS = 7
LINK_SECONDS = LINK_DAYS * 24 * 3600


async def save_assessment(services: Services, resident_id: int, result: ScoreResult, answers: list[int], *,
                          source: str, entered_by: int | None = None) -> Assessment:
    extras = {k: v for k, v in (("percent", result.percent), ("band_alt", result.band_alt)) if v is not None}
    row = Assessment(resident_id=resident_id, scale=result.scale, answers=list(answers), total=result.total,
                     band=result.band, flags=list(result.flags), extras=extras, source=source,
                     entered_by=entered_by, created_at=utcnow())
    async with services.db.begin() as session:
        session.add(row)
    return row


async def assessments_of(services: Services, resident_id: int) -> list[Assessment]:
    async with services.db() as session:
        rows = await session.scalars(select(Assessment).where(Assessment.resident_id == resident_id)
                                     .order_by(Assessment.created_at, Assessment.id))
        return list(rows)


def _signature(secret: str, payload: str) -> str:
    digest = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def make_token(secret: str, resident_id: int, now: float | None = None) -> str:
    payload = f"{resident_id}.{int((now or time.time()) + LINK_SECONDS)}"
    return f"{payload}.{_signature(secret, payload)}"


def read_token(secret: str, token: str, now: float | None = None) -> int | None:
    """The resident id in a valid, unexpired token; None for anything else."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    payload = f"{parts[0]}.{parts[1]}"
    if not hmac.compare_digest(_signature(secret, payload).encode(), parts[2].encode()):  # bytes: any text
        return None
    if int(parts[1]) < (now or time.time()):
        return None
    return int(parts[0])


async def record_reply(ctx) -> list[Reply]:
    """The answer to 档案/history: a news reply linking to the resident's signed record page."""
    count = len(await assessments_of(ctx.services, ctx.ref.id))
    if not count:
        return [Reply(text=ctx.t("record.empty"))]
    config = ctx.services.config
    if not config.public_url:  # a bare path opens nowhere in WeChat
        log.warning("record link not sent: XZ_PUBLIC_URL is not set")
        return [Reply(text=ctx.t("record.no_link"))]
    url = f"{config.public_url}/record/{make_token(config.secret_key, ctx.ref.id)}"
    return [Reply(articles=(Article(title=ctx.t("record.link_title"),
                                    description=ctx.t("record.link_description", count=count, days=LINK_DAYS),
                                    url=url),))]


async def record_page(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    knowledge = services.knowledge
    resident_id = read_token(request.app[CONFIG].secret_key, request.match_info["token"])
    resident = None
    if resident_id is not None:
        async with services.db() as session:
            resident = await session.get(Resident, resident_id)
    lang = resident.language if resident else "zh-Hans"
    texts = knowledge.texts

    def t(key: str, **values) -> str:
        return texts.get(key, lang, **values)

    headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}
    if resident is None:
        response = aiohttp_jinja2.render_template("flows_record.html", request,
                                                  {"t": t, "lang": lang, "scales": [], "valid": False}, status=404)
        response.headers.update(headers)
        return response
    rows = await assessments_of(services, resident.id)
    scales = []
    for scale_id in dict.fromkeys(row.scale for row in rows):
        mine = [row for row in rows if row.scale == scale_id]
        try:
            scale = knowledge.scales.get(scale_id)
        except ValueError:  # a scale retired from knowledge/ still shows its history
            scales.append({"name": scale_id, "rows": mine, "svg": "", "labels": {}, "legend": []})
            continue
        labels = {b.id: b.label.get(lang) for b in scale.bands}
        bands = [BandArea(b.low, b.high, b.label.get(lang)) for b in scale.bands]
        scales.append({"name": scale.name.get(lang), "rows": list(reversed(mine)), "labels": labels,
                       "svg": trend_svg([(localtime.local(r.created_at), r.total) for r in mine], scale.total_range,
                                        bands, lang),
                       "legend": [(band_fill(i), band) for i, band in enumerate(bands)]})
    response = aiohttp_jinja2.render_template("flows_record.html", request,
                                              {"t": t, "lang": lang, "scales": scales, "valid": True})
    response.headers.update(headers)
    return response
