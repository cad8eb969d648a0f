"""Admin pages for campaigns, their runs and audiences (admin role): create, preview, schedule, run now,
progress, pause, resume, cancel."""
from __future__ import annotations

import uuid

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import select

from bot import localtime, tags
from bot.auth import require_role
from bot.labels import LABELS
from bot.db import utcnow
from bot.models import Resident, ResidentTag
from scheduler import audiences, content, launch, runs, send_time
from scheduler.audiences import AudienceRule, Recipient
from scheduler.card import template_card
from scheduler.engine import validate_schedule
from scheduler.forms import FormError, content_from, field_input, schedule_from
from scheduler.jobs import fire_campaign, occurrence_now
from scheduler.models import Audience, Campaign, CampaignRun, Delivery
from scheduler.outreach import OUTREACH
from scheduler.render import RenderError, compile_checked, render_checked
from scheduler.run_audience import audience_conditions
from scheduler.template_catalog import catalogue

admin = require_role("admin")


def _id(request: web.Request, name: str) -> int:
    try:
        return int(request.match_info[name])
    except ValueError:
        raise web.HTTPNotFound() from None


async def _audiences(request) -> list[Audience]:
    async with request.app[OUTREACH].services.db() as session:
        return list(await session.scalars(select(Audience).order_by(Audience.name)))


@admin
async def campaigns_page(request: web.Request) -> web.Response:
    return await _campaigns_page(request)


async def _campaigns_page(request: web.Request, error: str = "", status: int = 200) -> web.Response:
    """The campaigns page, with why a new campaign was refused; its callers are role-checked handlers."""
    async with request.app[OUTREACH].services.db() as session:
        campaigns = list(await session.scalars(select(Campaign).order_by(Campaign.id.desc())))
    return aiohttp_jinja2.render_template("admin_campaigns.html", request, {
        "campaigns": campaigns, "audiences": await _audiences(request), "error": error,
        "anchors": list(audiences.ANCHORS), **_form_context(request)}, status=status)


def _form_context(request: web.Request) -> dict:
    """What the campaign form needs: the configured templates field by field, and the quiet hours."""
    return {"templates": catalogue(), "field_input": field_input, "settings": request.app[OUTREACH].settings}


async def _campaign_from_form(request: web.Request, campaign: Campaign) -> None:
    form = await request.post()
    out = request.app[OUTREACH]
    campaign.name = str(form.get("name") or "").strip()[:128] or "未命名"
    campaign.channel, campaign.content = content_from(form)
    campaign.schedule = schedule_from(form)
    audience = str(form.get("audience_id") or "")
    campaign.audience_id = int(audience) if audience.isdigit() else None
    campaign.active = form.get("active", "on") == "on"
    try:
        await compile_checked(campaign.channel, campaign.content)
        validate_schedule(campaign.schedule, out.settings.timezone)
    except (RenderError, ValueError) as exc:
        raise FormError(str(exc)) from None
    programme = campaign.schedule.get("tag") if campaign.schedule.get("anchor") == audiences.ENROLMENT else None
    if programme and not await tags.is_known(out.services.db, programme):
        raise FormError(f"unknown tag {programme!r}: no resident carries it (未知标签，请先在「标签」页为居民打上此标签)")


@admin
async def create_campaign(request: web.Request) -> web.Response:
    campaign = Campaign()
    try:
        await _campaign_from_form(request, campaign)
    except FormError as exc:
        return await _campaigns_page(request, str(exc), 400)
    async with request.app[OUTREACH].services.db.begin() as session:
        session.add(campaign)
        await session.flush()
    raise web.HTTPFound(f"/admin/campaigns/{campaign.id}")


async def _load(request: web.Request) -> Campaign:
    async with request.app[OUTREACH].services.db() as session:
        campaign = await session.get(Campaign, _id(request, "campaign_id"))
    if campaign is None:
        raise web.HTTPNotFound(text="no such campaign")
    return campaign


SAMPLE_RESIDENT = Recipient(0, "", "小李", "zh-Hans", "")  # the preview before an openid is given


