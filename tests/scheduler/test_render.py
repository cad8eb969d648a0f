"""Per-resident rendering: the context's names, a missing field, the sandbox."""
from __future__ import annotations

import pytest

from scheduler.audiences import Recipient
from scheduler.content import resident_context
from scheduler.render import Renderer, RenderError

ALICE = Recipient(1, "o-alice", "小李", "zh-Hans", "东城")


def test_template_fields_are_rendered_with_name_and_station():
    station = __import__("scheduler.content", fromlist=["stations"]).stations().stations()[0]
    context = resident_context(ALICE, station.id, {})
    message = Renderer("template", {"template_id": "T", "fields": {
        "first": "{{ name }}您好", "keyword1": "{{ station.name }}"}}).render(context)
    assert message.fields == {"first": "小李您好", "keyword1": station.name.get("zh-Hans")}


def test_shared_facts_appear_in_the_residents_language():
    shared = {"event": {"title": {"zh-Hans": "讲座", "zh-Hant": "講座", "en": "Talk"}}}
    english = Recipient(2, "o-en", "", "en", "")
    message = Renderer("text", {"text": "{{ name }}: {{ event.title }}"}).render(resident_context(english, None, shared))
    assert message.reply.text == "there: Talk"


def test_a_missing_field_is_an_error_naming_it():
    with pytest.raises(RenderError, match="event"):
        Renderer("template", {"template_id": "T", "fields": {"first": "{{ event.title }}"}}).render(
            resident_context(ALICE, None, {}))


def test_the_sandbox_refuses_reaching_into_python():
    with pytest.raises(RenderError):
        Renderer("text", {"text": "{{ name.__class__.__mro__[1].__subclasses__() }}"}).render(
            resident_context(ALICE, None, {}))


def test_content_problems_are_caught_before_sending():
    with pytest.raises(RenderError, match="template id"):
        Renderer("template", {"fields": {}})
    with pytest.raises(RenderError, match="syntax"):
        Renderer("text", {"text": "{{ name "})
