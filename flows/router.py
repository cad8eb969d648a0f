"""The router: the pipeline stage that sends each message to the right flow, or answers it itself.

Order of reading a message: language words, global words (menu, exit, counsellor, record, the five
areas, resuming pushes, the privacy notice and consent), an answer to a clarifying question, the
resident's current flow (resumed, continued or expired by age; a sure request for a person or to stop
pushes still goes through), the top-level menu numbers, then what the free text asks for
(flows/intents.py). Exact commands always win over the reading. A resident is never met with silence.
"""
from __future__ import annotations

import logging

from sqlalchemy import select, update

from bot.language import CHOSEN_TAG
from bot.models import Resident, ResidentTag
from bot.pipeline import Turn
from bot.services import Services
from bot.stores.state import FlowState
from bot.values import Inbound, Reply
from bot.wechat.menu_api import follow_language
from flows.after_close import AfterCloseFlow
from flows.assessment import AssessmentFlow
from flows.base import Flow
from flows.context import Ctx, Words, parse_number
from flows.counsellor import request_counsellor
from flows.events import EventsFlow
from flows.intents import CLARIFY, Understanding
from flows.optout import opt_in
from flows.privacy import notice_reply, pointer, withdraw
from flows.record import record_reply
from flows.stations import StationsFlow
from flows.tips import TipsFlow, set_daily_tip

log = logging.getLogger(__name__)

FLOWS: dict[str, type[Flow]] = {f.name: f for f in (AssessmentFlow, TipsFlow, EventsFlow, StationsFlow,
                                                    AfterCloseFlow)}
RESUME_AFTER = 30 * 60  # seconds of silence after which a half-done assessment asks before going on
EXPIRE_AFTER = 24 * 3600  # seconds after which a flow is over
LOCATION_SLOT = "location"

AREAS = {"menu.words.assess": "assessment", "menu.words.tips": "tips", "menu.words.events": "events",
         "menu.words.stations": "stations", "menu.words.counsellor": "counsellor"}
MENU_KEYS = {"MENU_ASSESS": "assessment", "MENU_TIPS": "tips", "MENU_EVENTS": "events",
             "MENU_STATIONS": "stations", "MENU_COUNSELLOR": "counsellor"}
MENU_NUMBERS = {1: "assessment", 2: "tips", 3: "events", 4: "stations", 5: "counsellor"}
LANGUAGES = {"menu.words.lang_zh_hans": "zh-Hans", "menu.words.lang_zh_hant": "zh-Hant",
             "menu.words.lang_en": "en"}
OPT_IN = "intents.words.optin"
SUBSCRIBE = "tips.words.subscribe"  # the daily tip, anywhere: the reading must not take it for "stop pushes"
CONSENT_WORDS = {"consent.words.notice": notice_reply, "consent.words.withdraw": withdraw}
CONSENT_KEYS = {"MENU_PRIVACY": notice_reply, "MENU_WITHDRAW": withdraw}
GRANT_WORD = "consent.words.grant"  # the assessment flow asks its consent question again
GLOBAL_WORDS = [*AREAS, *LANGUAGES, "menu.words.menu", "menu.words.exit", "menu.words.history",
                "events.words.mine", OPT_IN, SUBSCRIBE, *CONSENT_WORDS, GRANT_WORD]
PLATFORM_REPORTS = {"templatesendjobfinish", "masssendjobfinish"}


