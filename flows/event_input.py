"""An event's fields as staff give them, checked and set on the event, or refused naming the field.

The events API (`flows/api.py`, JSON) and the admin's events form (`scheduler/admin_events.py`) both
save events through it, so neither accepts an event the other would refuse (an unknown station, a
capacity the column cannot hold, an end before the start).
"""
from __future__ import annotations

from datetime import datetime, timezone

from bot import localtime
from flows.models import Event
from knowledge.content import AUDIENCES
from knowledge.stations import StationMap

EVENT_FIELDS = {"title_zh", "title_en", "description", "description_en", "starts_at", "ends_at", "station_id",
                "capacity", "audiences"}
REQUIRED_EVENT_FIELDS = {"title_zh", "starts_at", "ends_at", "station_id", "capacity"}
MAX_CAPACITY = 100_000  # far below the column's range, so a typo is refused here, not by the database
TITLE_LENGTH = Event.__table__.c.title_zh.type.length


class EventInputError(ValueError):
    """The message names the field and what is wrong with it."""


def _moment(body: dict, key: str) -> datetime:
    value = body[key]
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None:
        raise EventInputError(f"'{key}' must be an ISO 8601 time such as 2025-06-01T19:00:00+08:00")
    return (moment if moment.tzinfo else moment.replace(tzinfo=localtime.zone())).astimezone(timezone.utc)


def apply_event_fields(event: Event, body: dict, stations: StationMap, *, creating: bool) -> None:
    """Set `body`'s fields on `event`, or raise EventInputError. A time without an offset is local.
    The caller saves in a transaction that an error leaves uncommitted, so a refusal changes nothing."""
    unknown = set(body) - EVENT_FIELDS
    if unknown:
        raise EventInputError(f"unknown fields: {', '.join(sorted(unknown))}; known: {', '.join(sorted(EVENT_FIELDS))}")
    missing = REQUIRED_EVENT_FIELDS - set(body) if creating else set()
    if missing:
        raise EventInputError(f"missing fields: {', '.join(sorted(missing))}")
    for key in ("title_zh", "title_en", "description", "description_en", "station_id"):
        if key in body and not isinstance(body[key], str):
            raise EventInputError(f"'{key}' must be text")
    if "title_zh" in body and not body["title_zh"].strip():
        raise EventInputError("'title_zh' must not be empty")
    for key in ("title_zh", "title_en"):
        if len(body.get(key, "")) > TITLE_LENGTH:
            raise EventInputError(f"'{key}' must be at most {TITLE_LENGTH} characters")
    if "station_id" in body:
        try:
            stations.get(body["station_id"])
        except KeyError:
            raise EventInputError(f"unknown station_id {body['station_id']!r} "
                                  "(ids are in knowledge/data/stations.yaml)") from None
    if "capacity" in body and (isinstance(body["capacity"], bool) or not isinstance(body["capacity"], int)
                               or not 1 <= body["capacity"] <= MAX_CAPACITY):
        raise EventInputError(f"'capacity' must be a whole number of at least 1 and at most {MAX_CAPACITY}")
    if "audiences" in body and (not isinstance(body["audiences"], list)
                                or any(a not in AUDIENCES for a in body["audiences"])):
        raise EventInputError(f"'audiences' must be a list of: {', '.join(sorted(AUDIENCES))}")
    times = {key: _moment(body, key) for key in ("starts_at", "ends_at") if key in body}
    for key, value in body.items():
        setattr(event, key, times.get(key, value))
    if event.ends_at <= event.starts_at:
        raise EventInputError("'ends_at' must be after 'starts_at'")
