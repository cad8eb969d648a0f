"""The safety check: the C-SSRS screener, one question per message, as a small `transitions` machine.

The states are the screener's question ids, then `offered` (it ended at level 1-2: care, the
resources and the offer of a counsellor wait for a reply) or `done`. The machine only moves through
the questions and keeps the answers; what an answer means for the resident (a handoff, a raised
case) is decided by `flows.safety.respond`. Its state lives in the resident's "safety" slot, so it
never clobbers a flow they were in (an assessment resumes afterwards), and any worker continues it.
"""
from __future__ import annotations

from transitions import Machine

from bot.stores.state import FlowState, StateStore
from flows.safety.memory import KEEP_SECONDS
from flows.safety.screener import Question, Screener

SLOT = "safety"
FLOW = "safety_check"
OFFERED, DONE = "offered", "done"
ASK_SECONDS = KEEP_SECONDS  # a check nobody answered for this long is over (the detection stays on record)
OFFER_SECONDS = 30 * 60  # how long "reply 咨询师" at the end is read by the check
ACTIVE, IMMINENT = 3, 4
ALL_NO_LEVEL = 1  # every answer "no": concern, not a crisis


class SafetyCheck:
    state: str  # set by the machine

    def __init__(self, screener: Screener, state: str = "idle", data: dict | None = None) -> None:
        self.screener = screener
        self.data: dict = {"yes": [], "unclear": 0, **(data or {})}
        ids = [q.id for q in screener.questions]
        Machine(model=self, states=["idle", *ids, OFFERED, DONE], transitions=self._transitions(ids),
                initial=state, auto_transitions=False)

    def _transitions(self, ids: list[str]) -> list[dict]:
        moves: list[dict] = [{"trigger": "begin", "source": "idle", "dest": ids[0]}]
        for q in self.screener.questions:
            if q.level_if_yes >= IMMINENT:  # intent, plan, behaviour: no more questions
                moves.append({"trigger": "yes", "source": q.id, "dest": DONE, "before": "note_yes"})
            for answer in ("yes", "no"):
                following = self.screener.next_after(q, answer)
                before = "note_yes" if answer == "yes" else None
                if following is not None:
                    moves.append({"trigger": answer, "source": q.id, "dest": following.id, "before": before})
                else:
                    moves.append({"trigger": answer, "source": q.id, "dest": DONE, "before": before,
                                  "conditions": f"{answer}_ends_active"})
                    moves.append({"trigger": answer, "source": q.id, "dest": OFFERED, "before": before})
        moves.append({"trigger": "stop", "source": ids, "dest": DONE, "conditions": "no_ends_active"})
        moves.append({"trigger": "stop", "source": ids, "dest": OFFERED})
        moves.append({"trigger": "close", "source": [*ids, OFFERED], "dest": DONE})
        return moves

    # -- what the answers say -----------------------------------------------------------------
    @property
    def question(self) -> Question | None:
        return self.screener.get(self.state) if self.asking else None

    @property
    def asking(self) -> bool:
        return self.state not in ("idle", OFFERED, DONE)

    @property
    def level(self) -> int:
        """Where the answers so far put the resident: the highest "yes", or concern when all were "no"."""
        levels = [self.screener.get(q).level_if_yes for q in self.data["yes"]]
        return max(levels, default=ALL_NO_LEVEL)

    def note_yes(self) -> None:
        if self.state not in self.data["yes"]:
            self.data["yes"] = [*self.data["yes"], self.state]

    def yes_ends_active(self) -> bool:
        return max(self.level, self.screener.get(self.state).level_if_yes) >= ACTIVE

    def no_ends_active(self) -> bool:
        return bool(self.data["yes"]) and self.level >= ACTIVE

    # -- storage ------------------------------------------------------------------------------
    def snapshot(self) -> FlowState:
        return FlowState(FLOW, self.state, self.data)

    async def save(self, states: StateStore, openid: str) -> None:
        if self.state == DONE:
            await states.clear(openid, slot=SLOT)
        else:
            ttl = OFFER_SECONDS if self.state == OFFERED else ASK_SECONDS
            await states.set(openid, self.snapshot(), slot=SLOT, ttl=ttl)


async def load_check(states: StateStore, screener: Screener, openid: str) -> SafetyCheck | None:
    """The resident's check in progress, if any (one that outlived its time is over)."""
    stored = await states.get(openid, slot=SLOT)
    if stored is None or stored.flow != FLOW:
        return None
    limit = OFFER_SECONDS if stored.state == OFFERED else ASK_SECONDS
    if stored.age_seconds() > limit or stored.state not in {"idle", OFFERED, *(q.id for q in screener.questions)}:
        await states.clear(openid, slot=SLOT)
        return None
    return SafetyCheck(screener, stored.state, stored.data)
