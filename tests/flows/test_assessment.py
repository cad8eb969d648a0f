"""Self-assessments through the chat: scoring on every band edge, safety items, invalid answers, offers."""
from __future__ import annotations

import shutil

import pytest
from sqlalchemy import select

from bot.app import create_app
from bot.appkeys import KNOWLEDGE
from flows.models import Assessment
from knowledge.library import load_knowledge
from knowledge.scales import Scale, default_scales
from tests.flows.conftest import Resident

pytestmark = pytest.mark.usefixtures("consented")  # their residents agreed to keep results

SCALES = default_scales()


def answers_for(scale: Scale, total: int, *, safety: int | None = None) -> list[int]:
    """Answers (as the resident types them) whose scored total is `total`, keyed items included.

    The safety item stays at its lowest score unless the total needs it (or `safety` says otherwise).
    """
    low, high = scale.answer_range
    order = [i for i in range(len(scale.items)) if not scale.safety_item or i != scale.safety_item.item - 1]
    if scale.safety_item:
        order.append(scale.safety_item.item - 1)
    scores = [low] * len(scale.items)
    if safety is not None:
        scores[scale.safety_item.item - 1] = safety
    left = total - sum(scores)
    for index in order:
        if safety is not None and index == scale.safety_item.item - 1:
            continue
        step = min(left, high - scores[index])
        scores[index] += step
        left -= step
    assert left == 0, f"cannot reach {total} on {scale.id}"
    return [low + high - s if item.reverse else s for item, s in zip(scale.items, scores)]


def band_edges() -> list[tuple[str, int, str]]:
    return [(scale.id, total, band.id) for scale in (SCALES.get(i) for i in SCALES.ids())
            for band in scale.bands for total in sorted({band.low, band.high})]


def number_of(scale_id: str) -> str:
    return str(SCALES.ids().index(scale_id) + 1)


async def take(person: Resident, scale_id: str, answers: list[int]) -> str:
    await person.answers("测评", number_of(scale_id))
    return await person.answers(*(str(a) for a in answers))


async def saved(services) -> list[Assessment]:
    async with services.db() as session:
        return list(await session.scalars(select(Assessment).order_by(Assessment.id)))


@pytest.mark.parametrize("scale_id,total,band_id", band_edges())
async def test_every_band_edge_scores_and_is_explained(resident, services, scale_id, total, band_id, say):
    scale = SCALES.get(scale_id)
    reply = await take(resident, scale_id, answers_for(scale, total))
    band = scale.band(band_id)
    low, high = scale.total_range
    assert say("assessment.result", name=scale.name.zh_hans, total=total, low=low, high=high,
               label=band.label.zh_hans, meaning=band.meaning.zh_hans, not_meaning=band.not_meaning.zh_hans,
               next_step=band.next_step.zh_hans) in reply
    [row] = await saved(services)
    assert (row.scale, row.total, row.band, row.source) == (scale_id, total, band_id, "chat")


@pytest.mark.parametrize("scale_id,answers,total,band", [
    ("PHQ-9", [1] * 9, 9, "mild"),
    ("PHQ-9", [2, 2, 2, 2, 2, 0, 0, 0, 0], 10, "moderate"),
    ("GAD-7", [3] * 5 + [0, 0], 15, "severe"),
    ("PSS-10", [0] * 10, 16, "moderate"),  # items 4, 5, 7, 8 reverse: "never" scores 4 there
    ("PSS-10", [4, 4, 4, 0, 0, 4, 0, 0, 4, 4], 40, "high"),
    ("EPDS", [0] * 10, 21, "probable depression"),  # first printed option of a starred item scores 3
    ("EPDS", [0, 0, 3, 0, 3, 3, 3, 3, 3, 3], 0, "unlikely"),
    ("WHO-5", [5] * 5, 25, "above cut-off"),
    ("K10", [1] * 10, 10, "low"),
])
async def test_published_scoring_rules_hold_in_the_chat(resident, services, scale_id, answers, total, band):
    await take(resident, scale_id, answers)
    [row] = await saved(services)
    assert (row.total, row.band, row.answers) == (total, band, answers)


async def test_who5_reports_the_percentage(resident, services, say):
    reply = await take(resident, "WHO-5", [3, 3, 3, 3, 3])
    assert say("assessment.percent", percent=60) in reply
    assert (await saved(services))[0].extras == {"percent": 60}


async def test_invalid_answer_repeats_the_question_with_its_options(resident, services, say):
    await resident.answers("测评", number_of("PHQ-9"), "1")
    for wrong in ("7", "maybe", "-"):
        reply = await resident.say(wrong)
        assert reply.startswith(say("invalid_option", options="0 / 1 / 2 / 3"))
        assert "第 2/9 题" in reply and "0 完全不会" in reply
    assert (await services.states.get(resident.openid)).data["answers"] == [1]


async def test_answer_by_option_words_is_accepted(resident, services):
    await resident.answers("测评", number_of("PHQ-9"))
    assert "第 2/9 题" in await resident.say("好几天")
    assert (await services.states.get(resident.openid)).data["answers"] == [1]


async def test_k10_options_are_numbered_one_to_five(resident, say):
    reply = await resident.answers("测评", number_of("K10"))
    assert "1 几乎没有" in reply and "5 所有时间" in reply
    assert (await resident.say("0")).startswith(say("invalid_option", options="1 / 2 / 3 / 4 / 5"))


