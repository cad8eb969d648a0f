"""After a counsellor closes a case: the resident's next message within 24 hours is met with
"are you safe now / talk to someone again" instead of generic tips, then a 1-5 satisfaction question
recorded with the case.

The close (handoff.cases) starts this flow by setting its state (`AFTER_CLOSE`); the state lives 24 hours, so a
resident who writes later gets the usual menu and reading. Crisis words still go through the safety
stage first, and global words (菜单, 咨询师) still win in the router.
"""
from __future__ import annotations

from flows.base import DONE, Flow, text_of
from flows.context import parse_number
from flows.counsellor import request_counsellor
from handoff.requests import AFTER_CLOSE, record_satisfaction

SAFE, TALK = 1, 2


class AfterCloseFlow(Flow):
    name = AFTER_CLOSE
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
        await record_satisfaction(self.ctx.services, int(self.data["case_id"]), self.ctx.ref.id,
                                  parse_number(text_of(event)))
        self.say(self.t("after_close.thanks"))
