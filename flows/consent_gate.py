"""Before a self-check: the age band (asked once) and consent to keep results (once per notice version).

Mixed into the assessment flow, whose machine gets these states and transitions. Whatever the
answers, the resident can take the self-check: without consent, or under 14, the result is shown
once and not kept (the flow asks `keeps_results()` when it finishes, so a consent withdrawn half way
through is honoured). The gate only ever sits in front of an assessment: crisis words are read by
the safety stage before the router, so they never wait behind a question asked here.
"""
from __future__ import annotations

from dataclasses import replace

from bot import consent
from flows.base import DONE, text_of
from flows.context import parse_number
from flows.counsellor import request_counsellor
from flows.privacy import pointer

AGE, CONSENT, MINOR = "age", "consent", "minor"
AGREE, DECLINE = 1, 2  # the consent question's choices
COUNSELLOR, UNKEPT = 1, 2  # what an under-14 is offered
TO_CHOICES = "choose"  # one callback per step: the machine runs a list of callbacks concurrently


def gate_entries(trigger: str, **prepare: str) -> list[dict]:
    """`trigger` from idle stops at the gate's first open question, if any (the flow adds where it goes next)."""
    return [
        {"trigger": trigger, "source": "idle", "dest": AGE, "conditions": "needs_age", "after": "ask_age", **prepare},
        {"trigger": trigger, "source": "idle", "dest": MINOR, "conditions": "known_under_14", "after": "explain_minor"},
        {"trigger": trigger, "source": "idle", "dest": CONSENT, "conditions": "needs_consent", "after": "ask_consent"},
    ]


def _entry(trigger: str, **prepare: str) -> list[dict]:
    return [*gate_entries(trigger, **prepare), {"trigger": trigger, "source": "idle", "dest": "choosing",
                                                "after": TO_CHOICES}]


GATE_STATES = [AGE, CONSENT, MINOR]
GATE_TRANSITIONS = [
    *_entry("begin"),
    *_entry("reconsider", prepare="mark_reconsider"),  # 同意保存: the question again, whatever was decided
    {"trigger": "receive", "source": AGE, "dest": MINOR, "conditions": "answers_under_14", "before": "save_age",
     "after": "explain_minor"},
    {"trigger": "receive", "source": AGE, "dest": CONSENT, "conditions": ["answers_age", "needs_consent"],
     "before": "save_age", "after": "ask_consent"},
    {"trigger": "receive", "source": AGE, "dest": "choosing", "conditions": "answers_age", "before": "save_age",
     "after": TO_CHOICES},
    {"trigger": "receive", "source": AGE, "dest": AGE, "after": "repeat_age"},
    {"trigger": "receive", "source": CONSENT, "dest": "choosing", "conditions": "agrees", "after": "grant"},
    {"trigger": "receive", "source": CONSENT, "dest": "choosing", "conditions": "declines", "after": "decline_consent"},
    {"trigger": "receive", "source": CONSENT, "dest": CONSENT, "after": "repeat_consent"},
    {"trigger": "receive", "source": MINOR, "dest": DONE, "conditions": "wants_counsellor", "after": "to_counsellor"},
    {"trigger": "receive", "source": MINOR, "dest": "choosing", "conditions": "wants_unkept",
     "after": TO_CHOICES},
    {"trigger": "receive", "source": MINOR, "dest": MINOR, "after": "repeat_minor"},
]


class ConsentGate:
    """The gate's conditions and callbacks; `self` is the assessment flow (ctx, data, say, t)."""

    _consent: consent.Consent | None = None

    @property
    def notice_version(self) -> str:
        return consent.notice_version(self.ctx.knowledge.texts)

    async def consent(self) -> consent.Consent:
        """Read once per turn: the flow is built afresh for each message."""
        if self._consent is None:
            self._consent = await consent.consent_of(self.ctx.services, self.ctx.ref.id)
        return self._consent

    async def keeps_results(self) -> bool:
        return (await self.consent()).keeps_results(self.notice_version)

    # -- conditions --------------------------------------------------------------------------
    async def needs_age(self, event) -> bool:
        return (await self.consent()).age_band is None

    async def known_under_14(self, event) -> bool:
        return (await self.consent()).age_band == consent.UNDER_14

    async def needs_consent(self, event) -> bool:
        return self.data.get("reconsider", False) or not (await self.consent()).decided(self.notice_version)

    def _age(self, event) -> str | None:
        number = parse_number(text_of(event))
        return consent.AGE_BANDS[number - 1] if number and 1 <= number <= len(consent.AGE_BANDS) else None

    def answers_age(self, event) -> bool:
        return self._age(event) is not None

    def answers_under_14(self, event) -> bool:
        return self._age(event) == consent.UNDER_14

    def agrees(self, event) -> bool:
        return parse_number(text_of(event)) == AGREE

    def declines(self, event) -> bool:
        return parse_number(text_of(event)) == DECLINE

    def wants_counsellor(self, event) -> bool:
        return parse_number(text_of(event)) == COUNSELLOR

    def wants_unkept(self, event) -> bool:
        return parse_number(text_of(event)) == UNKEPT

    # -- what is kept and said ---------------------------------------------------------------
    def mark_reconsider(self, event) -> None:
        """Kept in the flow's data, so the question still comes after an age question first."""
        self.data["reconsider"] = True

    async def save_age(self, event) -> None:
        band = self._age(event)
        await consent.record(self.ctx.services, self.ctx.ref.id, consent.AGE_BAND, self.notice_version, detail=band)
        self._consent = replace(await self.consent(), age_band=band)

    def ask_age(self, event) -> None:
        self.say(self.t("consent.ask_age"))

    def repeat_age(self, event) -> None:
        self.say(self.t("invalid_option", options=" / ".join(str(n) for n in range(1, len(consent.AGE_BANDS) + 1))))
        self.ask_age(event)

    def ask_consent(self, event) -> None:
        self.say(self.t("consent.ask", notice=pointer(self.ctx)))

    def repeat_consent(self, event) -> None:
        self.say(self.t("invalid_option", options=f"{AGREE} / {DECLINE}"))
        self.ask_consent(event)

    async def grant(self, event) -> None:
        await self._decide("granted")
        self.say(self.t("consent.granted", version=self.notice_version))
        self.show_choices(event)

    async def decline_consent(self, event) -> None:
        await self._decide("declined")
        self.say(self.t("consent.declined"))
        self.show_choices(event)

    async def _decide(self, decision: str) -> None:
        self.data.pop("reconsider", None)
        await consent.record(self.ctx.services, self.ctx.ref.id, decision, self.notice_version)

    async def choose(self, event) -> None:
        """The scale list, after a word on what happens to the result when it is not kept."""
        if not await self.keeps_results():
            minor = (await self.consent()).age_band == consent.UNDER_14
            self.say(self.t("consent.minor_note" if minor else "consent.not_kept_note"))
        self.show_choices(event)

    def explain_minor(self, event) -> None:
        self.say(self.t("consent.minor"))

    def repeat_minor(self, event) -> None:
        self.say(self.t("invalid_option", options=f"{COUNSELLOR} / {UNKEPT}"))
        self.explain_minor(event)

    async def to_counsellor(self, event) -> None:
        risk = self.ctx.turn.notes.get("risk")
        self.replies += await request_counsellor(self.ctx, reason="resident_request",
                                                 level=int(getattr(risk, "level", 0)))
