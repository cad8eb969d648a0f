"""The words staff read for the codes the service stores: reasons, outcomes, timeline entries, actions,
sources, run states, risk levels.

One owner: `knowledge/data/texts/labels.yaml` (`labels.<group>.<code>`), read here and nowhere else.
Templates use the `label` filter (`{{ case.reason|label("reason") }}`); the console's JavaScript
gets `Labels.table()` once per page and looks codes up the same way (`label(group, code)` in
console_common.js). A code with no label is shown as it is, which the staff-pages test catches.
"""
from __future__ import annotations

import re

import jinja2
from aiohttp import web

from knowledge.texts import Texts

PREFIX = "labels."
LANG = "zh-Hans"
_ARROW = re.compile(r"^(\d+)->(\d+)$")
_QUEUED = re.compile(r"^(?P<reason>\S+) L(?P<level>\d)$")


class Labels:
    def __init__(self, texts: Texts, lang: str = LANG) -> None:
        self._table: dict[str, dict[str, str]] = {}
        for key in texts.keys():
            if key.startswith(PREFIX):
                group, _, code = key[len(PREFIX):].partition(".")
                self._table.setdefault(group, {})[code] = texts.local(key).get(lang)

    def table(self) -> dict[str, dict[str, str]]:
        """Everything, for a page's script: {group: {code: label}}."""
        return {group: dict(codes) for group, codes in self._table.items()}

    def has(self, group: str, code: object) -> bool:
        return _key(code) in self._table.get(group, {})

    def __call__(self, code: object, group: str) -> str:
        """The label of `code` in `group`; "a:b:c" codes read their head and describe the rest
        ("assessment:PHQ-9:item9_positive" -> "测评预警 · PHQ-9 第9题（自伤念头）阳性")."""
        if code is None or code == "":
            return ""
        words = self._table.get(group, {})
        if _key(code) in words:
            return words[_key(code)]
        head, sep, rest = str(code).partition(":")
        if sep and head in words:
            parts = [self._table.get("flag", {}).get(part.strip(), part.strip()) for part in rest.split(":")]
            return f"{words[head]} · {' '.join(parts)}"
        return str(code)

    def level(self, level: object) -> str:
        """"L3 主动意念": the number stays, as counsellors say it."""
        return f"L{level} {self(level, 'level')}"

    def event(self, kind: str, detail: str = "", names: dict[int, str] | None = None) -> str:
        """One timeline entry in words: the kind, and its detail read for what it holds."""
        text = self(kind, "event")
        said = self.event_detail(kind, detail, names or {})
        return f"{text} · {said}" if said else text

    def event_detail(self, kind: str, detail: str, names: dict[int, str]) -> str:
        detail = (detail or "").strip()
        if not detail:
            return ""
        arrow = _ARROW.match(detail)
        if arrow and kind == "raised":
            return f"{self.level(arrow[1])} → {self.level(arrow[2])}"
        if arrow:
            return " → ".join(names.get(int(x)) or f"#{x}" for x in arrow.groups())
        queued = _QUEUED.match(detail)
        if queued and kind in ("queued", "raised"):
            return f"{self(queued['reason'], 'reason')} · {self.level(queued['level'])}"
        if kind == "closed":
            return self(detail, "outcome")
        if detail.startswith("from ") and detail[5:].isdigit():
            who = names.get(int(detail[5:])) or f"#{detail[5:]}"
            return f"{self('from', 'detail')} {who}"
        return self(detail, "detail")


def _key(code: object) -> str:
    """Codes become keys: "staff:missed" -> "staff_missed", "console gone" -> "console_gone"."""
    return str(code).replace(":", "_").replace(" ", "_")


LABELS = web.AppKey("labels", Labels)


@jinja2.pass_context
def label_filter(context, code: object, group: str) -> str:
    return context["app"][LABELS](code, group)


@jinja2.pass_context
def label_table(context) -> dict[str, dict[str, str]]:
    return context["app"][LABELS].table()


@jinja2.pass_context
def event_text(context, kind: str, detail: str = "") -> str:
    return context["app"][LABELS].event(kind, detail)


def setup_templates(env: jinja2.Environment) -> None:
    """The `label` filter, `event_text()` and the `label_table()` a page hands its script;
    `app[LABELS]` itself is set when the services start."""
    env.filters["label"] = label_filter
    env.globals["label_table"] = label_table
    env.globals["event_text"] = event_text
