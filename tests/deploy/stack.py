"""The compose services built from our image, run as local processes. Each gets its command and
environment exactly as compose would (the image's ENV and CMD, then the service's block); only
what Docker itself provides is swapped for this machine's: the `postgres` and `redis` host names,
the listening address, and the WeChat API host, so no test can reach the real platform.
"""
from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy.engine import make_url

from bot.cli import build_parser
from tests.conftest import AES_KEY, APPID, SECRET
from tests.deploy import dockerfile
from tests.deploy.compose import load_compose, service_environment
from tests.faults.conftest import free_port

# A docker/.env as the README's deployment section has an operator write it.
ENV_FILE = {
    "XZ_WECHAT_TOKEN": "deployToken2024",
    "XZ_WECHAT_AES_KEY": AES_KEY,
    "XZ_WECHAT_APPID": APPID,
    "XZ_WECHAT_SECRET": SECRET,
    "XZ_SECRET_KEY": "0123456789abcdef" * 4,
    "XZ_PUBLIC_URL": "https://xinzhan.example.gov.cn",
    "POSTGRES_PASSWORD": "compose-password",
    "XZ_WORKERS": "2",  # the README suggests 4; 2 spares this shared machine
}
CLI = "xinzhan"  # the console script pyproject.toml installs in the image


def image_command(stage: dockerfile.Stage) -> list[str]:
    """What the image runs when a service gives no `command:` (ENTRYPOINT, then CMD)."""
    entrypoint, cmd = stage.last("ENTRYPOINT"), stage.last("CMD")
    return (entrypoint.argv() if entrypoint else []) + (cmd.argv() if cmd else [])


def service_command(service: dict, stage: dockerfile.Stage) -> list[str]:
    """The service's `command:` after the image's ENTRYPOINT, or else what the image runs."""
    command = service.get("command")
    if command is None:
        return image_command(stage)
    entrypoint = stage.last("ENTRYPOINT")
    return (entrypoint.argv() if entrypoint else []) + (command if isinstance(command, list) else shlex.split(command))


def local_database(compose_url: str, local_url: str) -> str:
    """This machine's database in place of the compose URL, once that names the postgres service
    with the driver the tests use (its account is checked against the postgres service apart)."""
    url, local = make_url(compose_url), make_url(local_url)
    assert url.host == "postgres", f"XZ_DATABASE_URL does not name the postgres service: {compose_url}"
    assert url.drivername == local.drivername, f"{url.drivername} is not the driver the tests use"
    return local.update_query_dict(url.query).render_as_string(hide_password=False)


def local_redis(compose_url: str, test_url: str) -> str:
    """The compose URL (host `redis`) pointed at this machine's server and the tests' db number."""
    url, test = urlsplit(compose_url), urlsplit(test_url)
    assert url.hostname == "redis", f"XZ_REDIS_URL does not name the redis service: {compose_url}"
    return urlunsplit((url.scheme, test.netloc, test.path, url.query, url.fragment))


@dataclass
class Service:
    name: str
    argv: list[str]  # as compose runs it: ["xinzhan", ...]
    env: dict[str, str]  # the container's XZ_* environment, addresses swapped
    port: int
    proc: subprocess.Popen | None = None
    log: Path | None = None

    def command_line(self) -> list[str]:
        assert self.argv[0] == CLI, f"{self.name} runs {self.argv[0]!r}, not {CLI!r}"
        build_parser().parse_args(self.argv[1:])  # exits (SystemExit) on a command the CLI lacks
        return [sys.executable, "-m", "bot.cli", *self.argv[1:]]

    def process_env(self) -> dict[str, str]:
        """Nothing from the shell running the tests but PATH and HOME, as in a container."""
        path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
        return {"PATH": path, "HOME": os.environ.get("HOME", "/tmp"), **self.env}


@dataclass
class Stack:
    database_url: str  # this stack's own PostgreSQL database
    redis_url: str
    workdir: Path  # the processes' working directory and logs, like the image's WORKDIR
    compose: dict = field(default_factory=lambda: load_compose(ENV_FILE))
    stage: dockerfile.Stage = field(default_factory=lambda: dockerfile.load()[-1])
    running: list[Service] = field(default_factory=list)

    def service(self, name: str) -> Service:
        spec = self.compose["services"][name]
        env = {**self.stage.env(), **service_environment(spec)}
        port = free_port()
        env.update(XZ_DATABASE_URL=local_database(env["XZ_DATABASE_URL"], self.database_url),
                   XZ_REDIS_URL=local_redis(env["XZ_REDIS_URL"], self.redis_url),
                   XZ_HOST="127.0.0.1", XZ_PORT=str(port),
                   XZ_WECHAT_API_BASE=f"http://127.0.0.1:{free_port()}")  # nothing listens there
        return Service(name, service_command(spec, self.stage), env, port)

    def run(self, name: str, timeout: float = 120) -> subprocess.CompletedProcess:
        """A one-shot service (migrate), to its end."""
        service = self.service(name)
        return subprocess.run(service.command_line(), env=service.process_env(), cwd=self.workdir,
                              capture_output=True, text=True, timeout=timeout)

    def start(self, name: str) -> Service:
        service = self.service(name)
        service.log = self.workdir / f"{name}-{service.port}.log"
        with service.log.open("wb") as log:
            service.proc = subprocess.Popen(service.command_line(), env=service.process_env(), cwd=self.workdir,
                                            stdout=log, stderr=subprocess.STDOUT)
        self.running.append(service)
        return service

    def stop_all(self) -> None:
        for service in self.running:
            if service.proc.poll() is None:
                service.proc.send_signal(signal.SIGTERM)
        for service in self.running:
            try:
                service.proc.wait(30)
            except subprocess.TimeoutExpired:
                service.proc.kill()
                service.proc.wait()
