"""docker/compose.yaml without a Docker engine: each service built from our image gets a command
our CLI has and settings the service accepts; the variables it names are ones the service reads and
the README documents; and, on real PostgreSQL and Redis, `migrate`, `app` and `scheduler` run
exactly as compose would start them, answer /healthz, and stop cleanly on SIGTERM.
"""
from __future__ import annotations

import asyncio
import re
import signal
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot.cli import build_parser
from bot.commands.serve import worker_pids
from bot.config import load_config
from bot.migrate import alembic_config
from tests.conftest import needs_real_db, needs_real_redis
from tests.deploy import dockerfile
from tests.deploy.compose import (ROOT, MissingVariable, image_services, interpolate, load_compose, raw_compose,
                                  required_variables, service_environment, variables_named)
from tests.deploy.stack import ENV_FILE, Stack
from tests.faults.conftest import wait_port
from tests.faults.test_redis_restart import wait_until

# Where the services read the settings a container gets.
SETTINGS_READERS = ("bot/config.py",)
# Settings in the README's table that compose deliberately does not pass, and why.
NOT_FOR_COMPOSE = {
    "XZ_WECHAT_API_BASE": "tests and the demo point it at the mock; production uses the real API",
    "XZ_HOST": "the image sets it", "XZ_PORT": "the image sets it; nginx and HEALTHCHECK expect 8080",
    "XZ_DEMO_PASSWORD": "demo only", "XZ_SIMULATOR": "never in production",
}
IMAGE_SERVICES = ("migrate", "app", "scheduler")
# Where the settings checks point the services (nothing connects to them).
LOCAL_DB, LOCAL_REDIS = "postgresql+asyncpg://postgres@127.0.0.1:5432/test", "redis://127.0.0.1:6379/14"


def deployment_section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.search(r"^## Deployment\b.*?(?=^## )", readme, re.S | re.M).group(0)


