"""Service configuration, read once from XZ_* environment variables.

Every setting is validated here so a bad deployment fails at start with one line naming the
variable, instead of failing later on a resident's message.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import os
import re
from dataclasses import dataclass, field, replace
from datetime import time
from typing import Mapping
from zoneinfo import ZoneInfo

from bot.localtime import DEFAULT_ZONE, parse_zone

REAL_WECHAT_API = "https://api.weixin.qq.com"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
LOOPBACK = "127.0.0.1,::1"


class ConfigError(Exception):
    """A setting is missing or invalid; the message names the variable."""


RETENTION_MODES = ("delete", "anonymise")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


@dataclass(frozen=True)
class RetentionPolicy:
    """How long transcripts are kept (XZ_RETENTION_*): applied daily by the scheduler, told in the privacy notice."""
    case_days: int = 1095
    bot_days: int = 365
    mode: str = "delete"


@dataclass(frozen=True)
class SchedulerSettings:
    """Campaign sending and the leader-elected engine (scheduler/)."""
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


@dataclass(frozen=True)
class Config:
    wechat_token: str
    wechat_aes_key: str  # empty = plain mode
    wechat_appid: str
    wechat_secret: str
    wechat_api_base: str = REAL_WECHAT_API
    database_url: str = "sqlite+aiosqlite:///var/xinzhan.db"
    redis_url: str = ""  # empty = embedded fakeredis (demo and tests only)
    host: str = "0.0.0.0"
    port: int = 8080
    workers: int = 1
    reply_deadline: float = 4.0  # seconds; the platform gives up at 5
    replay_window: int = 300  # seconds a signed timestamp stays acceptable
    public_url: str = ""  # base URL residents' links point to (charts, records)
    demo_password: str = ""
    cookie_secure: bool = False
    secret_key: str = ""  # signs sessions, CSRF tokens and links sent to residents
    metrics_token: str = ""  # empty = /metrics only for private addresses; else a bearer token for it
    simulator: bool = False  # /simulator speaks as any resident: the demo and tests only
    timezone: ZoneInfo = DEFAULT_ZONE  # times are stored in UTC and shown in this zone (bot/localtime.py)
    # Proxies whose X-Forwarded-For is believed (bot/client_address.py); anyone else's is ignored.
    trusted_proxies: tuple[Network, ...] = field(default_factory=lambda: _networks("XZ_TRUSTED_PROXIES", LOOPBACK))
    retention: RetentionPolicy = RetentionPolicy()
    scheduler: SchedulerSettings = SchedulerSettings()
    log_level: str = "INFO"

    @property
    def encrypted(self) -> bool:
        return bool(self.wechat_aes_key)

    def with_(self, **changes) -> "Config":
        return replace(self, **changes)


def _require(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(f"{name} is required but not set")
    return value


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value}")
    return value


def validate_aes_key(name: str, key: str) -> str:
    """An EncodingAESKey is 43 base64 characters that decode (with '=') to 32 bytes."""
    if not key:
        return key
    try:
        decoded = base64.b64decode(key + "=", validate=True)
    except binascii.Error:
        decoded = b""
    if len(key) != 43 or len(decoded) != 32:
        raise ConfigError(f"{name} must be the 43-character EncodingAESKey from the WeChat platform")
    return key


def _url(env: Mapping[str, str], name: str, default: str, schemes: tuple[str, ...]) -> str:
    value = env.get(name, "").strip() or default
    if value and not value.startswith(schemes):
        raise ConfigError(f"{name} must start with one of {', '.join(schemes)}, got {value!r}")
    return value


def _networks(name: str, raw: str) -> tuple[Network, ...]:
    """Addresses and networks, comma-separated. A network with host bits set (10.0.0.1/8) is
    refused, not widened: it is more likely a typo than a wish to trust all of 10/8."""
    try:
        return tuple(ipaddress.ip_network(part.strip()) for part in raw.split(",") if part.strip())
    except ValueError:
        raise ConfigError(f"{name} must be addresses or networks separated by commas, like 127.0.0.1,10.0.0.0/24; "
                          f"got {raw!r}") from None


def timezone_setting(env: Mapping[str, str]) -> ZoneInfo:
    raw = env.get("XZ_TIMEZONE", "").strip()
    if not raw:
        return DEFAULT_ZONE
    try:
        return parse_zone(raw)
    except ValueError:
        raise ConfigError(f"XZ_TIMEZONE must be an IANA time zone such as Asia/Shanghai, got {raw!r}") from None


def retention_policy(env: Mapping[str, str]) -> RetentionPolicy:
    mode = env.get("XZ_RETENTION_MODE", "").strip() or "delete"
    if mode not in RETENTION_MODES:
        raise ConfigError(f"XZ_RETENTION_MODE must be delete or anonymise, got {mode!r}")
    return RetentionPolicy(_int(env, "XZ_RETENTION_CASE_DAYS", 1095, 1, 36500),
                           _int(env, "XZ_RETENTION_BOT_DAYS", 365, 1, 36500), mode)


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


_CLOCK_RANGE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


def _quiet(env: Mapping[str, str]) -> tuple[time, time]:
    raw = env.get("XZ_QUIET_HOURS", "").strip()
    if not raw:
        return SchedulerSettings.quiet_start, SchedulerSettings.quiet_end
    match = _CLOCK_RANGE.match(raw)
    if not match:
        raise ConfigError(f"XZ_QUIET_HOURS must look like 21:30-08:00, got {raw!r}")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    return time(h1, m1), time(h2, m2)


def scheduler_settings(env: Mapping[str, str]) -> SchedulerSettings:
    start, end = _quiet(env)
    return SchedulerSettings(
        rate_per_second=_number(env, "XZ_CAMPAIGN_RATE", 1000.0, 0.1, 100000),
        concurrency=int(_number(env, "XZ_CAMPAIGN_CONCURRENCY", 32, 1, 1000)),
        quiet_start=start, quiet_end=end, timezone=timezone_setting(env),
        frequency_cap=int(_number(env, "XZ_CAMPAIGN_DAILY_CAP", 1, 0, 100)),
        scheduler_enabled=env.get("XZ_SCHEDULER", "on").strip().lower() not in ("off", "0", "no"),
    )


def _log_level(env: Mapping[str, str]) -> str:
    level = env.get("XZ_LOG_LEVEL", "").strip().upper() or "INFO"
    if level not in LOG_LEVELS:
        raise ConfigError(f"XZ_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {level!r}")
    return level


def load_config(env: Mapping[str, str] | None = None, *, defaults: Mapping[str, str] | None = None) -> Config:
    """Build the configuration from the environment; `defaults` fills unset variables (the demo)."""
    merged = dict(defaults or {})
    merged.update({k: v for k, v in (os.environ if env is None else env).items() if v != ""})
    return Config(
        wechat_token=_require(merged, "XZ_WECHAT_TOKEN"),
        wechat_aes_key=validate_aes_key("XZ_WECHAT_AES_KEY", merged.get("XZ_WECHAT_AES_KEY", "").strip()),
        wechat_appid=_require(merged, "XZ_WECHAT_APPID"),
        wechat_secret=_require(merged, "XZ_WECHAT_SECRET"),
        wechat_api_base=_url(merged, "XZ_WECHAT_API_BASE", REAL_WECHAT_API, ("http://", "https://")).rstrip("/"),
        database_url=_url(merged, "XZ_DATABASE_URL", "sqlite+aiosqlite:///var/xinzhan.db",
                          ("sqlite+aiosqlite://", "postgresql+asyncpg://")),
        redis_url=_url(merged, "XZ_REDIS_URL", "", ("redis://", "rediss://", "unix://")),
        host=merged.get("XZ_HOST", "0.0.0.0").strip() or "0.0.0.0",
        port=_int(merged, "XZ_PORT", 8080, 1, 65535),
        workers=_int(merged, "XZ_WORKERS", 1, 1, 64),
        public_url=_url(merged, "XZ_PUBLIC_URL", "", ("http://", "https://")).rstrip("/"),
        demo_password=merged.get("XZ_DEMO_PASSWORD", ""),
        cookie_secure=merged.get("XZ_COOKIE_SECURE", "").lower() in ("1", "true", "yes"),
        secret_key=_secret_key(merged),
        metrics_token=merged.get("XZ_METRICS_TOKEN", "").strip(),
        simulator=merged.get("XZ_SIMULATOR", "").lower() in ("1", "true", "yes", "on"),
        trusted_proxies=_networks("XZ_TRUSTED_PROXIES", merged.get("XZ_TRUSTED_PROXIES", LOOPBACK)),
        timezone=timezone_setting(merged),
        retention=retention_policy(merged),
        scheduler=scheduler_settings(merged),
        log_level=_log_level(merged),
    )


def _secret_key(env: Mapping[str, str]) -> str:
    """XZ_SECRET_KEY, or one derived from the AppSecret so a small deployment needs one secret less."""
    key = env.get("XZ_SECRET_KEY", "").strip()
    if key and len(key) < 32:
        raise ConfigError("XZ_SECRET_KEY must be at least 32 characters")
    return key or hmac.new(env["XZ_WECHAT_SECRET"].encode(), b"xinzhan-secret-key", hashlib.sha256).hexdigest()
