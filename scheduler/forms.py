"""Admin form fields to campaign content and schedules, with errors an admin can act on."""
from __future__ import annotations

from bot import localtime
from scheduler.audiences import ENROLMENT
from scheduler.template_catalog import catalogue


class FormError(ValueError):
    pass


def field_input(template_id: str, key: str) -> str:
    """The form input of one field of one configured template (each template has its own set)."""
    return f"field.{template_id}.{key}"


def _template_fields(form, template_id: str) -> dict[str, str]:
    """The chosen template's fields as typed; a field left blank is not sent."""
    template = catalogue().get(template_id)
    if template is None:
        raise FormError(f"请选择平台上已配置的模板（{'、'.join(catalogue())}），收到 {template_id!r}")
    values = {f.key: str(form.get(field_input(template_id, f.key)) or "").strip() for f in template.fields}
    if not any(values.values()):
        raise FormError(f"模板「{template.title}」的字段都是空的：请至少填写一项")
    return {k: v for k, v in values.items() if v}


def content_from(form) -> tuple[str, dict]:
    channel = str(form.get("channel") or "template")
    if channel == "template":
        template_id = str(form.get("template_id") or "").strip()
        return channel, {"template_id": template_id, "fields": _template_fields(form, template_id),
                         "url": str(form.get("url") or "").strip()}
    if channel == "text":
        return channel, {"text": str(form.get("text") or "")}
    if channel == "news":
        return channel, {"articles": [{"title": str(form.get("title") or ""),
                                       "description": str(form.get("text") or ""),
                                       "url": str(form.get("url") or ""), "image": str(form.get("image") or "")}]}
    raise FormError(f"unknown channel {channel!r}")


def schedule_from(form) -> dict:
    kind = str(form.get("kind") or "manual")
    try:
        if kind == "once":
            # typed as local wall-clock time, stored as UTC (bot/localtime.py); shown back as local
            return {"kind": kind, "at": localtime.from_local(str(form.get("at") or "")).isoformat()}
        if kind == "cron":
            return {"kind": kind, "cron": str(form.get("cron") or "").strip()}
        if kind == "relative":
            schedule = {"kind": kind, "anchor": str(form.get("anchor") or ""),
                        "offset_days": int(form.get("offset_days") or 0),
                        "every_days": int(form.get("every_days") or 0), "at": str(form.get("at_time") or "09:00")}
            if schedule["anchor"] == ENROLMENT:
                schedule["tag"] = str(form.get("programme_tag") or "").strip()
            return schedule
        if kind == "event":
            minutes = [int(m) for m in str(form.get("before_minutes") or "1440 60").replace(",", " ").split()]
            return {"kind": kind, "before_minutes": minutes}
    except ValueError as exc:
        raise FormError(f"schedule: {exc}") from None
    return {"kind": "manual"}

