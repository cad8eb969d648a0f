"""What every scheduler job and the fan-out receive: the core services and the scheduler settings."""
from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

from bot.config import SchedulerSettings
from bot.services import Services
from scheduler.ratelimit import TokenBucket


@dataclass
class Outreach:
    services: Services
    settings: SchedulerSettings
    bucket: TokenBucket = field(init=False)

    def __post_init__(self) -> None:
        self.bucket = TokenBucket(self.services.redis, "campaigns", self.settings.rate_per_second)


OUTREACH = web.AppKey("outreach", Outreach)
