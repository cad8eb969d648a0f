"""Psychoeducation: browse tips by topic, search them in the resident's words, subscribe to a daily tip."""
from __future__ import annotations

from sqlalchemy import delete, select

from bot.models import ResidentTag
from bot.values import Article, Reply
from flows.base import Flow, text_of
from flows.context import Ctx, Words, numbered, parse_number
from knowledge.tips import Tip

DAILY_TIP_TAG = "daily_tip"
RELATED = 3
BROWSING = ["topics", "topic", "results"]


class TipsFlow(Flow):
    name = "tips"
    own_words = ("tips.words.subscribe", "tips.words.unsubscribe")
    states = BROWSING
    transitions = [
        {"trigger": "begin", "source": "idle", "dest": "topics", "after": "show_topics"},
        {"trigger": "begin_topic", "source": "idle", "dest": "topic", "after": "show_named_topic"},
        {"trigger": "begin_search", "source": "idle", "dest": "results", "conditions": "finds_tips",
         "after": "show_found"},
        {"trigger": "begin_search", "source": "idle", "dest": "topics", "after": "show_topics"},
        {"trigger": "receive", "source": BROWSING, "dest": "=", "conditions": "wants_subscribe",
         "after": "subscribe"},
        {"trigger": "receive", "source": BROWSING, "dest": "=", "conditions": "wants_unsubscribe",
         "after": "unsubscribe"},
        {"trigger": "receive", "source": "topics", "dest": "topic", "conditions": "picks_topic",
         "after": "show_topic"},
        {"trigger": "receive", "source": ["topic", "results"], "dest": "=", "conditions": "picks_listed",
         "after": "show_listed"},
        {"trigger": "receive", "source": BROWSING, "dest": "results", "conditions": "finds_tips",
         "after": "show_found"},
        {"trigger": "receive", "source": BROWSING, "dest": "topics", "after": "no_match"},
    ]

    @property
    def library(self):
        return self.ctx.knowledge.tips

    def _words(self) -> Words:
        return Words(self.ctx.knowledge.texts, list(self.own_words))

    def wants_subscribe(self, event) -> bool:
        return self._words().match(text_of(event)) == "tips.words.subscribe"

    def wants_unsubscribe(self, event) -> bool:
        return self._words().match(text_of(event)) == "tips.words.unsubscribe"

    def picks_topic(self, event) -> bool:
        number = parse_number(text_of(event))
        return number is not None and 1 <= number <= len(self.library.topics())

    def picks_listed(self, event) -> bool:
        number = parse_number(text_of(event))
        return number is not None and 1 <= number <= len(self.data.get("listed", []))

    def finds_tips(self, event) -> bool:
        return parse_number(text_of(event)) is None and bool(self._search(text_of(event)))

    def _search(self, text: str) -> list[Tip]:
        return self.library.search(text, self.ctx.lang, limit=RELATED + 1)

    def _topic_lines(self) -> str:
        return numbered([topic.name.get(self.ctx.lang) for topic in self.library.topics()])

    def _list(self, tips: list[Tip]) -> str:
        self.data["listed"] = [tip.id for tip in tips]
        return numbered([tip.title.get(self.ctx.lang) for tip in tips])

    def show_topics(self, event) -> None:
        self.data = {}
        self.say(self.t("tips.topics", topics=self._topic_lines()))

    def show_topic(self, event) -> None:
        self._say_topic(self.library.topics()[parse_number(text_of(event)) - 1])

    def _say_topic(self, topic) -> None:
        tips = self.library.by_topic(topic.id)
        self.say(self.t("tips.topic", topic=topic.name.get(self.ctx.lang), tips=self._list(tips)))

    def show_named_topic(self, event) -> None:
        self._say_topic(next(t for t in self.library.topics() if t.id == event.args[0]))

    def show_listed(self, event) -> None:
        tip = self.library.get(self.data["listed"][parse_number(text_of(event)) - 1])
        self.replies.append(tip_reply(self.ctx, tip))

    def show_found(self, event) -> None:
        best, *related = self._search(text_of(event))
        self.replies.append(tip_reply(self.ctx, best))
        if related:
            self.say(self.t("tips.related", tips=self._list(related)))
        else:
            self.data["listed"] = []

    def no_match(self, event) -> None:
        self.data = {}
        self.say(self.t("tips.no_match", topics=self._topic_lines()))

    async def subscribe(self, event) -> None:
        await set_daily_tip(self.ctx, True)
        self.say(self.t("tips.subscribed"))

    async def unsubscribe(self, event) -> None:
        await set_daily_tip(self.ctx, False)
        self.say(self.t("tips.unsubscribed"))


def tip_text(ctx: Ctx, tip: Tip) -> str:
    return ctx.t("tips.tip", title=tip.title.get(ctx.lang), body=tip.body.get(ctx.lang))


def tip_reply(ctx: Ctx, tip: Tip) -> Reply:
    """A tip with a longer article is a news reply linking to it; otherwise it is the text itself."""
    if tip.url:
        return Reply(articles=(Article(title=tip.title.get(ctx.lang), description=tip.body.get(ctx.lang),
                                       url=tip.url),))
    return Reply(text=tip_text(ctx, tip))


async def set_daily_tip(ctx: Ctx, wanted: bool) -> None:
    """The scheduler sends a daily tip to residents tagged `daily_tip`."""
    async with ctx.services.db.begin() as session:
        present = await session.scalar(select(ResidentTag.id).where(
            ResidentTag.resident_id == ctx.ref.id, ResidentTag.tag == DAILY_TIP_TAG))
        if wanted and present is None:
            session.add(ResidentTag(resident_id=ctx.ref.id, tag=DAILY_TIP_TAG))
        elif not wanted and present is not None:
            await session.execute(delete(ResidentTag).where(ResidentTag.id == present))