def readme_settings_table() -> set[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = [line for line in readme.splitlines() if line.startswith("| `XZ_")]
    return {name for row in rows for name in re.findall(r"`(XZ_[A-Z0-9_]+)`", row.split("|")[1])}


def test_interpolation_follows_compose_rules():
    env = {"SET": "value", "EMPTY": ""}
    assert interpolate("${SET} ${UNSET} ${EMPTY:-fallback} ${SET:-fallback} $$HOME", env) == "value  fallback value $HOME"
    with pytest.raises(MissingVariable, match="EMPTY is missing a value: say so"):
        interpolate("${EMPTY:?say so}", env)


@pytest.mark.parametrize("name", sorted(required_variables(raw_compose())))
def test_compose_refuses_to_start_without_a_required_variable(name):
    with pytest.raises(MissingVariable, match=rf"required variable {name} is missing a value: .*{name}"):
        load_compose({k: v for k, v in ENV_FILE.items() if k != name})


def test_three_services_run_our_image_the_rest_stock_ones():
    assert image_services(load_compose(ENV_FILE)) == list(IMAGE_SERVICES)


OFFICIAL_IMAGES = {"postgres": "postgres:15", "redis": "redis:7", "nginx": "nginx:1.27"}


def test_the_stack_runs_official_images_and_ports_unless_the_env_file_says_otherwise():
    """The shipped defaults are a real server's; CI (.ci/docker_stack.sh) and a server behind a
    registry mirror name other images, and CI other host ports, through the env file alone."""
    services = load_compose(ENV_FILE)["services"]
    assert {name: services[name]["image"] for name in OFFICIAL_IMAGES} == OFFICIAL_IMAGES
    assert {services[name]["image"] for name in IMAGE_SERVICES} == {"xinzhan:latest"}
    assert services["app"]["build"]["args"] == {"PYTHON_IMAGE": dockerfile.global_args(
        dockerfile.DOCKERFILE.read_text(encoding="utf-8"))["PYTHON_IMAGE"]}
    assert services["nginx"]["ports"] == ["80:80", "443:443"]
    names = {"POSTGRES_IMAGE": "m/pg:15", "REDIS_IMAGE": "m/redis:7", "NGINX_IMAGE": "m/nginx:1.27",
             "XINZHAN_IMAGE": "ci/xinzhan:ci", "PYTHON_IMAGE": "m/python:3.11-slim",
             "NGINX_HTTP_PORT": "127.0.0.1:8080", "NGINX_HTTPS_PORT": "127.0.0.1:8443"}
    services = load_compose({**ENV_FILE, **names})["services"]
    assert [services[name]["image"] for name in ("postgres", "redis", "nginx", "app", "migrate", "scheduler")] == [
        "m/pg:15", "m/redis:7", "m/nginx:1.27", "ci/xinzhan:ci", "ci/xinzhan:ci", "ci/xinzhan:ci"]
    assert services["app"]["build"]["args"] == {"PYTHON_IMAGE": "m/python:3.11-slim"}
    assert services["nginx"]["ports"] == ["127.0.0.1:8080:80", "127.0.0.1:8443:443"]


def test_the_services_reach_postgres_and_redis_as_those_services_are_set_up():
    services = load_compose(ENV_FILE)["services"]
    postgres = service_environment(services["postgres"])
    database = make_url(service_environment(services["app"])["XZ_DATABASE_URL"])
    assert (database.host, database.port) == ("postgres", 5432)
    assert (database.username, database.password, database.database) == (
        postgres["POSTGRES_USER"], postgres["POSTGRES_PASSWORD"], postgres["POSTGRES_DB"])
    redis = urlsplit(service_environment(services["app"])["XZ_REDIS_URL"])
    assert (redis.hostname, redis.port) == ("redis", 6379) and "redis" in services


@pytest.mark.parametrize("name", IMAGE_SERVICES)
def test_each_image_service_gets_a_command_the_cli_has_and_settings_it_accepts(tmp_path, name):
    service = Stack(LOCAL_DB, LOCAL_REDIS, tmp_path).service(name)
    service.command_line()  # argv[0] is the console script and the CLI parses the rest
    config = load_config(service.env)
    settings = config.scheduler
    assert (config.encrypted, config.cookie_secure, config.public_url) == (True, True, ENV_FILE["XZ_PUBLIC_URL"])
    assert len(config.secret_key) >= 32 and config.redis_url
    if name == "app":
        assert (config.workers, settings.scheduler_enabled) == (int(ENV_FILE["XZ_WORKERS"]), False)
    if name == "scheduler":
        assert build_parser().parse_args(service.argv[1:]).workers == 1 and settings.scheduler_enabled


def test_every_xz_variable_compose_names_is_one_the_service_reads():
    read = set()
    for path in SETTINGS_READERS:
        read |= set(re.findall(r"[\"'](XZ_[A-Z0-9_]+)[\"']", (ROOT / path).read_text(encoding="utf-8")))
    named = {v for v in variables_named(raw_compose()) if v.startswith("XZ_")}
    assert named - read == set()


def test_settings_the_readme_documents_can_be_set_in_the_env_file():
    """Compose hands a container only the variables it names: one it does not name, put in
    docker/.env, would be silently ignored."""
    missing = readme_settings_table() - variables_named(raw_compose()) - set(NOT_FOR_COMPOSE)
    assert missing == set()


def test_readme_deployment_names_every_variable_compose_requires():
    env_block = re.search(r"```sh\n(.*?)```", deployment_section(), re.S).group(1)
    documented = set(re.findall(r"^\s*([A-Z_][A-Z0-9_]*)=", env_block, re.M))
    assert required_variables(raw_compose()) - documented == set()
    assert documented - variables_named(raw_compose()) == set(), "a variable the README has you set that compose ignores"


def test_readme_deployment_commands_are_ones_the_cli_has():
    commands = re.findall(r"exec app xinzhan ([^`]+)`", deployment_section())
    assert commands, "the deployment section shows no `exec app xinzhan ...` command"
    for command in commands:
        build_parser().parse_args(command.replace("<name>", "duty-counsellor").split())


# ---- the stack run for real (tests/deploy/conftest.py starts it once) ----

async def _health(port: int) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{port}/healthz") as resp:
            return resp.status, await resp.json()


def _started(stack: Stack, name: str):
    return next(s for s in stack.running if s.name == name)


@needs_real_db
@needs_real_redis
async def test_migrate_applies_every_package_branch(compose_stack):
    """Every head is in the database's history (a head another branch depends on is not stored
    in alembic_version itself, its dependant stands for it)."""
    script = ScriptDirectory.from_config(alembic_config(compose_stack.database_url))
    engine = create_async_engine(compose_stack.database_url)
    async with engine.connect() as conn:
        stored = tuple(await conn.scalars(text("SELECT version_num FROM alembic_version")))
    await engine.dispose()
    applied = {revision.revision for revision in script.iterate_revisions(stored, "base")}
    assert set(script.get_heads()) - applied == set()


@needs_real_db
@needs_real_redis
@pytest.mark.parametrize("name", ["app", "scheduler"])
async def test_service_answers_healthz_ok_on_postgres_and_redis(compose_stack, name):
    status, body = await _health(_started(compose_stack, name).port)
    assert (status, body) == (200, {"status": "ok", "database": "ok", "redis": "ok"})


@needs_real_db
@needs_real_redis
async def test_app_serves_with_the_workers_compose_gives_it(compose_stack):
    app = _started(compose_stack, "app")
    assert await wait_until(lambda: _workers(app.proc.pid, int(ENV_FILE["XZ_WORKERS"])), timeout=30)


async def _workers(pid: int, n: int) -> bool:
    return len(worker_pids(pid)) == n


@needs_real_db
@needs_real_redis
async def test_the_scheduler_service_leads_the_scheduler_and_the_app_stays_out(compose_stack):
    scheduler, app = _started(compose_stack, "scheduler"), _started(compose_stack, "app")

    async def led() -> bool:
        return "scheduler leadership taken" in scheduler.log.read_text(errors="replace")

    assert await wait_until(led, timeout=30), scheduler.log.read_text(errors="replace")[-2000:]
    assert "scheduler leadership" not in app.log.read_text(errors="replace")


@needs_real_db
@needs_real_redis
async def test_image_healthcheck_passes_against_the_app(compose_stack):
    stage = dockerfile.load()[-1]
    command = dockerfile.healthcheck_command(stage)
    image_port = stage.env()["XZ_PORT"]
    local = command.replace(f"127.0.0.1:{image_port}", f"127.0.0.1:{_started(compose_stack, 'app').port}")
    assert local != command, "the HEALTHCHECK does not ask 127.0.0.1 on the image's XZ_PORT"
    check = await asyncio.to_thread(subprocess.run, ["sh", "-c", local], env=_started(compose_stack, "app").process_env(),
                                    capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr


@needs_real_db
@needs_real_redis
async def test_sigterm_stops_app_and_scheduler_with_status_0(compose_stack, tmp_path):
    """On processes of its own (on the stack's migrated database), so the shared ones stay up."""
    stack = Stack(compose_stack.database_url, compose_stack.redis_url, tmp_path)
    try:
        services = [stack.start("app"), stack.start("scheduler")]
        await asyncio.gather(*(wait_port(s.port, timeout=60) for s in services))
        assert [(await _health(s.port))[0] for s in services] == [200, 200]
        assert await wait_until(lambda: _workers(services[0].proc.pid, int(ENV_FILE["XZ_WORKERS"])), timeout=30)
        workers = worker_pids(services[0].proc.pid)
        for service in services:
            service.proc.send_signal(signal.SIGTERM)
        codes = [await asyncio.wait_for(asyncio.to_thread(s.proc.wait), 40) for s in services]
        assert codes == [0, 0], "\n".join(s.log.read_text(errors="replace")[-2000:] for s in services)
        assert [pid for pid in workers if Path(f"/proc/{pid}").exists()] == [], "workers outlived their parent"
    finally:
        stack.stop_all()