async def test_invalid_scale_choice_repeats_the_list(resident, say):
    await resident.say("测评")
    reply = await resident.say("99")
    assert reply.startswith(say("invalid_option", options=" / ".join(str(n) for n in range(1, 9))))


async def test_scale_can_be_picked_by_its_id(resident):
    await resident.say("测评")
    assert "第 1/9 题" in await resident.say("phq9")


async def test_positive_quick_screen_offers_the_full_scale(resident, services, say, knowledge):
    reply = await take(resident, "PHQ-2", [2, 1])
    assert say("assessment.offer", name=knowledge.scales.get("PHQ-9").name.zh_hans) in reply
    assert "第 1/9 题" in await resident.say("1")
    await resident.answers(*["0"] * 9)
    assert [(a.scale, a.total) for a in await saved(services)] == [("PHQ-2", 3), ("PHQ-9", 0)]


async def test_full_scale_offer_can_be_declined(resident, services, say):
    await take(resident, "GAD-2", [3, 3])
    assert await resident.say("2") == say("assessment.offer_declined", menu=say("menu"))
    assert await services.states.get(resident.openid) is None


async def test_negative_quick_screen_offers_nothing(resident, services):
    reply = await take(resident, "GAD-2", [1, 1])
    assert "GAD-7" not in reply.split("结果")[-1] or "1 开始" not in reply
    assert await services.states.get(resident.openid) is None


@pytest.mark.parametrize("scale_id,item,flag", [("PHQ-9", 9, "item9_positive"), ("EPDS", 10, "item10_positive")])
async def test_safety_item_above_zero_is_acted_on_whatever_the_total(resident, services, scale_id, item, flag, say):
    from handoff.models import Case

    scale = SCALES.get(scale_id)
    answers = answers_for(scale, scale.total_range[0] + 1, safety=1)
    assert scale.score(answers).band == scale.bands[0].id  # the lowest band: the total alone says nothing
    reply = await take(resident, scale_id, answers)
    assert say("assessment.safety") in reply and "12356" in reply
    [row] = await saved(services)
    assert flag in row.flags
    async with services.db() as session:
        [case] = list(await session.scalars(select(Case)))
    assert case.level == 2 and case.reason.startswith(f"assessment:{scale_id}")
    assert f"item {item}" in case.evidence


async def test_safety_item_at_zero_opens_no_case(resident, services):
    from handoff.models import Case

    await take(resident, "PHQ-9", [3, 3, 3, 3, 3, 3, 3, 3, 0])
    async with services.db() as session:
        assert list(await session.scalars(select(Case))) == []
    assert "item9_positive" not in (await saved(services))[0].flags


async def test_english_resident_takes_the_scale_in_english(resident, say):
    await resident.say("English")
    reply = await resident.answers("test", number_of("PHQ-2"))
    assert "Question 1 of 2" in reply and "0 Not at all" in reply
    assert "Result:" in await resident.answers("0", "0")


async def test_a_new_scale_file_is_a_new_assessment_without_code(aiohttp_client, app_config, tmp_path):
    from knowledge.content import DATA_DIR

    root = tmp_path / "data"
    shutil.copytree(DATA_DIR, root)
    (root / "scales" / "zz-mood-check.yaml").write_text("""
id: MOOD-3
name: {zh-Hans: 三题心情小测, en: Three-question mood check}
about: {zh-Hans: 3道题。这是筛查，不是诊断。, en: "Three questions. A screen, not a diagnosis."}
instructions: {zh-Hans: 最近一周：, en: "Over the last week:"}
source: written for this test
options:
  - {value: 0, zh-Hans: 没有, en: "No"}
  - {value: 1, zh-Hans: 有, en: "Yes"}
items:
  - text: {zh-Hans: 睡得不好, en: Slept badly}
  - text: {zh-Hans: 心情低落, en: Felt low}
  - text: {zh-Hans: 不想见人, en: Avoided people}
safety_item: null
bands:
  - id: fine
    from: 0
    to: 1
    label: {zh-Hans: 还不错, en: Fine}
    meaning: {zh-Hans: 最近状态还可以。, en: You have been doing alright.}
    not_meaning: {zh-Hans: 不是诊断。, en: Not a diagnosis.}
    next_step: {zh-Hans: 继续保持。, en: Keep it up.}
  - id: low
    from: 2
    to: 3
    label: {zh-Hans: 有些辛苦, en: Struggling}
    meaning: {zh-Hans: 最近有些辛苦。, en: Things have been hard.}
    not_meaning: {zh-Hans: 不是诊断。, en: Not a diagnosis.}
    next_step: {zh-Hans: 看看心理科普。, en: Look at the tips.}
""", encoding="utf-8")
    app = create_app(app_config)
    app[KNOWLEDGE] = load_knowledge(root)
    client = await aiohttp_client(app)
    from bot.appkeys import SERVICES
    from tests.platform import Platform

    services = app[SERVICES]
    person = Resident(Platform(client, app_config), services, "o-new-scale")
    await person.follow()
    await person.consent()
    menu = await person.say("测评")
    assert "9 三题心情小测" in menu
    assert "第 1/3 题：睡得不好" in await person.say("9")
    reply = await person.answers("1", "1", "0")
    assert "三题心情小测：2 分" in reply and "有些辛苦" in reply
    [row] = await saved(services)
    assert (row.scale, row.total, row.band) == ("MOOD-3", 2, "low")
