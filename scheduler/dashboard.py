"""The admin dashboard: the service's figures over a chosen period, read-only over every package's
tables. A table that does not exist yet (a package not installed) shows as "no data", not an error."""
from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta, timezone
from functools import partial

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import extract, func, or_, select
from sqlalchemy.exc import SQLAlchemyError

from bot import localtime
from bot.auth import require_role
from bot.db import utcnow
from bot.labels import LABELS, Labels
from bot import charts
from scheduler.models import Delivery
from scheduler.outreach import OUTREACH

log = logging.getLogger(__name__)
PERIODS = (7, 30, 90, 365)
WAITING = "waiting"  # handoff.models.Case.status of a case no counsellor has taken yet


def _band_label(scales, scale_id: str, band_id: str) -> str:
    """"PHQ-9 中度抑郁症状": the scale's own words for its band, where the scale is still known."""
    try:
        bands = {b.id: b.label.get("zh-Hans") for b in scales.get(scale_id).bands}
    except (AttributeError, LookupError, ValueError):
        return f"{scale_id} {band_id}"
    return f"{scale_id} {bands.get(band_id, band_id)}"


async def _assessments(session, since, scales=None):
    from flows.models import Assessment

    bands = (await session.execute(select(Assessment.scale, Assessment.band, func.count())
                                   .where(Assessment.created_at >= since)
                                   .group_by(Assessment.scale, Assessment.band))).all()
    people = await session.scalar(select(func.count(func.distinct(Assessment.resident_id)))
                                  .where(Assessment.created_at >= since))
    return {"chart": charts.bars([(_band_label(scales, s, b), n) for s, b, n in bands], title="测评结果：按量表与分级的次数"),
            "total": sum(n for *_, n in bands), "people": people or 0}


