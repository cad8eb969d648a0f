"""docker/compose.yaml read the way `docker compose` reads it: YAML anchors and merge keys, then
`${VAR}` interpolation from the env file's variables. No Docker engine runs here, so this is how
the tests see each service's real command and environment.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator, Mapping

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker" / "compose.yaml"

# $$ | ${NAME} | ${NAME:-default} | ${NAME:?message} | any other use of $ (refused, not guessed at)
_REFERENCE = re.compile(r"\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:-|:\?)([^}]*))?\}|(.))")


class MissingVariable(Exception):
    """A `${VAR:?message}` whose variable is unset or empty: compose refuses to start."""


def interpolate(text: str, env: Mapping[str, str]) -> str:
    def substitute(match: re.Match) -> str:
        dollar, name, operator, argument, other = match.groups()
        if dollar:
            return "$"
        if name is None:
            raise ValueError(f"unsupported interpolation {match.group(0)!r} in {text!r}")
        value = env.get(name, "")
        if operator == ":?" and not value:
            raise MissingVariable(f"required variable {name} is missing a value: {argument}")
        if operator == ":-" and not value:
            return argument
        return value

    return _REFERENCE.sub(substitute, text)


def _interpolated(node: Any, env: Mapping[str, str]) -> Any:
    """A copy with every string value interpolated (aliases share objects, so nothing is changed in place)."""
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, dict):
        return {key: _interpolated(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [_interpolated(item, env) for item in node]
    return node


def raw_compose() -> dict:
    """The file after YAML (anchors and merge keys resolved), before interpolation."""
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


def load_compose(env: Mapping[str, str]) -> dict:
    return _interpolated(raw_compose(), env)


def image_services(compose: dict) -> list[str]:
    """The services built from our Dockerfile (the rest run stock images)."""
    return [name for name, service in compose["services"].items() if "build" in service]


def service_environment(service: dict) -> dict[str, str]:
    """The `environment:` block as strings, in either of compose's two spellings."""
    block = service.get("environment") or {}
    if isinstance(block, list):
        block = dict(item.split("=", 1) if "=" in item else (item, None) for item in block)
    unset = [name for name, value in block.items() if value is None]
    assert not unset, f"{unset} would be taken from the shell running compose; give them a value"
    return {name: str(value).lower() if isinstance(value, bool) else str(value) for name, value in block.items()}


def _nodes(node: Any) -> Iterator[Any]:
    yield node
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
    for child in children:
        yield from _nodes(child)


def _references(compose: dict) -> Iterator[re.Match]:
    for node in _nodes(compose):
        if isinstance(node, str):
            yield from (m for m in _REFERENCE.finditer(node) if m.group(2))


def variables_named(compose: dict) -> set[str]:
    """Every variable the file names: in a ${VAR...} reference or as a key of an environment block."""
    names = {m.group(2) for m in _references(compose)}
    for node in _nodes(compose):
        if isinstance(node, dict) and isinstance(node.get("environment"), dict):
            names |= set(node["environment"])
    return names


def required_variables(compose: dict) -> set[str]:
    """The variables compose refuses to start without (`${VAR:?...}`)."""
    return {m.group(2) for m in _references(compose) if m.group(3) == ":?"}
