"""Consent before health data (PIPL): the notice, the age band, the separate consent, declining,
withdrawing, under-14s, a new notice version, and the crisis path that never waits for any of it."""
from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from bot.app import create_app
from bot.appkeys import SERVICES
from bot.consent import ConsentEvent, notice_version
from bot.appkeys import KNOWLEDGE
from flows.models import Assessment
from handoff.models import Case
from handoff.review.models import DataRequest
from knowledge.content import LocalText
from knowledge.texts import Texts
from tests.flows.conftest import Resident
from tests.flows.test_assessment import number_of
from tests.platform import Platform

ADULT, UNDER_14 = "3", "1"
AGREE, DECLINE = "1", "2"
LEVEL_4 = "我已经写好遗书，今晚就从楼顶跳下去"


def first_line(text: str) -> str:
    return text.split("\n", 1)[0].split("{", 1)[0]


async def phq2(person: Resident) -> str:
    """A PHQ-2 from the scale list (the consent questions already answered); the reply to the last answer."""
    await person.say(number_of("PHQ-2"))
    return await person.answers("1", "1")


async def kept(services) -> list[Assessment]:
    async with services.db() as session:
        return list(await session.scalars(select(Assessment)))


async def consent_steps(services) -> list[tuple[str, str, str]]:
    async with services.db() as session:
        return [(e.kind, e.detail, e.notice_version) for e in await session.scalars(
            select(ConsentEvent).order_by(ConsentEvent.id))]


@pytest.fixture
def version(knowledge) -> str:
    return notice_version(knowledge.texts)


async def test_the_first_assessment_asks_the_age_band_then_consent_with_the_notice(resident, say, services):
    assert await resident.say("测评") == say("consent.ask_age")
    assert await resident.say(ADULT) == say("consent.ask", notice=say("privacy.pointer"))
    assert await kept(services) == []


async def test_consent_is_stored_with_its_time_and_notice_version_and_results_are_kept(resident, services, say,
                                                                                      version):
    await resident.answers("测评", ADULT)
    reply = await resident.say(AGREE)
    assert reply.startswith(say("consent.granted", version=version)) and "PHQ-2" in reply
    assert say("assessment.saved") in await phq2(resident)
    assert [(a.scale, a.total) for a in await kept(services)] == [("PHQ-2", 2)]
    async with services.db() as session:
        granted = await session.scalar(select(ConsentEvent).where(ConsentEvent.kind == "granted"))
    assert granted.notice_version == version and granted.created_at is not None


async def test_declining_keeps_no_result_and_says_it_is_shown_once(resident, services, say):
    await resident.answers("测评", ADULT)
    reply = await resident.say(DECLINE)
    assert reply.startswith(say("consent.declined"))
    result = await phq2(resident)
    assert "PHQ-2" in result and say("consent.result_not_kept") in result and say("assessment.saved") not in result
    assert await kept(services) == []
    assert await resident.say("档案") == say("record.empty")


async def test_a_decline_is_asked_once_and_each_later_assessment_says_nothing_is_kept(resident, services, say):
    await resident.answers("测评", ADULT, DECLINE)
    reply = await resident.say("测评")
    assert reply.startswith(say("consent.not_kept_note")) and "PHQ-2" in reply
    await phq2(resident)
    assert await kept(services) == []


async def test_declining_keeps_every_non_health_feature(resident, services, say):
    await resident.answers("测评", ADULT, DECLINE, "菜单")
    assert (await resident.say("科普")).startswith(first_line(say("tips.topics", topics="")))
    assert (await resident.say("站点")).startswith(first_line(say("stations.ask", counties="")))
    assert await resident.say("活动") == say("events.none", menu=say("menu"))
    assert "12356" in await resident.say("咨询师")
    async with services.db() as session:
        assert await session.scalar(select(Case.reason)) == "resident_request"


async def test_agreeing_later_keeps_results_from_then_on(resident, services, say, version):
    await resident.answers("测评", ADULT, DECLINE, "菜单")
    assert await resident.say("同意保存") == say("consent.ask", notice=say("privacy.pointer"))  # age not asked again
    assert (await resident.say(AGREE)).startswith(say("consent.granted", version=version))
    await phq2(resident)
    assert len(await kept(services)) == 1


@pytest.mark.parametrize("how", ["word", "menu"])
async def test_withdrawal_stops_storage_and_opens_a_deletion_request(resident, services, say, how):
    await resident.consent()
    await resident.say("测评")
    await phq2(resident)
    assert len(await kept(services)) == 1
    reply = await (resident.say("撤回同意") if how == "word" else resident.click("MENU_WITHDRAW"))
    assert reply == say("consent.withdrawn")
    async with services.db() as session:
        [request] = list(await session.scalars(select(DataRequest)))
    assert (request.kind, request.status, request.channel) == ("delete", "pending", "chat")
    assert (await resident.say("测评")).startswith(say("consent.not_kept_note"))
    assert say("consent.result_not_kept") in await phq2(resident)
    assert len(await kept(services)) == 1


