"""A small reader for docker/Dockerfile: stages and their instructions, with continuation lines
joined and comments dropped as the builder does, so tests can ask what the image runs and how.
"""
from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from tests.deploy.compose import ROOT

DOCKERFILE = ROOT / "docker" / "Dockerfile"
IGNORE_FILE = ROOT / "docker" / "Dockerfile.dockerignore"  # BuildKit reads it instead of the context's .dockerignore


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, COPY, ...
    args: str

    def argv(self) -> list[str]:
        """The arguments as a list: JSON (exec form) if written so, else split like a shell would."""
        if self.args.startswith("["):
            return json.loads(self.args)
        return shlex.split(self.args)


@dataclass
class Stage:
    base: str
    name: str = ""
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def last(self, keyword: str) -> Instruction | None:
        found = self.all(keyword)
        return found[-1] if found else None

    def env(self) -> dict[str, str]:
        """ENV values (the KEY=value form; the old `ENV KEY value` form too)."""
        values: dict[str, str] = {}
        for instruction in self.all("ENV"):
            words = instruction.argv()
            if "=" not in words[0]:
                values[words[0]] = instruction.args.split(None, 1)[1]
                continue
            values.update(word.split("=", 1) for word in words)
        return values


def _logical_lines(text: str) -> list[str]:
    lines, pending = [], ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue  # a comment inside a continued instruction is dropped too
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        lines.append(pending + stripped)
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    return lines


def global_args(text: str) -> dict[str, str]:
    """The ARGs before the first FROM, with their defaults: what FROM lines may name as ${NAME}."""
    defaults: dict[str, str] = {}
    for line in _logical_lines(text):
        keyword, _, args = line.partition(" ")
        if keyword.upper() != "ARG":
            break
        name, _, default = args.strip().partition("=")
        defaults[name] = default
    return defaults


def parse(text: str, build_args: dict[str, str] | None = None) -> list[Stage]:
    """The stages; a FROM naming a global ARG gets its default, or the value in `build_args`
    (as `docker build --build-arg` gives it)."""
    values = {**global_args(text), **(build_args or {})}
    stages: list[Stage] = []
    for line in _logical_lines(text):
        keyword, _, args = line.partition(" ")
        keyword, args = keyword.upper(), args.strip()
        if keyword == "FROM":
            words = args.split()
            base = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: values[m.group(1) or m.group(2)], words[0])
            stages.append(Stage(base=base, name=words[2] if len(words) > 2 and words[1].upper() == "AS" else ""))
            continue
        if not stages and keyword == "ARG":
            continue  # a global ARG (global_args)
        assert stages, f"{keyword} before the first FROM"
        stages[-1].instructions.append(Instruction(keyword, args))
    return stages


def load() -> list[Stage]:
    return parse(DOCKERFILE.read_text(encoding="utf-8"))


def healthcheck_command(stage: Stage) -> str | None:
    """The shell command of `HEALTHCHECK [--options] CMD ...`; None without one, or with NONE."""
    instruction = stage.last("HEALTHCHECK")
    if instruction is None:
        return None
    match = re.fullmatch(r"(?:--\S+\s+)*(CMD|NONE)\b\s*(.*)", instruction.args, re.S | re.I)
    assert match, f"HEALTHCHECK neither CMD nor NONE: {instruction.args}"
    kind, command = match.groups()
    if kind.upper() == "NONE":
        return None
    return shlex.join(json.loads(command)) if command.startswith("[") else command


def ignore_patterns() -> list[str]:
    if not IGNORE_FILE.exists():
        return []
    lines = [line.strip() for line in IGNORE_FILE.read_text(encoding="utf-8").splitlines()]
    patterns = [line for line in lines if line and not line.startswith("#")]
    assert not any(p.startswith("!") for p in patterns), "exceptions (!) are not modelled by these tests"
    return patterns


def ignored(path: str, patterns: list[str]) -> bool:
    """Whether the build context leaves `path` out: a pattern matching the path or a folder above it
    (`**` stands for any number of folders, as in .dockerignore)."""
    def match(pattern: list[str], parts: list[str]) -> bool:
        if not pattern:
            return True  # the pattern matched a folder above the path
        if pattern[0] == "**":
            return any(match(pattern[1:], parts[i:]) for i in range(len(parts) + 1))
        return bool(parts) and fnmatchcase(parts[0], pattern[0]) and match(pattern[1:], parts[1:])

    parts = path.split("/")
    return any(match(p.strip("/").split("/"), parts) for p in patterns)
