"""What a campaign's templates can say about a resident: name, station, event, assessment due, tip.

Shared facts of a run (the event, the tip of the day, the due date) are stored on the run in all
languages; each resident sees them in their own language. The content comes from the one `Knowledge`
the worker loaded at start (`Services.knowledge`).
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import localtime
from bot.models import ResidentTag
from knowledge.content import LANGUAGES
from knowledge.library import Knowledge
from knowledge.stations import StationMap
from knowledge.tips import Tip, TipLibrary
from scheduler.audiences import Recipient

STATION_TAG = "station:"


def localised(value, lang: str):
    """Pick `lang` from a {language: text} mapping, recursively; other values pass through."""
    if isinstance(value, dict):
        if value and set(value) <= set(LANGUAGES):
            return value.get(lang) or value.get("zh-Hans") or next(iter(value.values()))
        return {k: localised(v, lang) for k, v in value.items()}
    return value


def all_languages(local_text) -> dict[str, str]:
    return {lang: local_text.get(lang) for lang in LANGUAGES}


def tip_of_the_day(day: date, library: TipLibrary) -> Tip:
    """The same tip for everyone on one day, walking through the library day by day."""
    every = sorted((tip for topic in library.topics() for tip in library.by_topic(topic.id)), key=lambda t: t.id)
    return every[day.toordinal() % len(every)]


def tip_context(tip: Tip) -> dict:
    return {"id": tip.id, "title": all_languages(tip.title), "body": all_languages(tip.body), "url": tip.url or ""}


def station_context(stations: StationMap, station_id: str) -> dict:
    station = stations.get(station_id)
    return {"id": station.id, "name": all_languages(station.name), "address": station.address,
            "phone": station.phone}


async def station_tags(sessions: async_sessionmaker[AsyncSession], resident_ids: list[int]) -> dict[int, str]:
    """Each resident's station (from a `station:<id>` tag), for one batch in one query."""
    if not resident_ids:
        return {}
    async with sessions() as session:
        rows = await session.execute(select(ResidentTag.resident_id, ResidentTag.tag).where(
            ResidentTag.resident_id.in_(resident_ids), ResidentTag.tag.startswith(STATION_TAG)))
    return {rid: tag[len(STATION_TAG):] for rid, tag in rows}


def resident_context(knowledge: Knowledge, recipient: Recipient, station_id: str | None, shared: dict,
                     now: datetime | None = None) -> dict:
    lang = recipient.language or "zh-Hans"
    context = {k: localised(v, lang) for k, v in shared.items()}
    context.update(name=recipient.name or knowledge.texts.get("scheduler.default_name", lang), language=lang,
                   area=recipient.area, today=(now or datetime.now(localtime.zone())).astimezone(localtime.zone()).date().isoformat())
    if station_id:
        try:
            context["station"] = localised(station_context(knowledge.stations, station_id), lang)
        except (KeyError, ValueError):
            pass  # a tag naming a station that no longer exists: the template sees no station
    return context
