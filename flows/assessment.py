"""Self-assessments: pick a scale, one question per message, the result, the record, the safety item.

The consent gate (flows/consent_gate.py) comes first; a result goes into the record only with consent.

Everything about a scale (items, options, bands, what a band means, which fuller scale a positive
screen offers, the safety item) comes from `knowledge/data/scales`, so a new scale file is a new
assessment here without code.
"""
from __future__ import annotations

import logging
from dataclasses import replace

from flows.base import DONE, Flow, text_of
from flows.consent_gate import GATE_STATES, GATE_TRANSITIONS, ConsentGate, gate_entries
from flows.context import normalize, numbered, parse_number
from flows.record import save_assessment
from flows.safety.scale_item import safety_item_in_chat
from knowledge.scales import Item, Scale, ScoreResult

log = logging.getLogger(__name__)

YES, NO = 1, 2
CONTINUE, RESTART, STOP = 1, 2, 3


class AssessmentFlow(ConsentGate, Flow):
    name = "assessment"
    pausable = ("asking",)
    states = [*GATE_STATES, "choosing", "asking", "offer", "paused"]
    transitions = [
        *GATE_TRANSITIONS,
        # A scale asked for by name: the gate's questions first when open (the list follows them), else the scale.
        *gate_entries("begin_with"),
        {"trigger": "begin_with", "source": "idle", "dest": "asking", "after": "start_named"},
        {"trigger": "receive", "source": "choosing", "dest": "asking", "conditions": "picks_scale",
         "after": "start_picked"},
        {"trigger": "receive", "source": "choosing", "dest": "choosing", "after": "repeat_choices"},
        {"trigger": "receive", "source": "asking", "dest": "offer",
         "conditions": ["valid_answer", "completes", "offers_fuller"], "after": "finish"},
        {"trigger": "receive", "source": "asking", "dest": DONE, "conditions": ["valid_answer", "completes"],
         "after": "finish"},
        {"trigger": "receive", "source": "asking", "dest": "asking", "conditions": "valid_answer",
         "after": "record_and_ask_next"},
        {"trigger": "receive", "source": "asking", "dest": "asking", "after": "repeat_question"},
        {"trigger": "receive", "source": "offer", "dest": "asking", "conditions": "says_yes",
         "after": "start_offered"},
        {"trigger": "receive", "source": "offer", "dest": DONE, "conditions": "says_no", "after": "decline"},
        {"trigger": "receive", "source": "offer", "dest": "offer", "after": "repeat_offer"},
        {"trigger": "pause", "source": "asking", "dest": "paused", "after": "ask_resume"},
        {"trigger": "receive", "source": "paused", "dest": "asking", "conditions": "says_continue",
         "after": "repeat_question_plain"},
        {"trigger": "receive", "source": "paused", "dest": "asking", "conditions": "says_restart",
         "after": "restart"},
        {"trigger": "receive", "source": "paused", "dest": DONE, "conditions": "says_stop", "after": "stop"},
        {"trigger": "receive", "source": "paused", "dest": "paused", "after": "repeat_resume"},
    ]

    # -- what the data says ------------------------------------------------------------------
    @property
    def scales(self) -> list[Scale]:
        library = self.ctx.knowledge.scales
        return [library.get(scale_id) for scale_id in library.ids()]

    @property
    def scale(self) -> Scale:
        return self.ctx.knowledge.scales.get(self.data["scale"])

    @property
    def item(self) -> Item:
        return self.scale.items[len(self.data["answers"])]

    def _answer(self, event) -> int | None:
        """The option value the resident chose: its number, or its words exactly."""
        text = text_of(event)
        values = [o.value for o in self.item.options]
        number = parse_number(text)
        if number is not None:
            return number if number in values else None
        wanted = normalize(text)
        for option in self.item.options:
            if wanted in {normalize(option.text.get(lang)) for lang in ("zh-Hans", "zh-Hant", "en")}:
                return option.value
        return None

    def _score(self, event) -> ScoreResult:
        return self.scale.score([*self.data["answers"], self._answer(event)])

    # -- conditions --------------------------------------------------------------------------
    def picks_scale(self, event) -> bool:
        return self._picked(event) is not None

    def _picked(self, event) -> Scale | None:
        text = text_of(event)
        number = parse_number(text)
        scales = self.scales
        if number is not None:
            return scales[number - 1] if 1 <= number <= len(scales) else None
        try:
            return self.ctx.knowledge.scales.get(text.strip())
        except ValueError:
            return None

    def valid_answer(self, event) -> bool:
        return self._answer(event) is not None

    def completes(self, event) -> bool:
        return len(self.data["answers"]) + 1 == len(self.scale.items)

    def offers_fuller(self, event) -> bool:
        # AsyncMachine checks a transition's conditions together, so each one must stand alone.
        # A positive safety item starts the safety check instead: one question waits at a time.
        if not (self.valid_answer(event) and self.completes(event)):
            return False
        result = self._score(event)
        return result.offers is not None and not result.safety_positive

    def says_yes(self, event) -> bool:
        return parse_number(text_of(event)) == YES

    def says_no(self, event) -> bool:
        return parse_number(text_of(event)) == NO

    def says_continue(self, event) -> bool:
        return parse_number(text_of(event)) == CONTINUE

    def says_restart(self, event) -> bool:
        return parse_number(text_of(event)) == RESTART

    def says_stop(self, event) -> bool:
        return parse_number(text_of(event)) == STOP

    # -- what the resident is told -----------------------------------------------------------
    def show_choices(self, event) -> None:
        lines = [scale.name.get(self.ctx.lang) for scale in self.scales]
        self.say(self.t("assessment.choose", scales=numbered(lines)))

    def repeat_choices(self, event) -> None:
        self.say(self.t("invalid_option", options=" / ".join(str(n) for n in range(1, len(self.scales) + 1))))
        self.show_choices(event)

    def start_picked(self, event) -> None:
        self._start(self._picked(event))

    async def start_named(self, event) -> None:
        """A resident who asked for a scale by name (or by what it measures) starts it at once."""
        if not await self.keeps_results():
            self.say(self.t("consent.not_kept_note"))
        self._start(self.ctx.knowledge.scales.get(event.args[0]))

    def start_offered(self, event) -> None:
        self._start(self.ctx.knowledge.scales.get(self.data["offered"]))

    def restart(self, event) -> None:
        self._start(self.scale)

    def _start(self, scale: Scale) -> None:
        self.data = {"scale": scale.id, "answers": []}
        lang = self.ctx.lang
        self.say(self.t("assessment.start", name=scale.name.get(lang), about=scale.about.get(lang),
                        instructions=scale.instructions.get(lang)))
        self.ask()

    def ask(self) -> None:
        item, lang = self.item, self.ctx.lang
        options = "\n".join(f"{o.value} {o.text.get(lang)}" for o in item.options)
        self.say(self.t("assessment.question", number=item.number, count=len(self.scale.items),
                        text=item.text.get(lang), options=options))

    def record_and_ask_next(self, event) -> None:
        self.data["answers"].append(self._answer(event))
        self.ask()

    def repeat_question(self, event) -> None:
        values = " / ".join(str(o.value) for o in self.item.options)
        self.say(self.t("invalid_option", options=values))
        self.ask()

    def repeat_question_plain(self, event) -> None:
        self.ask()

    async def finish(self, event) -> None:
        answers = [*self.data["answers"], self._answer(event)]
        scale, result = self.scale, self.scale.score(answers)
        kept = await self.keeps_results()
        if kept:
            await save_assessment(self.ctx.services, self.ctx.ref.id, result, answers, source="chat")
        log.info("assessment completed", extra={"scale": scale.id, "band": result.band,
                                                "safety": result.safety_positive, "kept": kept})
        self.say(describe_result(self.ctx, scale, result))
        self.say(self.t("assessment.saved" if kept else "consent.result_not_kept"))
        if result.safety_positive:  # last, so the check's first question is what the resident answers
            self.say(self.t("assessment.safety"))
            ref = replace(self.ctx.ref, language=self.ctx.lang)  # a language switched this turn counts already
            self.replies += await safety_item_in_chat(self.ctx.services, ref, scale, answers)
        elif result.offers:
            self.data = {"offered": result.offers}
            self.say(self.t("assessment.offer", name=self.ctx.knowledge.scales.get(result.offers).name.get(
                self.ctx.lang)))

    def decline(self, event) -> None:
        self.say(self.t("assessment.offer_declined", menu=self.ctx.menu()))

    def repeat_offer(self, event) -> None:
        self.say(self.t("invalid_option", options=f"{YES} / {NO}"))
        name = self.ctx.knowledge.scales.get(self.data["offered"]).name.get(self.ctx.lang)
        self.say(self.t("assessment.offer", name=name))

    def ask_resume(self, event) -> None:
        self.say(self.describe_pause())

    def describe_pause(self) -> str:
        return self.t("resume_prompt", scale=self.scale.name.get(self.ctx.lang),
                      answered=len(self.data["answers"]), total=len(self.scale.items))

    def repeat_resume(self, event) -> None:
        self.say(self.t("invalid_option", options=f"{CONTINUE} / {RESTART} / {STOP}"))
        self.say(self.describe_pause())

    def stop(self, event) -> None:
        self.say(self.t("assessment.stopped", menu=self.ctx.menu()))


def describe_result(ctx, scale: Scale, result: ScoreResult) -> str:
    band, lang = scale.band(result.band), ctx.lang
    low, high = scale.total_range
    text = ctx.t("assessment.result", name=scale.name.get(lang), total=result.total, low=low, high=high,
                 label=band.label.get(lang), meaning=band.meaning.get(lang),
                 not_meaning=band.not_meaning.get(lang), next_step=band.next_step.get(lang))
    if result.percent is not None:
        text += "\n" + ctx.t("assessment.percent", percent=result.percent)
    return text
