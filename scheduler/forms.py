"""Admin form fields to campaign content and schedules, with errors an admin can act on."""
from __future__ import annotations

from bot import localtime
from scheduler.audiences import ENROLMENT


class FormError(ValueError):
    pass


def _lines(text: str) -> dict[str, str]:
    """`key: template` per line, for template message fields."""
    fields = {}
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        if not sep or not key.strip():
            raise FormError(f"fields line {n}: write it as key: text")
        fields[key.strip()] = value.strip()
    return fields


def content_from(form) -> tuple[str, dict]:
    channel = str(form.get("channel") or "template")
    if channel == "template":
        return channel, {"template_id": str(form.get("template_id") or "").strip(),
                         "fields": _lines(str(form.get("fields") or "")), "url": str(form.get("url") or "").strip()}
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


def fields_text(fields: dict) -> str:
    return "\n".join(f"{k}: {v}" for k, v in fields.items())
