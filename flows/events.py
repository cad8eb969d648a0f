"""Events: list what is coming (near the resident if they sent a location), register, see and cancel."""
from __future__ import annotations

import logging

from bot import localtime
from bot.values import Reply
from flows import registrations as regs
from flows.base import DONE, Flow, text_of
from flows.context import Ctx, Words, parse_number
from flows.models import Event
from knowledge.content import to_traditional
from knowledge.stations import distance_km

log = logging.getLogger(__name__)

SIGN_UP, BACK = 1, 2
NEAR_LIMIT = 5


class EventsFlow(Flow):
    name = "events"
    states = ["listing", "detail", "mine"]
    transitions = [
        {"trigger": "begin", "source": "idle", "dest": "listing", "conditions": "has_events", "after": "show_list"},
        {"trigger": "begin", "source": "idle", "dest": DONE, "after": "show_none"},
        {"trigger": "begin_mine", "source": "idle", "dest": "mine", "after": "show_mine"},
        {"trigger": "located", "source": ["idle", "listing", "detail", "mine"], "dest": "listing",
         "conditions": "has_events", "after": "show_near"},
        {"trigger": "located", "source": ["idle", "listing", "detail", "mine"], "dest": DONE, "after": "show_none"},
        {"trigger": "receive", "source": ["listing", "detail", "mine"], "dest": "mine", "conditions": "wants_mine",
         "after": "show_mine"},
        {"trigger": "receive", "source": "listing", "dest": "detail", "conditions": "picks_listed",
         "after": "show_detail"},
        {"trigger": "receive", "source": "listing", "dest": "listing", "after": "repeat_list"},
        {"trigger": "receive", "source": "detail", "dest": DONE, "conditions": "says_sign_up", "after": "sign_up"},
        {"trigger": "receive", "source": "detail", "dest": "listing", "conditions": "says_back",
         "after": "show_list"},
        {"trigger": "receive", "source": "detail", "dest": "detail", "after": "repeat_detail"},
        {"trigger": "receive", "source": "mine", "dest": DONE, "conditions": "picks_listed", "after": "cancel"},
        {"trigger": "receive", "source": "mine", "dest": "mine", "after": "repeat_mine"},
    ]

    async def has_events(self, event) -> bool:
        self._upcoming = await regs.upcoming(self.ctx.services)
        return bool(self._upcoming)

    def wants_mine(self, event) -> bool:
        return Words(self.ctx.knowledge.texts, ["events.words.mine"]).match(text_of(event)) is not None

    def picks_listed(self, event) -> bool:
        number = parse_number(text_of(event))
        return number is not None and 1 <= number <= len(self.data.get("listed", []))

    def says_sign_up(self, event) -> bool:
        return parse_number(text_of(event)) == SIGN_UP

    def says_back(self, event) -> bool:
        return parse_number(text_of(event)) == BACK

    def _chosen(self, event) -> int:
        return self.data["listed"][parse_number(text_of(event)) - 1]

    def _line(self, number: int, item: Event, taken: int) -> str:
        full = self.t("events.full_mark") if taken >= item.capacity else ""
        return self.t("events.line", number=number, when=when(item), title=title(self.ctx, item),
                      place=self._station_name(item), full=full).rstrip()

    def _station_name(self, item: Event) -> str:
        try:
            return self.ctx.knowledge.stations.get(item.station_id).name.get(self.ctx.lang)
        except KeyError:
            return item.station_id

    def _say_list(self, key: str, items: list[tuple[Event, int]]) -> None:
        self.data = {"listed": [item.id for item, _ in items]}
        lines = [self._line(n, item, taken) for n, (item, taken) in enumerate(items, 1)]
        self.say(self.t(key, events="\n".join(lines)))

    async def show_list(self, event) -> None:
        items = getattr(self, "_upcoming", None) or await regs.upcoming(self.ctx.services)
        self._say_list("events.list", items)

    async def repeat_list(self, event) -> None:
        self.say(self.t("invalid_option", options=f"1-{len(self.data.get('listed', []))}"))
        await self.show_list(event)

    def show_none(self, event) -> None:
        self.say(self.t("events.none", menu=self.ctx.menu()))

    def show_near(self, event) -> None:
        latitude, longitude = event.args
        stations = self.ctx.knowledge.stations

        def km(item: Event) -> float:
            try:
                station = stations.get(item.station_id)
            except KeyError:
                return float("inf")
            return distance_km(latitude, longitude, station.lat, station.lon)

        near = sorted(self._upcoming, key=lambda pair: km(pair[0]))[:NEAR_LIMIT]
        self._say_list("events.list_near", near)

    async def show_detail(self, event) -> None:
        self.data = {"event": self._chosen(event)}
        found = await regs.event_with_taken(self.ctx.services, self.data["event"])
        if found is None:
            self.say(self.t("events.gone"))
            return
        await self._say_detail(*found)

    async def _say_detail(self, item: Event, taken: int) -> None:
        try:
            station = self.ctx.knowledge.stations.get(item.station_id)
            place, address = station.name.get(self.ctx.lang), station.address
        except KeyError:
            place, address = item.station_id, ""
        key = "events.detail_full" if taken >= item.capacity else "events.detail"
        self.say(self.t(key, title=title(self.ctx, item), when=when(item), place=place, address=address,
                        capacity=item.capacity, taken=taken, description=description(self.ctx, item)))

    async def repeat_detail(self, event) -> None:
        self.say(self.t("invalid_option", options=f"{SIGN_UP} / {BACK}"))
        found = await regs.event_with_taken(self.ctx.services, self.data["event"])
        if found is None:
            self.say(self.t("events.gone"))
            return
        await self._say_detail(*found)

    async def sign_up(self, event) -> None:
        found = await regs.event_with_taken(self.ctx.services, self.data["event"])
        if found is None:
            self.say(self.t("events.gone"))
            return
        item = found[0]
        outcome = await regs.register(self.ctx.services, item.id, self.ctx.ref.id)
        log.info("event registration", extra={"event_id": item.id, "outcome": outcome.status})
        facts = {"title": title(self.ctx, item), "when": when(item), "place": self._station_name(item)}
        if outcome.status == regs.REGISTERED:
            self.say(self.t("events.registered", **facts))
        elif outcome.status == regs.WAITLISTED:
            self.say(self.t("events.waitlisted", position=outcome.position, **facts))
        elif outcome.status == "already":
            self.say(self.t("events.already", status=self.t(f"events.status.{outcome.current}")))
        else:
            self.say(self.t("events.gone"))

    async def show_mine(self, event) -> None:
        mine = await regs.registrations_of(self.ctx.services, self.ctx.ref.id)
        if not mine:
            self.data = {"listed": []}
            self.say(self.t("events.mine_empty"))
            return
        self.data = {"listed": [item.id for _, item in mine]}
        lines = [self.t("events.mine_line", number=n, when=when(item), title=title(self.ctx, item),
                        status=self.t(f"events.status.{registration.status}"))
                 for n, (registration, item) in enumerate(mine, 1)]
        self.say(self.t("events.mine", events="\n".join(lines)))

    async def repeat_mine(self, event) -> None:
        if self.data.get("listed"):
            self.say(self.t("invalid_option", options=f"1-{len(self.data['listed'])}"))
        await self.show_mine(event)

    async def cancel(self, event) -> None:
        services = self.ctx.services
        cancelled = await regs.cancel(services, self._chosen(event), self.ctx.ref.id)
        if cancelled is None:
            self.say(self.t("events.mine_empty"))
            return
        self.say(self.t("events.cancelled", title=title(self.ctx, cancelled.event)))
        if cancelled.promoted_resident_id is not None:
            services.tasks.start(tell_promoted(self.ctx, cancelled.promoted_resident_id, cancelled.event),
                                 name=f"promoted:{cancelled.event.id}")


async def tell_promoted(ctx: Ctx, resident_id: int, item: Event) -> None:
    """The first on the waiting list got the place: tell them in their own language."""
    ref = await regs.resident_ref(ctx.services, resident_id)
    if ref is None:
        return
    theirs = Ctx(ctx.services, ctx.turn, ref.language)
    text = theirs.t("events.promoted", title=title(theirs, item), when=when(item))
    results = await ctx.services.messenger.send(ref, [Reply(text=text)])
    log.info("waiting list promotion told", extra={"event_id": item.id, "ok": all(r.ok for r in results)})


def when(item: Event) -> str:
    return item.starts_at.astimezone(localtime.zone()).strftime("%m-%d %H:%M")


def title(ctx: Ctx, item: Event) -> str:
    if ctx.lang == "en" and item.title_en:
        return item.title_en
    return to_traditional(item.title_zh) if ctx.lang == "zh-Hant" else item.title_zh


def description(ctx: Ctx, item: Event) -> str:
    if ctx.lang == "en" and item.description_en:
        return item.description_en
    return to_traditional(item.description) if ctx.lang == "zh-Hant" else item.description