async def test_a_withdrawal_mid_scale_keeps_that_result_out(resident, services, say):
    await resident.consent()
    await resident.answers("测评", number_of("PHQ-2"), "1")
    await resident.say("撤回同意")
    assert say("consent.result_not_kept") in await resident.say("1")
    assert await kept(services) == []


async def test_under_14_hears_a_guardian_must_agree_and_is_offered_a_counsellor_not_storage(resident, services, say):
    assert await resident.answers("测评", UNDER_14) == say("consent.minor")
    assert "12356" in say("consent.minor")
    reply = await resident.say("2")  # the self-check, not kept
    assert reply.startswith(say("consent.minor_note")) and "PHQ-2" in reply
    assert say("consent.result_not_kept") in await phq2(resident)
    assert await resident.say("同意保存") == say("consent.minor")  # no consent of their own
    assert await resident.say("测评") == say("consent.minor")  # the age band was asked once
    assert "12356" in await resident.say("1")  # a counsellor
    async with services.db() as session:
        assert await session.scalar(select(Case.reason)) == "resident_request"
    assert await kept(services) == []
    assert [kind for kind, _, _ in await consent_steps(services)] == ["age_band"]


@pytest.mark.parametrize("before", [[], ["测评", ADULT, DECLINE, "菜单"], ["测评", ADULT], ["测评"]],
                         ids=["never-asked", "declined", "consent-question-open", "age-question-open"])
async def test_the_crisis_path_does_not_wait_for_consent(make_resident, services, before):
    person = await make_resident("o-crisis-consent")
    await person.answers(*before)
    reply = await person.say(LEVEL_4)
    assert "我们在这里" in reply and "12356" in reply and "110" in reply
    async with services.db() as session:
        [case] = list(await session.scalars(select(Case)))
    assert case.level == 4 and case.reason == "crisis"


async def test_a_safety_item_without_consent_still_reaches_a_person(resident, services, say):
    await resident.answers("测评", ADULT, DECLINE, number_of("PHQ-9"), *["0"] * 8)
    reply = await resident.say("1")  # item 9 above zero
    assert say("assessment.safety") in reply and say("consent.result_not_kept") in reply
    async with services.db() as session:
        [case] = list(await session.scalars(select(Case)))
    assert case.reason == "assessment:PHQ-9:item9_positive"
    assert await kept(services) == []


async def test_a_new_notice_version_asks_again(resident, services, say, aiohttp_client, app_config, knowledge):
    await resident.consent()
    texts = {key: knowledge.texts.local(key) for key in knowledge.texts.keys()}
    texts["privacy.version"] = LocalText(zh_hans="2099-01", en="2099-01", zh_hant="2099-01")
    app = create_app(app_config)
    app[KNOWLEDGE] = dataclasses.replace(knowledge, texts=Texts(texts))
    client = await aiohttp_client(app)
    person = Resident(Platform(client, app_config), app[SERVICES], resident.openid)
    assert await person.say("测评") == say("consent.ask", notice=say("privacy.pointer"))  # the age band is kept
    await person.say(AGREE)
    steps = await consent_steps(services)
    assert [(kind, v) for kind, _, v in steps if kind == "granted"] == [("granted", notice_version(knowledge.texts)),
                                                                       ("granted", "2099-01")]


@pytest.mark.parametrize("how", ["word", "menu"])
async def test_the_notice_is_reachable_from_a_word_and_the_menu(resident, say, how, version):
    reply = await (resident.say("隐私") if how == "word" else resident.click("MENU_PRIVACY"))
    assert reply.startswith(say("privacy.notice", version=version, case_days=1095, bot_days=365))
    assert reply.endswith(say("consent.state.none"))
    assert "撤回同意" in reply and "12356" not in reply


async def test_the_welcome_links_the_notice_page_when_the_public_url_is_known(aiohttp_client, clean_database,
                                                                             mock_wechat):
    from tests.conftest import make_config

    config = make_config(clean_database, str(mock_wechat.make_url("")).rstrip("/"),
                         XZ_PUBLIC_URL="https://xinzhan.example.gov.cn")
    client = await aiohttp_client(create_app(config))
    answer = await Platform(client, config).event("o-welcome-link", "subscribe")
    assert "https://xinzhan.example.gov.cn/privacy" in answer.text
    page = await client.get("/privacy?lang=en")
    assert page.status == 200 and "Xinzhan privacy notice" in await page.text()
    zh = await (await client.get("/privacy")).text()
    assert "个人信息保护说明" in zh and "单独同意" in zh
