"""The pieces under the safety path: the screener file, the answers it reads, the risk memory."""
from __future__ import annotations

import pytest

from flows.safety.memory import RiskMemory
from flows.safety.screener import load_screener, screener
from knowledge.content import ContentError


def test_the_screener_asks_method_intent_and_plan_only_after_thoughts():
    found = screener()
    ids = [q.id for q in found.questions]
    assert ids == ["wish_dead", "thoughts", "method", "intent", "plan", "behaviour"]
    thoughts = found.get("thoughts")
    assert found.next_after(thoughts, "yes").id == "method"
    assert found.next_after(thoughts, "no").id == "behaviour"
    assert found.next_after(found.get("plan"), "no").id == "behaviour"
    assert [q.level_if_yes for q in found.questions] == [2, 3, 3, 4, 4, 4]


@pytest.mark.parametrize("reply, meaning", [
    ("是", "yes"), ("是的，有过", "yes"), ("有時候", "yes"), ("1", "yes"), ("Yes.", "yes"),
    ("否", "no"), ("沒有", "no"), ("没怎么想过", "no"), ("2", "no"), ("not really", "no"),
    ("不知道", "unsure"), ("maybe", "unsure"), ("我其实也说不上来是不是", None),
])
def test_answers_are_read_in_every_language(reply, meaning):
    assert screener().read(reply) == meaning


def test_a_question_gated_on_an_unknown_one_names_the_file_and_line(tmp_path):
    bad = tmp_path / "cssrs.yaml"
    bad.write_text('answers:\n  "yes": [是]\n  "no": [否]\n  unsure: [不知道]\nquestions:\n'
                   "  - id: a\n    level_if_yes: 2\n    zh-Hans: 问\n    en: Q\n"
                   "  - id: b\n    ask_if: c\n    level_if_yes: 3\n    zh-Hans: 问\n    en: Q\n", encoding="utf-8")
    with pytest.raises(ContentError, match=r"cssrs.yaml:11: ask_if 'c'"):
        load_screener(bad)


async def test_the_risk_memory_keeps_the_highest_recent_level(services):
    memory = RiskMemory(services.redis)
    assert await memory.level("o-mem") == 0
    await memory.remember("o-mem", 2, 0)
    await memory.remember("o-mem", 1, 2)
    assert await memory.level("o-mem") == 2
    await memory.remember("o-mem", 4, 2)
    assert await memory.level("o-mem") == 4
    assert 0 < await services.redis.ttl("xz:risk:o-mem") <= 2 * 3600
