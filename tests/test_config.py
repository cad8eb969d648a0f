"""Configuration fails at start with one line naming the variable."""
from __future__ import annotations

import subprocess
import sys

import pytest

from bot.config import ConfigError, load_config

GOOD = {"XZ_WECHAT_TOKEN": "t", "XZ_WECHAT_APPID": "wx1", "XZ_WECHAT_SECRET": "s"}


@pytest.mark.parametrize("missing", ["XZ_WECHAT_TOKEN", "XZ_WECHAT_APPID", "XZ_WECHAT_SECRET"])
def test_missing_required_setting_names_the_variable(missing):
    env = {k: v for k, v in GOOD.items() if k != missing}
    with pytest.raises(ConfigError, match=missing):
        load_config(env)


@pytest.mark.parametrize("name,value", [
    ("XZ_WECHAT_AES_KEY", "too-short"),
    ("XZ_PORT", "eighty"),
    ("XZ_PORT", "70000"),
    ("XZ_WORKERS", "0"),
    ("XZ_DATABASE_URL", "mysql://x/y"),
    ("XZ_REDIS_URL", "http://localhost"),
    ("XZ_WECHAT_API_BASE", "ftp://x"),
    ("XZ_TRUSTED_PROXIES", "nginx"),
    ("XZ_TRUSTED_PROXIES", "10.0.0.1/8"),
    ("XZ_TRUSTED_PROXIES", "127.0.0.1,300.1.1.1"),
    ("XZ_TIMEZONE", "Mars/Olympus"),
    ("XZ_TIMEZONE", "../../etc/passwd"),
    ("XZ_RETENTION_CASE_DAYS", "0"),
    ("XZ_RETENTION_BOT_DAYS", "soon"),
    ("XZ_RETENTION_MODE", "shred"),
    ("XZ_LOG_LEVEL", "LOUD"),
    ("XZ_QUIET_HOURS", "night"),
    ("XZ_CAMPAIGN_RATE", "fast"),
])
def test_invalid_setting_names_the_variable(name, value):
    with pytest.raises(ConfigError, match=name):
        load_config({**GOOD, name: value})


def test_defaults_are_plain_mode_real_api_and_embedded_redis():
    config = load_config(GOOD)
    assert not config.encrypted and config.wechat_api_base == "https://api.weixin.qq.com"
    assert config.redis_url == "" and config.port == 8080


def test_only_loopback_proxies_are_trusted_unless_configured():
    assert [str(n) for n in load_config(GOOD).trusted_proxies] == ["127.0.0.1/32", "::1/128"]
    config = load_config({**GOOD, "XZ_TRUSTED_PROXIES": " 10.250.250.10, fd00::/64 "})
    assert [str(n) for n in config.trusted_proxies] == ["10.250.250.10/32", "fd00::/64"]


def test_cli_reports_bad_configuration_in_one_line_without_traceback():
    env = {"PATH": "/usr/bin:/bin", **GOOD, "XZ_PORT": "not-a-port"}
    result = subprocess.run([sys.executable, "-m", "bot.cli", "serve"], env=env, capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "xinzhan: configuration error: XZ_PORT must be a whole number, got 'not-a-port'"]


def test_several_workers_need_a_real_redis():
    env = {"PATH": "/usr/bin:/bin", **GOOD, "XZ_WORKERS": "2"}
    result = subprocess.run([sys.executable, "-m", "bot.cli", "serve"], env=env, capture_output=True, text=True)
    assert result.returncode == 2 and "XZ_REDIS_URL" in result.stderr and "Traceback" not in result.stderr


def test_timezone_defaults_to_shanghai_and_takes_any_iana_zone():
    assert load_config(GOOD).timezone.key == "Asia/Shanghai"
    assert load_config({**GOOD, "XZ_TIMEZONE": "Asia/Urumqi"}).timezone.key == "Asia/Urumqi"


def test_bad_timezone_stops_the_start_in_one_line():
    env = {"PATH": "/usr/bin:/bin", **GOOD, "XZ_TIMEZONE": "Beijing"}
    result = subprocess.run([sys.executable, "-m", "bot.cli", "serve"], env=env, capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "xinzhan: configuration error: XZ_TIMEZONE must be an IANA time zone such as Asia/Shanghai, got 'Beijing'"]


def test_retention_log_level_and_scheduler_settings_come_from_the_environment():
    config = load_config({**GOOD, "XZ_RETENTION_CASE_DAYS": "30", "XZ_RETENTION_BOT_DAYS": "7",
                          "XZ_RETENTION_MODE": "anonymise", "XZ_LOG_LEVEL": "warning"})
    assert (config.retention.case_days, config.retention.bot_days, config.retention.mode) == (30, 7, "anonymise")
    assert config.log_level == "WARNING"
    scheduler = load_config({**GOOD, "XZ_QUIET_HOURS": "22:00-07:30", "XZ_SCHEDULER": "off"}).scheduler
    assert (scheduler.quiet_start.hour, scheduler.quiet_end.minute, scheduler.scheduler_enabled) == (22, 30, False)
    assert (load_config(GOOD).retention.case_days, load_config(GOOD).log_level) == (1095, "INFO")


def test_bad_retention_setting_stops_the_start_not_the_nightly_job():
    env = {"PATH": "/usr/bin:/bin", **GOOD, "XZ_RETENTION_BOT_DAYS": "soon"}
    result = subprocess.run([sys.executable, "-m", "bot.cli", "serve"], env=env, capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "xinzhan: configuration error: XZ_RETENTION_BOT_DAYS must be a whole number, got 'soon'"]
