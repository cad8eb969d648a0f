"""When a campaign will really go out: its next planned time, moved past quiet hours.

The fan-out holds every push until quiet hours end (scheduler.policy), so a campaign planned for
23:00 goes out at 08:00. The admin pages say so when it is scheduled, not the next morning.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from scheduler import policy
from scheduler.engine import campaign_trigger
from bot.config import SchedulerSettings


@dataclass(frozen=True)
class HeldSend:
    planned: datetime  # when the schedule fires
    real: datetime  # when quiet hours let it go out


def held_until(settings: SchedulerSettings, at: datetime) -> datetime | None:
    """When a push due at `at` may really go out, or None if `at` is outside quiet hours."""
    return policy.quiet_until(at, settings.quiet_start, settings.quiet_end, settings.timezone)


def next_planned(schedule: dict, settings: SchedulerSettings, now: datetime) -> datetime | None:
    """The schedule's next firing after `now`; None for manual and event campaigns, or one in the past."""
    try:
        trigger = campaign_trigger(schedule, settings.timezone)
    except (KeyError, ValueError):
        return None
    planned = trigger.get_next_fire_time(None, now) if trigger is not None else None
    return planned if planned is not None and planned >= now else None  # a date trigger keeps its past date


def held_send(schedule: dict, settings: SchedulerSettings, now: datetime) -> HeldSend | None:
    """The next firing, if quiet hours hold it back; None when it goes out as planned."""
    planned = next_planned(schedule, settings, now)
    if planned is None:
        return None
    real = held_until(settings, planned)
    return HeldSend(planned, real) if real is not None else None
