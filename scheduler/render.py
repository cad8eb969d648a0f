"""Campaign content rendered per resident with sandboxed Jinja2.

Admins write the templates, so they run in Jinja2's sandbox, and a name the context does not
have is an error for that resident (StrictUndefined) rather than an empty hole in the message.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from bot.values import Article, Reply

CHANNELS = ("template", "text", "news")
_env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, trim_blocks=True)


class RenderError(ValueError):
    """The content cannot be rendered for this resident; the message says which name is missing."""


@dataclass(frozen=True)
class Message:
    """A rendered push: a template message (template_id, fields, url) or a customer-service reply."""

    channel: str
    template_id: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    url: str = ""
    reply: Reply | None = None

    def summary(self) -> str:
        if self.reply is not None:
            return self.reply.summary()
        return "\n".join(f"{k}: {v}" for k, v in self.fields.items())


class Renderer:
    """Compiles a campaign's content once; `render(context)` per resident."""

    def __init__(self, channel: str, content: dict) -> None:
        if channel not in CHANNELS:
            raise RenderError(f"channel must be one of {', '.join(CHANNELS)}")
        self.channel = channel
        self.template_id = str(content.get("template_id") or "")
        if channel == "template" and not self.template_id:
            raise RenderError("a template message needs a template id")
        try:
            self._fields = {k: _env.from_string(str(v)) for k, v in (content.get("fields") or {}).items()}
            self._url = _env.from_string(str(content.get("url") or ""))
            self._text = _env.from_string(str(content.get("text") or ""))
            self._articles = [{k: _env.from_string(str(a.get(k) or "")) for k in ("title", "description", "url",
                                                                                      "image")}
                              for a in content.get("articles") or []]
        except TemplateError as exc:
            raise RenderError(f"template syntax: {exc}") from None
        if channel == "text" and not content.get("text"):
            raise RenderError("a text message needs text")
        if channel == "news" and not self._articles:
            raise RenderError("a news message needs at least one article")

    def render(self, context: dict) -> Message:
        try:
            if self.channel == "template":
                return Message("template", self.template_id,
                               {k: t.render(context) for k, t in self._fields.items()}, self._url.render(context))
            if self.channel == "text":
                return Message("text", reply=Reply(text=self._text.render(context).strip()))
            articles = tuple(Article(**{k: t.render(context) for k, t in a.items()}) for a in self._articles)
            return Message("news", reply=Reply(articles=articles))
        except TemplateError as exc:  # UndefinedError, SecurityError, errors inside expressions
            raise RenderError(f"cannot render: {exc}"[:200]) from None
        except ValueError as exc:  # an empty Reply
            raise RenderError(f"rendered to nothing: {exc}") from None
