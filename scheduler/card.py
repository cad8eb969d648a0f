"""A template message as the resident's WeChat shows it: the template's title, then each typed field
by its label, then the link. Nothing else: the platform no longer shows `first`, `remark`,
colours or emoji, so the preview does not either."""
from __future__ import annotations

from dataclasses import dataclass

from scheduler.render import Message
from scheduler.template_catalog import catalogue


@dataclass(frozen=True)
class Card:
    title: str
    rows: tuple[tuple[str, str], ...]  # (label, value), in the template's order
    url: str

    @property
    def link(self) -> str:
        """The link as a clickable address only when it is a web address (no `javascript:`)."""
        return self.url if self.url.startswith(("https://", "http://")) else ""


def template_card(message: Message) -> Card:
    template = catalogue().get(message.template_id)
    if template is None:  # checked before rendering; shown as sent if a saved one slips through
        return Card(message.template_id, tuple(message.fields.items()), message.url)
    rows = tuple((f.label, message.fields.get(f.key, "")) for f in template.fields)
    return Card(template.title, rows, message.url)