async def _handoffs(session, since, labels: Labels):
    from handoff.models import Case

    levels = (await session.execute(select(Case.level, func.count()).where(
        Case.queued_at >= since, Case.reason == "crisis").group_by(Case.level).order_by(Case.level.desc()))).all()
    now = utcnow()
    # A case still waiting has waited until now (at least): leaving it out would flatter the figures.
    waits = (await session.execute(select(Case.queued_at, Case.claimed_at).where(
        Case.queued_at >= since, or_(Case.claimed_at.is_not(None), Case.status == WAITING)).limit(20000))).all()
    total = await session.scalar(select(func.count()).select_from(Case).where(Case.queued_at >= since))
    minutes = sorted(((c or now) - q).total_seconds() / 60 for q, c in waits)
    still_waiting = sum(1 for _, c in waits if c is None)
    median = minutes[len(minutes) // 2] if minutes else None
    buckets = [("<1 分钟", sum(m < 1 for m in minutes)), ("1-5 分钟", sum(1 <= m < 5 for m in minutes)),
               ("5-15 分钟", sum(5 <= m < 15 for m in minutes)), (">15 分钟", sum(m >= 15 for m in minutes))]
    return {"crisis": charts.bars([(labels.level(lvl), n) for lvl, n in levels], title="危机识别：按风险等级的个案数",
                                  colours=[f"var(--l{lvl})" for lvl, _ in levels]), "total": total or 0,
            "waits": charts.bars(buckets if minutes else [], title="转人工等待时间分布（含仍在等待的个案）", unit=" 例"),
            "median": median, "still_waiting": still_waiting}


EVENTS_CHARTED = 10


async def _events(session, since, labels: Labels):
    """Events in the period, their registrations, and attendance at those already held."""
    from flows.models import Event, Registration

    now = utcnow()
    events = await session.scalar(select(func.count()).select_from(Event).where(Event.starts_at >= since))
    statuses = (await session.execute(select(Registration.status, func.count()).join(Event).where(
        Event.starts_at >= since).group_by(Registration.status))).all()
    came = func.count(Registration.attended_at)
    held = (await session.execute(
        select(Event.title_zh, came, func.count(Registration.id).filter(Registration.status == "registered"))
        .join(Registration, Registration.event_id == Event.id)
        .where(Event.starts_at >= since, Event.starts_at <= now, Event.cancelled.is_(False))
        .group_by(Event.id, Event.title_zh, Event.starts_at).order_by(Event.starts_at.desc()))).all()
    attended, expected = sum(n for _, n, _ in held), sum(r for *_, r in held)
    return {"events": events or 0, "chart": charts.bars([(labels(s, "registration"), n) for s, n in statuses],
                                                         title="活动报名：按报名状态的人数"),
            "attended": attended,
            "attendance": round(100 * attended / expected) if expected else None,
            "by_event": charts.bars([(title, n) for title, n, _ in held[:EVENTS_CHARTED]], unit=" 人",
                                    title="已举办活动的出席人数")}


async def _reach(session, since, labels: Labels):
    statuses = (await session.execute(select(Delivery.status, func.count()).where(Delivery.created_at >= since)
                                      .group_by(Delivery.status))).all()
    reached = await session.scalar(select(func.count(func.distinct(Delivery.resident_id))).where(
        Delivery.created_at >= since, Delivery.status == "sent"))
    return {"chart": charts.bars([(labels(s, "delivery"), n) for s, n in statuses], title="推送结果：按发送状态的条数"),
            "reached": reached or 0}


async def _unclear(session, since):
    """The weekly share of free text the bot answered as not understood: where residents ask for what
    we lack (read as `unclear`, or too unsure with `unclear` the runner-up)."""
    from flows.models import IntentRead

    # counted per UTC day and hour, then placed in the local day (bot/localtime.py) in Python
    day, hour = func.date(IntentRead.created_at), extract("hour", IntentRead.created_at)
    rows = (await session.execute(select(day, hour, func.count(), func.count().filter(IntentRead.action == "unclear"))
                                  .where(IntentRead.created_at >= since).group_by(day, hour))).all()
    weeks: dict[date, list[int]] = {}
    for day_value, hour_value, read, unclear in rows:
        utc_day = day_value if isinstance(day_value, date) else date.fromisoformat(str(day_value))
        moment = localtime.local(datetime.combine(utc_day, time(int(hour_value)), timezone.utc)).date()
        week = weeks.setdefault(moment - timedelta(days=moment.weekday()), [0, 0])
        week[0] += read
        week[1] += unclear
    shares = [(f"{monday:%m-%d} 当周", round(100 * unclear / read, 1))
              for monday, (read, unclear) in sorted(weeks.items())]
    read, unclear = sum(r for r, _ in weeks.values()), sum(u for _, u in weeks.values())
    return {"chart": charts.bars(shares, unit="%", title="每周没读懂的留言占比"), "read": read, "unclear": unclear,
            "share": round(100 * unclear / read, 1) if read else None}


async def _figure(sessions, name: str, fn, since):
    try:
        async with sessions() as session:
            return await fn(session, since)
    except (ImportError, SQLAlchemyError):
        log.info("dashboard figure unavailable", extra={"figure": name})
        return None


def _scales(app: web.Application):
    return app[OUTREACH].services.knowledge.scales


@require_role("admin")
async def dashboard(request: web.Request) -> web.Response:
    try:
        days = int(request.query.get("days", "30"))
    except ValueError:
        days = 30
    days = days if days in PERIODS else 30
    since = utcnow() - timedelta(days=days)
    db = request.app[OUTREACH].services.db
    labels = request.app[LABELS]
    figures = {name: await _figure(db, name, fn, since) for name, fn in (
        ("assessments", partial(_assessments, scales=_scales(request.app))),
        ("handoffs", partial(_handoffs, labels=labels)), ("events", partial(_events, labels=labels)),
        ("reach", partial(_reach, labels=labels)), ("unclear", _unclear))}
    return aiohttp_jinja2.render_template("admin_dashboard.html", request,
                                          {"days": days, "periods": PERIODS, **figures})


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/admin", dashboard)