async def preview(request: web.Request, campaign: Campaign, openid: str) -> dict:
    """The message one resident (or a sample resident) would get, as it will appear, or why they would not."""
    out = request.app[OUTREACH]
    recipient, station = SAMPLE_RESIDENT, None
    if openid:
        async with out.services.db() as session:
            resident = await session.scalar(select(Resident).where(Resident.openid == openid))
            if resident is None:
                return {"error": "没有这个 openid 的居民"}
            station = await session.scalar(select(ResidentTag.tag).where(
                ResidentTag.resident_id == resident.id, ResidentTag.tag.startswith(content.STATION_TAG)))
        recipient = Recipient(resident.id, resident.openid, resident.name, resident.language, resident.area)
    today = localtime.local(utcnow()).date()
    shared = {"assessment_due": today.isoformat(), "tip": content.tip_context(content.tip_of_the_day(today, out.services.knowledge.tips)),
              "event": {"title": "（活动名称）", "starts_at": localtime.fmt(utcnow()), "place": "（地点）",
                        "reminder": "（活动提醒）"}}
    try:
        renderer = await compile_checked(campaign.channel, campaign.content)
        message = await render_checked(renderer, content.resident_context(
            out.services.knowledge, recipient, station[len(content.STATION_TAG):] if station else None, shared))
    except RenderError as exc:
        return {"error": str(exc)}
    if message.channel == "template":
        return {"card": template_card(message), "channel": message.channel, "sample": not openid}
    return {"message": message.summary(), "channel": message.channel, "sample": not openid}


@admin
async def campaign_page(request: web.Request) -> web.Response:
    out = request.app[OUTREACH]
    campaign = await _load(request)
    async with out.services.db() as session:
        run_ids = list(await session.scalars(select(CampaignRun.id).where(CampaignRun.campaign_id == campaign.id)
                                             .order_by(CampaignRun.id.desc()).limit(20)))
    size = None
    try:
        size = await audiences.count(out.services.db, await audience_conditions(out, campaign, CampaignRun(context={})))
    except Exception:  # noqa: BLE001 - a bad saved rule shows as unknown size, not a broken page
        size = None
    openid = request.query.get("openid", "")
    return aiohttp_jinja2.render_template("admin_campaign.html", request, {
        "campaign": campaign, "size": size, "runs": [await runs.progress(out, r) for r in run_ids],
        "preview": await preview(request, campaign, openid), "openid": openid,
        "held": send_time.held_send(campaign.schedule, out.settings, utcnow()) if campaign.active else None,
        "next_send": send_time.next_planned(campaign.schedule, out.settings, utcnow()) if campaign.active else None,
        "quiet_now": send_time.held_until(out.settings, utcnow()), "done": _done(request),
        "audiences": await _audiences(request), "anchors": list(audiences.ANCHORS), **_form_context(request)})


def _done(request: web.Request) -> dict | None:
    """What the admin just did to a run (after the redirect), so the page can say it happened."""
    action, run_id = request.query.get("done", ""), request.query.get("run", "")
    if action not in ("pause", "resume", "cancel") or not run_id.isdigit():
        return None
    return {"action": action, "run_id": int(run_id)}


@admin
async def update_campaign(request: web.Request) -> web.Response:
    campaign = await _load(request)
    try:
        await _campaign_from_form(request, campaign)
    except FormError as exc:
        raise web.HTTPBadRequest(text=str(exc))
    async with request.app[OUTREACH].services.db.begin() as session:
        await session.merge(campaign)
    raise web.HTTPFound(f"/admin/campaigns/{campaign.id}")


@admin
async def run_now(request: web.Request) -> web.Response:
    campaign = await _load(request)
    out = request.app[OUTREACH]
    run_id = await fire_campaign(out, campaign.id, f"now:{occurrence_now(out)}:{uuid.uuid4().hex[:6]}")
    if run_id is None:
        raise web.HTTPConflict(text="this campaign is inactive")
    raise web.HTTPFound(f"/admin/campaigns/{campaign.id}")