class Router:
    def __init__(self, services: Services) -> None:
        self.services = services
        knowledge = self.knowledge = services.knowledge
        self.words = Words(knowledge.texts, GLOBAL_WORDS)
        self.understanding = Understanding(self)
        self.flow_words = {name: Words(knowledge.texts, list(flow.own_words)) for name, flow in FLOWS.items()}

    async def __call__(self, turn: Turn) -> list[Reply] | None:
        inbound = turn.inbound
        if inbound.kind == "event" and inbound.event in PLATFORM_REPORTS:
            return None
        ctx = Ctx(self.services, turn, turn.language)
        if inbound.kind == "event":
            return await self.on_event(ctx, inbound)
        if inbound.kind == "location":
            if not inbound.has_location:  # coordinates that are not finite numbers
                return [Reply(text=ctx.t("stations.unreadable_location"))]
            return await self.on_location(ctx, inbound.latitude, inbound.longitude, explicit=True)
        if not inbound.text.strip():
            return [Reply(text=ctx.t("menu.not_text", menu=ctx.menu()))]
        if turn.language != turn.resident.language:  # they wrote in another language, and chose none
            await self._store_language(ctx, turn.language, chosen=False)
        replies = await self.on_text(ctx, inbound.text)
        if ctx.ref.is_new:  # first contact: who we are, and the emergency numbers, come first
            welcome = self.welcome(ctx)
            return [welcome] if ctx.welcome_covers else [welcome, *replies]
        return replies

    # -- events and locations -----------------------------------------------------------------
    async def on_event(self, ctx: Ctx, inbound: Inbound) -> list[Reply]:
        if inbound.event == "subscribe":
            await self.services.states.clear(ctx.openid)
            return [self.welcome(ctx)]
        if inbound.event == "click":
            if inbound.event_key in CONSENT_KEYS:
                return await CONSENT_KEYS[inbound.event_key](ctx)
            area = MENU_KEYS.get(inbound.event_key)
            return await self.start(ctx, area) if area else [Reply(text=ctx.menu())]
        if inbound.event == "scan":
            return [Reply(text=ctx.menu())]
        if inbound.event == "location" and inbound.has_location:
            return await self.on_location(ctx, inbound.latitude, inbound.longitude, explicit=False)
        return []  # unsubscribe, view: nothing to say

    async def on_location(self, ctx: Ctx, latitude: float, longitude: float, *, explicit: bool) -> list[Reply]:
        """Remember where the resident is; answer with events near them in the events flow, else stations.

        The platform reports a LOCATION event on its own; inside another flow it is only remembered.
        """
        states = self.services.states
        await states.set(ctx.openid, FlowState(LOCATION_SLOT, "known", {"lat": latitude, "lon": longitude}),
                         slot=LOCATION_SLOT)
        current = await states.get(ctx.openid)
        if current is not None and current.age_seconds() > EXPIRE_AFTER:
            current = None
        if current is not None and current.flow == EventsFlow.name:
            flow: Flow = EventsFlow(ctx, current.state, current.data)
        elif current is None or explicit or current.flow == StationsFlow.name:
            flow = StationsFlow(ctx)
        else:
            return []
        await flow.located(latitude, longitude)
        await flow.save()
        return flow.replies

    # -- text ---------------------------------------------------------------------------------
    async def on_text(self, ctx: Ctx, text: str) -> list[Reply]:
        key = self.words.match(text)
        states = self.services.states
        if key in LANGUAGES:
            return await self.switch_language(ctx, LANGUAGES[key])
        if key == "menu.words.menu":
            await states.clear(ctx.openid)
            return [Reply(text=ctx.menu())]
        if key == "menu.words.exit":
            await states.clear(ctx.openid)
            return [Reply(text=ctx.t("menu.exited", menu=ctx.menu()))]
        if key == "menu.words.history":
            return await record_reply(ctx)
        if key in AREAS:
            return await self.start(ctx, AREAS[key])
        if key == "events.words.mine":
            return await self.start(ctx, EventsFlow.name, trigger="begin_mine")
        if key == OPT_IN:
            return await opt_in(ctx)
        if key == SUBSCRIBE:
            await set_daily_tip(ctx, True)
            return [Reply(text=ctx.t("tips.subscribed"))]
        if key in CONSENT_WORDS:
            return await CONSENT_WORDS[key](ctx)
        if key == GRANT_WORD:
            return await self.start(ctx, AssessmentFlow.name, trigger="reconsider")
        current = await states.get(ctx.openid)
        if current is not None and current.flow == CLARIFY:
            chosen = await self.understanding.choose(ctx, current, text)
            if chosen is not None:
                return chosen
        elif current is not None and current.flow in FLOWS:
            own = self.flow_words[current.flow].match(text) is not None
            interrupted = None if own else await self.understanding.interrupting(ctx, text)
            return interrupted if interrupted is not None else await self.continue_flow(ctx, current, text)
        number = parse_number(text)
        if number in MENU_NUMBERS:
            return await self.start(ctx, MENU_NUMBERS[number])
        return await self.understanding.answer(ctx, text)

    def welcome(self, ctx: Ctx) -> Reply:
        return Reply(text=ctx.t("welcome", menu=ctx.menu(), privacy=pointer(ctx)))

    async def continue_flow(self, ctx: Ctx, current: FlowState, text: str) -> list[Reply]:
        age = current.age_seconds()
        if age > EXPIRE_AFTER:
            await self.services.states.clear(ctx.openid)
            return [Reply(text=ctx.t("flow_expired", menu=ctx.menu()))]
        flow = FLOWS[current.flow](ctx, current.state, current.data)
        if age > RESUME_AFTER and current.state in flow.pausable:
            await flow.pause()
        else:
            await flow.receive(text)
        await flow.save()
        return flow.replies

    async def start(self, ctx: Ctx, area: str, trigger: str = "begin", *args: object) -> list[Reply]:
        await self.services.states.clear(ctx.openid)
        if area == "counsellor":
            risk = ctx.turn.notes.get("risk")
            return await request_counsellor(ctx, reason="resident_request", level=int(getattr(risk, "level", 0)))
        flow = FLOWS[area](ctx)
        where = await self.services.states.get(ctx.openid, slot=LOCATION_SLOT) if area == "events" else None
        if where is not None and trigger == "begin":
            await flow.located(where.data["lat"], where.data["lon"])
        else:
            await flow.trigger(trigger, *args)
        await flow.save()
        return flow.replies

    # -- language -----------------------------------------------------------------------------
    async def switch_language(self, ctx: Ctx, lang: str) -> list[Reply]:
        ctx.lang = lang
        await self._store_language(ctx, lang, chosen=True)
        return [Reply(text=ctx.t("language_switched")), Reply(text=ctx.menu())]

    async def _store_language(self, ctx: Ctx, lang: str, *, chosen: bool) -> None:
        async with self.services.db.begin() as session:
            await session.execute(update(Resident).where(Resident.id == ctx.ref.id).values(language=lang))
            if chosen and await session.scalar(select(ResidentTag.id).where(
                    ResidentTag.resident_id == ctx.ref.id, ResidentTag.tag == CHOSEN_TAG)) is None:
                session.add(ResidentTag(resident_id=ctx.ref.id, tag=CHOSEN_TAG))
        log.info("language set", extra={"language": lang, "chosen": chosen})
        self.services.tasks.start(follow_language(self.services.api, ctx.openid, lang, tuple(LANGUAGES.values())),
                                  name=f"menu-language:{ctx.openid[-6:]}")  # the menu follows the reply language
