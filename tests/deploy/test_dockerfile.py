"""docker/Dockerfile without a Docker engine: the image runs a command our CLI has, as a user other
than root; it installs the package as pyproject.toml defines it, from a build context that holds
every file the package needs and no secrets; its HEALTHCHECK asks a route the app serves.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bot.app import create_app
from bot.cli import build_parser
from tests.conftest import make_config
from tests.deploy import dockerfile
from tests.deploy.compose import ROOT, load_compose
from tests.deploy.stack import ENV_FILE, image_command

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PACKAGES = [p.rstrip("*") for p in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]]
RUNTIME_FOLDERS = {"migrations", "templates", "static", "data"}  # package data the service reads


@pytest.fixture(scope="module")
def stages() -> list[dockerfile.Stage]:
    return dockerfile.load()


def _copied(stage: dockerfile.Stage) -> list[str]:
    """The build-context paths a stage's COPY instructions take (not those --from another stage)."""
    sources = []
    for copy in stage.all("COPY"):
        words = [w for w in copy.argv() if not w.startswith("--")]
        if not any(w.startswith("--from") for w in copy.argv()):
            sources += words[:-1]
    return sources


def _tracked_context_files() -> list[str]:
    """What a clean checkout sends as the build context (compose: context `..`), less the ignore file."""
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    patterns = dockerfile.ignore_patterns()
    return [path for path in listed.splitlines() if not dockerfile.ignored(path, patterns)]


def test_compose_builds_this_dockerfile_from_the_repository_root():
    build = load_compose(ENV_FILE)["services"]["app"]["build"]
    context = (ROOT / "docker" / build["context"]).resolve()
    assert context == ROOT and (context / build["dockerfile"]).resolve() == dockerfile.DOCKERFILE


def test_image_runs_a_command_the_cli_has(stages):
    argv = image_command(stages[-1])
    assert argv[0] in PYPROJECT["project"]["scripts"], f"{argv[0]!r} is not a console script pyproject.toml installs"
    assert build_parser().parse_args(argv[1:]).command == "serve"


def test_image_runs_as_a_user_it_creates_not_root(stages):
    final = stages[-1]
    user = final.last("USER")
    assert user is not None, "no USER: the service would run as root"
    name = user.args.split(":")[0]
    assert name not in ("root", "0")
    created = [run.args for run in final.all("RUN") if "useradd" in run.args or "adduser" in run.args]
    assert any(name in args.split() for args in created), f"USER {name} is never created in the final stage"
    assert final.instructions.index(user) < final.instructions.index(final.last("CMD"))


def test_build_installs_the_package_pyproject_defines(stages):
    build, final = stages[0], stages[-1]
    assert {"pyproject.toml", *PACKAGES} <= set(_copied(build)), "a package pyproject.toml names is not copied"
    wheel = [run for run in build.all("RUN") if run.argv()[:2] == ["pip", "wheel"]]
    assert wheel and wheel[-1].argv()[-1] == ".", "the build stage does not build the project's wheel"
    last_copy = max(build.instructions.index(copy) for copy in build.all("COPY"))
    assert build.instructions.index(wheel[-1]) > last_copy, "the project's wheel is built before its code is copied"
    installs = [run.args for run in final.all("RUN") if run.args.startswith("pip install")]
    assert installs and ".whl" in installs[0]
    assert _copied(final) == [], "the final stage takes files from the context instead of the built wheels"


def test_the_package_built_from_the_context_holds_every_runtime_file(stages, tmp_path):
    """setuptools' build_py, which decides what a wheel holds, run on exactly what the Dockerfile
    copies: the service reads migrations, templates and content from the installed package."""
    context, copied = _tracked_context_files(), _copied(stages[0])
    for path in [p for p in context if any(p == c or p.startswith(c.rstrip("/") + "/") for c in copied)]:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / path, tmp_path / path)
    built = subprocess.run([sys.executable, "-c", "import setuptools; setuptools.setup()", "-q", "build_py",
                            "-d", "built"], cwd=tmp_path, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    needed = {p for p in context if p.split("/")[0] in PACKAGES
              and (p.endswith(".py") or RUNTIME_FOLDERS & set(Path(p).parts))}
    missing = sorted(p for p in needed if not (tmp_path / "built" / p).exists())
    assert len(needed) > 100 and missing == []


def test_the_build_context_leaves_out_secrets_and_local_state():
    patterns = dockerfile.ignore_patterns()
    for path in ("docker/.env", "docker/certs/privkey.pem", ".venv/bin/python", ".git/config",
                 "bot/__pycache__/app.cpython-311.pyc", "var/xinzhan.db"):
        assert dockerfile.ignored(path, patterns), f"{path} would be sent to the builder"
    assert not dockerfile.ignored("bot/app.py", patterns)


def test_healthcheck_asks_a_route_the_app_serves_on_the_image_port(stages):
    final = stages[-1]
    command = dockerfile.healthcheck_command(final)
    assert command, "no HEALTHCHECK"
    url = urlsplit(next(word for word in command.replace("'", " ").split() if word.startswith("http://")))
    assert (url.hostname, str(url.port)) == ("127.0.0.1", final.env()["XZ_PORT"])
    app = create_app(make_config("sqlite+aiosqlite:///:memory:", "http://127.0.0.1:9"))
    served = {route.resource.canonical for route in app.router.routes() if route.method == "GET"}
    assert url.path in served


def test_both_stages_build_on_the_official_python_image_unless_told_otherwise(stages):
    """PYTHON_IMAGE (a registry mirror's copy, CI's Debian stand-in) swaps the base of every stage;
    without it the image is built on the official one."""
    assert [stage.base for stage in stages] == ["python:3.11-slim", "python:3.11-slim"]
    swapped = dockerfile.parse(dockerfile.DOCKERFILE.read_text(encoding="utf-8"),
                               {"PYTHON_IMAGE": "mirror.example/library/python:3.11-slim"})
    assert {stage.base for stage in swapped} == {"mirror.example/library/python:3.11-slim"}


def test_the_final_stage_installs_the_built_wheels_without_an_index(stages):
    """Every dependency is a wheel the build stage made: the final stage needs no network."""
    installs = [run.argv() for run in stages[-1].all("RUN") if run.argv()[:2] == ["pip", "install"]]
    assert installs and "--no-index" in installs[0]