@admin
async def run_action(request: web.Request) -> web.Response:
    out = request.app[OUTREACH]
    run_id, action = _id(request, "run_id"), request.match_info["action"]
    done = await {"pause": runs.pause, "resume": launch.resume, "cancel": runs.cancel}[action](out, run_id)
    async with out.services.db() as session:
        run = await session.get(CampaignRun, run_id)
    if run is None:
        raise web.HTTPNotFound()
    if not done:
        labels = request.app[LABELS]
        raise web.HTTPConflict(text=f"该批次{labels(run.status, 'run')}，不能{labels(action, 'run_action')}"
                                    f" (cannot {action} a {run.status} run)")
    raise web.HTTPFound(f"/admin/campaigns/{run.campaign_id}?done={action}&run={run_id}")


@admin
async def run_progress(request: web.Request) -> web.Response:
    progress = await runs.progress(request.app[OUTREACH], _id(request, "run_id"))
    if progress is None:
        raise web.HTTPNotFound()
    return web.json_response(progress.as_dict())


UNCERTAIN_LISTED = 500


@admin
async def run_page(request: web.Request) -> web.Response:
    """A run's results, with the residents whose push is uncertain (staff may check with them)."""
    out = request.app[OUTREACH]
    progress = await runs.progress(out, _id(request, "run_id"))
    if progress is None:
        raise web.HTTPNotFound()
    async with out.services.db() as session:
        campaign_id, channel = (await session.execute(select(Campaign.id, Campaign.channel).join(CampaignRun).where(
            CampaignRun.id == progress.run_id))).one()
        uncertain = (await session.execute(
            select(Resident.openid, Resident.name, Delivery.created_at).join(Resident, Resident.id == Delivery.resident_id)
            .where(Delivery.run_id == progress.run_id, Delivery.status == "uncertain")
            .order_by(Delivery.id).limit(UNCERTAIN_LISTED))).all()
    return aiohttp_jinja2.render_template("admin_run.html", request, {
        "p": progress, "campaign_id": campaign_id, "channel": channel, "uncertain": uncertain,
        "listed": UNCERTAIN_LISTED})


@admin
async def audiences_page(request: web.Request) -> web.Response:
    return await _audiences_page(request)


async def _audiences_page(request: web.Request, error: str = "", status: int = 200, form=None) -> web.Response:
    """The audiences with their sizes, and why a new one was refused; its callers are role-checked handlers."""
    out = request.app[OUTREACH]
    rows = []
    for audience in await _audiences(request):
        try:  # a rule saved before it was checked shows as invalid, not as a broken page
            rule = AudienceRule.from_dict(audience.rule)
            size = await audiences.count(out.services.db, audiences.conditions(rule, now=utcnow()))
        except (ValueError, OverflowError):
            rule, size = None, None
        rows.append((audience, rule, size))
    return aiohttp_jinja2.render_template("admin_audiences.html", request,
                                          {"rows": rows, "error": error, "form": form or {}}, status=status)


@admin
async def create_audience(request: web.Request) -> web.Response:
    form = await request.post()
    name = str(form.get("name") or "").strip()[:128]
    try:
        rule = AudienceRule.from_dict({k: form.get(k) for k in ("tags_any", "tags_all", "tags_none", "area",
                                                                "active_within_days")})
        if not name:
            raise ValueError("受众需要一个名称")
    except ValueError as exc:
        return await _audiences_page(request, str(exc), 400, form)
    async with request.app[OUTREACH].services.db.begin() as session:
        session.add(Audience(name=name, rule=rule.to_dict()))
    raise web.HTTPFound("/admin/audiences")


def setup_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/admin/campaigns", campaigns_page)
    r.add_post("/admin/campaigns", create_campaign)
    r.add_get(r"/admin/campaigns/{campaign_id:\d+}", campaign_page)
    r.add_post(r"/admin/campaigns/{campaign_id:\d+}", update_campaign)
    r.add_post(r"/admin/campaigns/{campaign_id:\d+}/run", run_now)
    r.add_post(r"/admin/runs/{run_id:\d+}/{action:pause|resume|cancel}", run_action)
    r.add_get(r"/admin/runs/{run_id:\d+}/progress", run_progress)
    r.add_get(r"/admin/runs/{run_id:\d+}", run_page)
    r.add_get("/admin/audiences", audiences_page)
    r.add_post("/admin/audiences", create_audience)
