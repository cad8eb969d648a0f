"""The scheduler's settings, read once from XZ_* variables and checked like bot.config does.

They live here, not in bot.config, because only the scheduler reads them; a bad value stops the
service at start with one line naming the variable.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from datetime import time
from typing import Mapping
from zoneinfo import ZoneInfo

from bot.config import ConfigError, timezone_setting
from bot.localtime import DEFAULT_ZONE

_CLOCK_RANGE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class SchedulerSettings:
    rate_per_second: float = 1000.0  # shared by every worker (token bucket in Redis)
    concurrency: int = 32  # sends in flight per run
    batch_size: int = 500  # residents claimed per step of the fan-out
    quiet_start: time = time(21, 30)  # local time; pushes wait until quiet_end
    quiet_end: time = time(8, 0)
    timezone: ZoneInfo = DEFAULT_ZONE  # XZ_TIMEZONE, the one local zone (bot/localtime.py)
    frequency_cap: int = 1  # campaign messages per resident in any 24 hours
    quota_pause_seconds: int = 3600  # a 45009 (quota) pauses the run this long
    lease_seconds: float = 15.0  # leader and run locks; renewed at a third of it
    sweep_seconds: int = 30  # how often the leader resumes due or orphaned runs
    scheduler_enabled: bool = True

    def with_(self, **changes) -> "SchedulerSettings":
        return replace(self, **changes)


def _number(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low:g} and {high:g}, got {value:g}")
    return value


def _quiet(env: Mapping[str, str]) -> tuple[time, time]:
    raw = env.get("XZ_QUIET_HOURS", "").strip()
    if not raw:
        return SchedulerSettings.quiet_start, SchedulerSettings.quiet_end
    match = _CLOCK_RANGE.match(raw)
    if not match:
        raise ConfigError(f"XZ_QUIET_HOURS must look like 21:30-08:00, got {raw!r}")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    return time(h1, m1), time(h2, m2)


def load_settings(env: Mapping[str, str] | None = None) -> SchedulerSettings:
    env = os.environ if env is None else env
    start, end = _quiet(env)
    return SchedulerSettings(
        rate_per_second=_number(env, "XZ_CAMPAIGN_RATE", 1000.0, 0.1, 100000),
        concurrency=int(_number(env, "XZ_CAMPAIGN_CONCURRENCY", 32, 1, 1000)),
        quiet_start=start, quiet_end=end, timezone=timezone_setting(env),
        frequency_cap=int(_number(env, "XZ_CAMPAIGN_DAILY_CAP", 1, 0, 100)),
        scheduler_enabled=env.get("XZ_SCHEDULER", "on").strip().lower() not in ("off", "0", "no"),
    )
