"""One local time: times are stored in UTC and shown in the zone XZ_TIMEZONE names.

Every page, export, chart, form and resident message that shows or reads a wall-clock time goes
through here, so the console, review, the admin and the resident's record never disagree about
which day a message was written. The zone is a process-wide fact set once at start from the
configuration (`use`), like the log format; until then it is the default, Asia/Shanghai.
"""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_ZONE = ZoneInfo("Asia/Shanghai")
_zone: ZoneInfo = DEFAULT_ZONE


def parse_zone(name: str) -> ZoneInfo:
    """The IANA zone `name`; ValueError if there is no such zone."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(name) from None


def use(zone: ZoneInfo) -> None:
    global _zone
    _zone = zone


def zone() -> ZoneInfo:
    return _zone


def aware(at: datetime) -> datetime:
    """A stored time as an aware UTC value: SQLite hands back naive UTC."""
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)


def local(at: datetime) -> datetime:
    return aware(at).astimezone(_zone)


def fmt(at: datetime | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """A stored time as local wall-clock text; empty for None."""
    return local(at).strftime(pattern) if at is not None else ""


def iso(at: datetime | None) -> str | None:
    """A stored time as ISO 8601 with the local offset (2026-06-01T00:10:00+08:00): the same
    instant as the UTC value, read as the local date and time by people and programs alike."""
    return local(at).isoformat() if at is not None else None


def from_local(value: str | datetime) -> datetime:
    """A wall-clock time typed in a form (naive = local; an explicit offset is kept) as UTC."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return (moment if moment.tzinfo else moment.replace(tzinfo=_zone)).astimezone(timezone.utc)


def input_value(value: str | datetime | None) -> str:
    """The value of a datetime-local input for a stored time: local, to the minute. A stored
    string without an offset is an older local wall-clock time and is shown as it is."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else aware(value)
    return (moment.astimezone(_zone) if moment.tzinfo else moment).strftime("%Y-%m-%dT%H:%M")


def setup_templates(env) -> None:
    """Register once for every template: `at|localtime`, `at|localtime("%m-%d")`,
    `value|local_input`, and `timezone_name` for page scripts (Intl's timeZone option)."""
    env.filters["localtime"] = fmt
    env.filters["local_input"] = input_value
    env.globals["timezone_name"] = lambda: _zone.key
