"""The template messages configured on the platform: each one's typed fields, from
`knowledge/data/wechat_templates.yaml`, checked at start like every content file.

The campaign form offers these templates and their fields by label; a campaign's content and each
resident's rendered values are checked against them (scheduler/field_types.py), so nothing is sent
that the platform would cut, refuse or not show (`first`, `remark`, emoji).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from knowledge.content import DATA_DIR, YamlMap, allow_only, load_mapping, require
from scheduler import field_types

PATH = DATA_DIR / "wechat_templates.yaml"
NOT_SHOWN = ("first", "remark")  # the platform stopped showing these in May 2023


@dataclass(frozen=True)
class TemplateField:
    key: str
    label: str
    type: str

    @property
    def max_chars(self) -> int:
        return field_types.TYPES[self.type].max_chars

    @property
    def accepts(self) -> str:
        return field_types.TYPES[self.type].accepts


@dataclass(frozen=True)
class Template:
    id: str
    title: str
    fields: tuple[TemplateField, ...]

    def field(self, key: str) -> TemplateField | None:
        return next((f for f in self.fields if f.key == key), None)


def _template(template_id: str, spec: YamlMap) -> Template:
    allow_only(spec, {"title", "fields"})
    fields = []
    for key, field in require(spec, "fields", dict).items():
        if not isinstance(field, YamlMap):
            raise spec.error(f"field {key!r} needs a label and a type", "fields")
        allow_only(field, {"label", "type"})
        if key in NOT_SHOWN:
            raise field.error(f"{key!r} is no longer shown by the platform; use typed keyword fields")
        kind = require(field, "type", str)
        if kind not in field_types.TYPES:
            raise field.error(f"unknown field type {kind!r}; known: {', '.join(field_types.TYPES)}", "type")
        fields.append(TemplateField(str(key), require(field, "label", str), kind))
    if not fields:
        raise spec.error("a template needs at least one field", "fields")
    return Template(str(template_id), require(spec, "title", str), tuple(fields))


def load_catalogue(path: Path = PATH) -> dict[str, Template]:
    data = load_mapping(path)
    templates = {}
    for template_id, spec in data.items():
        if not isinstance(spec, YamlMap):
            raise data.error("a template is a mapping with title and fields", template_id)
        templates[str(template_id)] = _template(template_id, spec)
    return templates


@functools.cache
def catalogue() -> dict[str, Template]:
    return load_catalogue()


def content_problems(template_id: str, fields: dict[str, str]) -> list[str]:
    """What the platform would refuse in a campaign's template fields, as an admin can act on it."""
    template = catalogue().get(template_id)
    if template is None:
        return [f"模板 {template_id!r} 未在平台配置 (knowledge/data/wechat_templates.yaml)；可选：{'、'.join(catalogue())}"]
    problems = []
    for key, source in fields.items():
        field = template.field(key)
        if field is None:
            shown = "平台已不再显示此字段" if key in NOT_SHOWN else "该模板没有此字段"
            problems.append(f"{key}：{shown}")
            continue
        literal = "{{" in source or "{%" in source
        why = field_types.literal_problem(field.type, source) if literal else field_types.problem(field.type, source)
        if why:
            problems.append(f"{field.label}（{key}）：{why}")
    return problems


def value_problems(template_id: str, values: dict[str, str]) -> list[str]:
    """What the platform would cut or refuse in one resident's rendered values."""
    template = catalogue().get(template_id)
    if template is None:
        return [f"模板 {template_id!r} 未在平台配置"]
    problems = []
    for key, value in values.items():
        field = template.field(key)
        why = field_types.problem(field.type, value) if field else "该模板没有此字段"
        if why:
            problems.append(f"{field.label if field else key}（{key}）：{why}")
    return problems
