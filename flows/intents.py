"""Free text that no exact word or number matched: read what it asks for and answer as the menu would.

The reading comes from `knowledge.intents` (a model trained on requests by independent authors).
A sure reading starts its flow at once, with what the message named (a scale, a place, a topic); an
unsure one asks which of the two likeliest was meant, and the resident's number starts that one.
`unclear` says so and offers the menu and a counsellor: a resident asking for something is never
handed an unrelated tip.
"""
from __future__ import annotations

from typing import Protocol

from bot.db import utcnow
from bot.stores.state import FlowState
from bot.values import Reply
from flows.context import Ctx, parse_number
from flows.counsellor import request_counsellor
from flows.models import IntentRead
from flows.optout import opt_out
from flows.record import record_reply
from flows.stations import dialable, hours_today, nearest_text
from flows.tips import tip_text
from knowledge.intents import Reading
from knowledge.tips import Tip

CLARIFY = "clarify"  # the state name of a pending "which of these two did you mean?"
CHOICES = (1, 2)
ANSWER_WITHIN = 30 * 60  # seconds; a "1" typed much later is not an answer to the question
# Inside a flow the flow reads the text, except a sure request for a person or to stop pushes:
# missing those hurts most, and no flow's answer looks like them.
INTERRUPTING = frozenset({"counsellor", "optout"})
FEELING_TOPIC = "low_mood"  # the tip topic for a feeling whose words name none


class Starts(Protocol):
    """What an answer asks of the router that reads with this: start a flow, switch the language.

    The router owns both and holds the Understanding, so the import runs one way (router -> intents)."""

    async def start(self, ctx: Ctx, area: str, trigger: str = "begin", *args: object) -> list[Reply]: ...

    async def switch_language(self, ctx: Ctx, lang: str) -> list[Reply]: ...


class Understanding:
    def __init__(self, router: Starts) -> None:
        self.router = router

    async def answer(self, ctx: Ctx, text: str) -> list[Reply]:
        if not any(ch.isalpha() for ch in text):  # digits, emoji, punctuation: nothing to read
            return self.unclear(ctx)
        reading = ctx.knowledge.intents.read(text)
        if reading.intent == "unclear" or (not reading.sure and reading.runner_up == "unclear"):
            keep(ctx, reading, "unclear")
            return self.unclear(ctx)
        if not reading.sure:
            keep(ctx, reading, "asked")
            return await self.ask(ctx, reading, text)
        keep(ctx, reading, "acted")
        return await self.act(ctx, reading.intent, reading.slots, text)

    async def interrupting(self, ctx: Ctx, text: str) -> list[Reply] | None:
        """The answer when text typed inside a flow is a sure request for a person or to stop pushes."""
        if parse_number(text) is not None or not any(ch.isalpha() for ch in text):
            return None
        reading = ctx.knowledge.intents.read(text)
        if reading.intent not in INTERRUPTING or not reading.sure:
            return None
        keep(ctx, reading, "acted")
        return await self.act(ctx, reading.intent, reading.slots, text)

    def unclear(self, ctx: Ctx) -> list[Reply]:
        ctx.welcome_covers = True
        return [Reply(text=ctx.t("fallback", menu=ctx.menu()))]

    # -- the clarifying question ----------------------------------------------------------------
    async def ask(self, ctx: Ctx, reading: Reading, text: str) -> list[Reply]:
        choices = [reading.intent, reading.runner_up]
        await ctx.services.states.set(ctx.openid, FlowState(CLARIFY, "asking", {"choices": choices, "text": text}))
        first, second = (ctx.t(f"intents.choice.{intent}") for intent in choices)
        return [Reply(text=ctx.t("intents.clarify", first=first, second=second))]

    async def choose(self, ctx: Ctx, pending: FlowState, text: str) -> list[Reply] | None:
        """The answer to the clarifying question; None when the text is not 1 or 2 (read it afresh)."""
        await ctx.services.states.clear(ctx.openid)
        number = parse_number(text)
        if number not in CHOICES or pending.age_seconds() > ANSWER_WITHIN:
            return None
        intent, asked = pending.data["choices"][number - 1], pending.data["text"]
        return await self.act(ctx, intent, ctx.knowledge.intents.slots_for(intent, asked), asked)

    # -- each intent's answer -------------------------------------------------------------------
    async def act(self, ctx: Ctx, intent: str, slots: dict, text: str) -> list[Reply]:
        router = self.router
        if intent == "counsellor":
            return await router.start(ctx, "counsellor")
        if intent == "assessment":
            return await (router.start(ctx, "assessment", "begin_with", slots["scale"]) if "scale" in slots
                          else router.start(ctx, "assessment"))
        if intent == "record":
            return await record_reply(ctx)
        if intent == "stations":
            return await self.stations(ctx, slots)
        if intent in ("events", "my_events"):
            return await router.start(ctx, "events", "begin" if intent == "events" else "begin_mine")
        if intent == "tips":
            return await (router.start(ctx, "tips", "begin_topic", slots["topic"]) if "topic" in slots
                          else router.start(ctx, "tips"))
        if intent == "feeling":
            return [Reply(text=ctx.t("intents.feeling", tip=tip_text(ctx, self.fitting_tip(ctx, slots, text))))]
        if intent == "optout":
            return await opt_out(ctx)
        if intent == "language":
            return await (router.switch_language(ctx, slots["language"]) if "language" in slots
                          else [Reply(text=ctx.t("intents.language_ask"))])
        if intent == "greeting":
            ctx.welcome_covers = slots.get("greeting", "hello") == "hello"
            return [Reply(text=ctx.t(f"intents.greeting.{slots.get('greeting', 'hello')}", menu=ctx.menu()))]
        if intent == "menu":
            ctx.welcome_covers = True
            await ctx.services.states.clear(ctx.openid)
            return [Reply(text=ctx.menu())]
        if intent == "contact":
            return [Reply(text=self.contact(ctx))]
        if intent == "about":
            return [Reply(text=ctx.t("intents.about"))]
        return self.unclear(ctx)

    async def stations(self, ctx: Ctx, slots: dict) -> list[Reply]:
        place = slots.get("place")
        if place is None:
            return await self.router.start(ctx, "stations")
        await ctx.services.states.clear(ctx.openid)
        return [Reply(text=await nearest_text(ctx, place.lat, place.lon, place=place.name))]

    def fitting_tip(self, ctx: Ctx, slots: dict, text: str) -> Tip:
        tips = ctx.knowledge.tips
        found = tips.search(text, ctx.lang, limit=1)
        return found[0] if found else tips.by_topic(slots.get("topic", FEELING_TOPIC))[0]

    def contact(self, ctx: Ctx) -> str:
        centre = next(s for s in ctx.knowledge.stations.stations() if s.level == "city")
        return ctx.t("intents.contact", centre=centre.name.get(ctx.lang), phone=dialable(centre.phone),
                     hours=hours_today(ctx, centre, utcnow()), address=centre.address)


def keep(ctx: Ctx, reading: Reading, action: str) -> None:
    """The reading goes beside the message in the transcript, written with the turn's reply."""
    ref, inbound = ctx.ref, ctx.turn.inbound
    ctx.services.transcript.note(ref, IntentRead.__table__, dict(
        resident_id=ref.id, conversation_id=ref.conversation_id, platform_msg_id=inbound.msg_id[:64],
        intent=reading.intent, confidence=reading.confidence, runner_up=reading.runner_up, action=action,
        created_at=utcnow()))
