"""Event reminders read the flows package's events and registrations (read-only)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists

from bot import localtime
from bot.models import Resident
from knowledge.content import LANGUAGES, to_traditional
from knowledge.library import Knowledge
from scheduler import content


def registrants_condition(event_id: int):
    from flows.models import Registration

    return exists().where(Registration.event_id == event_id, Registration.resident_id == Resident.id,
                          Registration.status == "registered")


def event_context(knowledge: Knowledge, event) -> dict:
    """The event in every language, as templates see it: title, starts_at, place, reminder."""
    try:
        place = content.station_context(knowledge.stations, event.station_id)["name"]
    except (KeyError, ValueError):
        place = {lang: event.station_id for lang in LANGUAGES}
    titles, starts_at = _titles(event), _local(event.starts_at)
    reminder = {lang: knowledge.texts.get("scheduler.event_reminder", lang, title=titles[lang], starts_at=starts_at,
                                       place=place[lang]) for lang in LANGUAGES}
    return {"id": event.id, "title": titles, "starts_at": starts_at, "place": place, "reminder": reminder}


def _titles(event) -> dict[str, str]:
    en = event.title_en or event.title_zh
    return {"zh-Hans": event.title_zh, "zh-Hant": to_traditional(event.title_zh), "en": en}


def _local(at: datetime) -> str:
    return localtime.fmt(at)
