"""Per-resident rendering: the context's names, a missing field, the sandbox."""
from __future__ import annotations

import time

import pytest

from knowledge.library import load_knowledge
from scheduler.audiences import Recipient
from scheduler.content import resident_context
from scheduler.render import Renderer, RenderError

ALICE = Recipient(1, "o-alice", "小李", "zh-Hans", "东城")
KNOWLEDGE = load_knowledge()


def test_template_fields_are_rendered_with_name_and_station():
    station = KNOWLEDGE.stations.stations()[0]
    context = resident_context(KNOWLEDGE, ALICE, station.id, {})
    message = Renderer("template", {"template_id": "SERVICE_NOTICE", "fields": {
        "thing1": "{{ name }}您好", "thing2": "{{ station.name }}"}}).render(context)
    assert message.fields == {"thing1": "小李您好", "thing2": station.name.get("zh-Hans")}


def test_shared_facts_appear_in_the_residents_language():
    shared = {"event": {"title": {"zh-Hans": "讲座", "zh-Hant": "講座", "en": "Talk"}}}
    english = Recipient(2, "o-en", "", "en", "")
    message = Renderer("text", {"text": "{{ name }}: {{ event.title }}"}).render(resident_context(KNOWLEDGE, english, None, shared))
    assert message.reply.text == "there: Talk"


def test_a_missing_field_is_an_error_naming_it():
    with pytest.raises(RenderError, match="event"):
        Renderer("template", {"template_id": "SERVICE_NOTICE", "fields": {"thing1": "{{ event.title }}"}}).render(
            resident_context(KNOWLEDGE, ALICE, None, {}))


def test_the_sandbox_refuses_reaching_into_python():
    with pytest.raises(RenderError):
        Renderer("text", {"text": "{{ name.__class__.__mro__[1].__subclasses__() }}"}).render(
            resident_context(KNOWLEDGE, ALICE, None, {}))


def test_content_problems_are_caught_before_sending():
    with pytest.raises(RenderError, match="template id"):
        Renderer("template", {"fields": {}})
    with pytest.raises(RenderError, match="syntax"):
        Renderer("text", {"text": "{{ name "})


@pytest.mark.parametrize("template", [
    "{{ (9**(9**7)) > 1 }}", "{{ 'a' * 999999999 }}", "{{ '%0999999999d' % 1 }}", "{{ '%0999999999d'|format(1) }}",
    "{{ 'x'|center(999999999) }}", "{{ 'x'|indent(999999999) }}", "{{ '{:999999999}'.format(1) }}",
    "{{ '{:{w}}'.format(1, w=99999) }}", "{{ 1/0 }}"])
def test_costly_or_failing_expressions_are_render_errors_at_once(template):
    started = time.monotonic()
    renderer = Renderer("text", {"text": template})
    with pytest.raises(RenderError):
        renderer.render(resident_context(KNOWLEDGE, ALICE, None, {}))
    assert time.monotonic() - started < 0.5


def test_ordinary_arithmetic_and_formatting_still_work():
    text = "{{ 2**10 }} {{ 'ab' * 2 }} {{ '%.1f'|format(2.25) }} {{ '%d人' % 5 }} {{ '{:>3}'.format(7) }} 热线 12356"
    assert Renderer("text", {"text": text}).render(resident_context(KNOWLEDGE, ALICE, None, {})).reply.text == \
        "1024 abab 2.2 5人   7 热线 12356"
