"""Shared loading for content files: YAML that remembers line numbers, and small checks.

Every loader in `knowledge/` reads its YAML through `load_yaml` and validates it with the helpers
here, so a bad content file stops the service at start with `path:line: what is wrong` instead of
failing later in front of a resident.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import opencc
import yaml

LANGUAGES = ("zh-Hans", "zh-Hant", "en")
AUDIENCES = frozenset({"students", "elderly", "new_parents", "community_correction", "general"})
DATA_DIR = Path(__file__).parent / "data"


class DataFileError(Exception):
    """A shipped data file (content, lexicon, model) is missing or wrong; the message names it.
    The service stops at start with that one line rather than run without it."""


class ContentError(DataFileError):
    """A content file is wrong; the message is `path:line: problem` so an editor can jump there."""

    def __init__(self, path: str | Path, line: int, problem: str) -> None:
        super().__init__(f"{path}:{line}: {problem}")
        self.path = str(path)
        self.line = line
        self.problem = problem


class YamlMap(dict):
    """A YAML mapping that knows its file, its line and the line of each key (all 1-based)."""

    path: str
    line: int
    key_lines: dict[Any, int]

    def error(self, problem: str, key: Any = None) -> ContentError:
        """An error pointing at `key`'s line when given, else at the mapping itself."""
        return ContentError(self.path, self.key_lines.get(key, self.line), problem)


class YamlList(list):
    """A YAML list that knows its file and line, so an error about the list can point at it."""

    path: str
    line: int


_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when built with it: 5x faster


def _loader_for(path: str) -> type[yaml.SafeLoader]:
    class LineLoader(_BaseLoader):
        pass

    def construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> YamlMap:
        mapping = YamlMap()
        mapping.path, mapping.line, mapping.key_lines = path, node.start_mark.line + 1, {}
        loader.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if key in mapping:
                raise ContentError(path, key_node.start_mark.line + 1, f"duplicate key {key!r}")
            mapping[key] = loader.construct_object(value_node, deep=True)
            mapping.key_lines[key] = key_node.start_mark.line + 1
        return mapping

    def construct_sequence(loader: yaml.SafeLoader, node: yaml.SequenceNode) -> YamlList:
        sequence = YamlList(loader.construct_object(child, deep=True) for child in node.value)
        sequence.path, sequence.line = path, node.start_mark.line + 1
        return sequence

    LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, construct_sequence)
    return LineLoader


def load_yaml(path: Path) -> Any:
    """Parse one YAML file; syntax errors become ContentError with the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
        return yaml.load(text, Loader=_loader_for(str(path)))  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise ContentError(path, line, f"not valid YAML: {exc.problem or exc}") from None
    except UnicodeDecodeError as exc:
        raise ContentError(path, 1, f"not UTF-8 text: {exc.reason}") from None


def load_mapping(path: Path) -> YamlMap:
    """Load a file whose top level must be a mapping."""
    data = load_yaml(path)
    if not isinstance(data, YamlMap):
        raise ContentError(path, 1, "the file must be a YAML mapping (key: value) at the top level")
    return data


def _type_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {str: "text", int: "a whole number", float: "a number", bool: "true/false",
             YamlMap: "a mapping", YamlList: "a list"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _has_type(value: Any, kind: type | tuple[type, ...]) -> bool:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds:
        return False  # YAML `yes`/`no` must not pass as a number
    if isinstance(value, int) and float in kinds:
        return True
    return isinstance(value, kinds)


def require(mapping: YamlMap, key: str, kind: type | tuple[type, ...]) -> Any:
    """The value under `key`, which must exist and have type `kind`."""
    if key not in mapping:
        raise mapping.error(f"missing required key {key!r}")
    return check_type(mapping, key, kind)


def optional(mapping: YamlMap, key: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
    """The value under `key` if present and not null (checked against `kind`), else `default`."""
    if mapping.get(key) is None:
        return default
    return check_type(mapping, key, kind)


def check_type(mapping: YamlMap, key: str, kind: type | tuple[type, ...]) -> Any:
    value = mapping[key]
    if not _has_type(value, kind):
        raise mapping.error(f"{key!r} must be {_type_name(kind)}, not {value!r}", key)
    if isinstance(value, str) and not value.strip():
        raise mapping.error(f"{key!r} must not be empty", key)
    return value


def allow_only(mapping: YamlMap, allowed: set[str] | frozenset[str]) -> None:
    """Reject unknown keys, so a typo (`titel:`) fails loudly instead of being ignored."""
    for key in mapping:
        if key not in allowed:
            expected = ", ".join(sorted(allowed))
            raise mapping.error(f"unknown key {key!r}; expected one of {expected}", key)


@functools.cache
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


@functools.lru_cache(maxsize=4096)
def to_traditional(text: str) -> str:
    return _converter("s2t").convert(text)


def to_simplified(text: str) -> str:
    return _converter("t2s").convert(text)


@dataclass(frozen=True)
class LocalText:
    """One sentence in every resident language; zh-Hant is derived with OpenCC unless written."""

    zh_hans: str
    en: str
    zh_hant: str | None = None

    def get(self, lang: str) -> str:
        if lang == "zh-Hans":
            return self.zh_hans
        if lang == "en":
            return self.en
        if lang == "zh-Hant":
            return self.zh_hant if self.zh_hant is not None else to_traditional(self.zh_hans)
        raise ValueError(f"unknown language {lang!r}; expected one of {', '.join(LANGUAGES)}")


def local_text(mapping: YamlMap, key: str) -> LocalText:
    """Read `key: {zh-Hans: ..., en: ..., zh-Hant: ...optional}` into a LocalText."""
    value = require(mapping, key, YamlMap)
    return local_text_of(value)


def local_text_of(value: YamlMap, extra_keys: frozenset[str] = frozenset()) -> LocalText:
    """Read a mapping that is itself `{zh-Hans: ..., en: ..., zh-Hant: ...optional}`.

    `extra_keys` lets a record carry its own text inline, like an option `{value: 0, zh-Hans: ...}`.
    """
    allow_only(value, frozenset(LANGUAGES) | extra_keys)
    return LocalText(
        zh_hans=require(value, "zh-Hans", str).strip(),
        en=require(value, "en", str).strip(),
        zh_hant=(optional(value, "zh-Hant", str) or "").strip() or None,
    )


def mappings_of(mapping: YamlMap, key: str, *, required: bool = True) -> list[YamlMap]:
    """A list whose entries are all mappings; when required it must exist and not be empty."""
    if not required and mapping.get(key) is None:
        return []
    entries = require(mapping, key, YamlList)
    if required and not entries:
        raise mapping.error(f"{key!r} must not be empty", key)
    for entry in entries:
        if not isinstance(entry, YamlMap):
            raise ContentError(entries.path, entries.line, f"each entry of {key!r} must be a mapping")
    return entries
