"""Campaign content rendered per resident with sandboxed Jinja2.

Admins write the templates, so they run in a bounded sandbox (scheduler/sandbox.py), and a name
the context does not have is an error for that resident (StrictUndefined) rather than an empty
hole in the message. Whatever a template's expression raises (`{{ 1/0 }}`) is the template's
fault: it comes back as a RenderError, never as a crash of the page or the run.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from jinja2 import TemplateError

from bot.values import Article, Reply
from scheduler.sandbox import BoundedSandbox
from scheduler.template_catalog import content_problems, value_problems

CHANNELS = ("template", "text", "news")
MAX_SOURCE = 4000  # characters over all of a campaign's templates (a WeChat text holds 2,048 bytes)
COMPILE_SECONDS = 2.0
_env = BoundedSandbox()


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
        if channel == "template" and (problems := content_problems(self.template_id, content.get("fields") or {})):
            raise RenderError("；".join(problems))
        size = sum(len(str(v)) for v in _sources(content))
        if size > MAX_SOURCE:
            raise RenderError(f"模板总长 {size} 字，超过上限 {MAX_SOURCE} 字 (templates too long)")
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
                fields = {k: t.render(context).strip() for k, t in self._fields.items()}
                if problems := value_problems(self.template_id, fields):
                    raise RenderError("；".join(problems)[:200])
                return Message("template", self.template_id, fields, self._url.render(context))
            if self.channel == "text":
                return Message("text", reply=Reply(text=self._text.render(context).strip()))
            articles = tuple(Article(**{k: t.render(context) for k, t in a.items()}) for a in self._articles)
            return Message("news", reply=Reply(articles=articles))
        except TemplateError as exc:  # UndefinedError, SecurityError (sandbox.TooCostly)
            raise RenderError(f"cannot render: {exc}"[:200]) from None
        except ValueError as exc:  # an empty Reply
            raise RenderError(f"rendered to nothing: {exc}"[:200]) from None
        except Exception as exc:  # noqa: BLE001 - e.g. {{ 1/0 }}: the admin's template, not our bug
            raise RenderError(f"模板运算出错 (cannot render): {type(exc).__name__}: {exc}"[:200]) from None


def _sources(content: dict):
    yield from (content.get("fields") or {}).values()
    yield content.get("url") or ""
    yield content.get("text") or ""
    for article in content.get("articles") or []:
        yield from (article.get(k) or "" for k in ("title", "description", "url", "image"))


async def render_checked(renderer: Renderer, context: dict) -> Message:
    """One render off the event loop, for a preview: an admin's loop may run long."""
    try:
        return await asyncio.wait_for(asyncio.to_thread(renderer.render, context), COMPILE_SECONDS)
    except TimeoutError:
        raise RenderError(f"模板渲染超过 {COMPILE_SECONDS:g} 秒，请简化 (template too slow)") from None


async def compile_checked(channel: str, content: dict) -> Renderer:
    """Compile an admin's content off the event loop, giving up after COMPILE_SECONDS.

    The sandbox folds no constants, so compiling is parsing; the timeout is for what that leaves."""
    try:
        return await asyncio.wait_for(asyncio.to_thread(Renderer, channel, content), COMPILE_SECONDS)
    except TimeoutError:
        raise RenderError(f"模板编译超过 {COMPILE_SECONDS:g} 秒，请简化 (template too complex)") from None
