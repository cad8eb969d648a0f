"""After a counsellor closes a case: the resident's next message within 24 hours is met with
"are you safe now / talk to someone again" instead of generic tips, then a 1-5 satisfaction question
recorded with the case.

The close (handoff.cases) starts this flow with `expect_after_close`; its state lives 24 hours, so a
resident who writes later gets the usual menu and reading. Crisis words still go through the safety
stage first, and global words (菜单, 咨询师) still win in the router.
"""
from __future__ import annotations

from sqlalchemy import update

from bot.services import Services
from bot.stores.state import FlowState
from flows.base import DONE, Flow, text_of
from flows.context import parse_number
from flows.counsellor import request_counsellor
from handoff.models import Case

NAME = "after_close"
WITHIN_SECONDS = 24 * 3600
SAFE, TALK = 1, 2


async def expect_after_close(services: Services, openid: str, case_id: int) -> None:
    """Called at the close: the resident's next message within 24 hours comes to this flow."""
    await services.states.set(openid, FlowState(NAME, "closed", {"case_id": case_id}), ttl=WITHIN_SECONDS)


class AfterCloseFlow(Flow):
    name = NAME
    states = ["closed", "choosing", "rating"]
    transitions = [
        {"trigger": "receive", "source": "closed", "dest": "choosing", "after": "offer_choice"},
        {"trigger": "receive", "source": "choosing", "dest": "rating", "conditions": "picks_safe", "after": "ask_rating"},
        {"trigger": "receive", "source": "choosing", "dest": DONE, "conditions": "picks_talk",
         "after": "talk_again"},
        {"trigger": "receive", "source": "choosing", "dest": "choosing", "after": "repeat_choice"},
        {"trigger": "receive", "source": "rating", "dest": DONE, "conditions": "gives_score", "after": "record_rating"},
        {"trigger": "receive", "source": "rating", "dest": "rating", "after": "repeat_rating"},
    ]

    def picks_safe(self, event) -> bool:
        return parse_number(text_of(event)) == SAFE

    def picks_talk(self, event) -> bool:
        return parse_number(text_of(event)) == TALK

    def gives_score(self, event) -> bool:
        return parse_number(text_of(event)) in range(1, 6)

    def offer_choice(self, event) -> None:
        self.say(self.t("after_close.choice"))

    def repeat_choice(self, event) -> None:
        self.say(self.t("after_close.choice_again"))

    def ask_rating(self, event) -> None:
        self.say(self.t("after_close.rate"))

    def repeat_rating(self, event) -> None:
        self.say(self.t("after_close.rate_again"))

    async def talk_again(self, event) -> None:
        self.replies.extend(await request_counsellor(self.ctx, reason="after_close", level=0))

    async def record_rating(self, event) -> None:
        async with self.ctx.services.db.begin() as session:
            await session.execute(update(Case).where(Case.id == int(self.data["case_id"]),
                                                     Case.resident_id == self.ctx.ref.id)
                                  .values(satisfaction=parse_number(text_of(event))))
        self.say(self.t("after_close.thanks"))
