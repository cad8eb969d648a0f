"""Named behaviours of the rule engine, one rule each (the learned model beside it: test_model.py)."""
import dataclasses

import pytest

from knowledge.crisis import Risk, RiskLevel
from knowledge.crisis.rules import RuleEngine


@pytest.fixture(scope="module")
def detector() -> RuleEngine:
    return RuleEngine.load()


def test_risk_is_frozen_and_serialises_to_the_documented_keys(detector):
    risk = detector.scan("我攒了好多安眠药")
    with pytest.raises(dataclasses.FrozenInstanceError):
        risk.level = RiskLevel.NONE
    assert risk.to_json() == {"crisis": True, "level": 4, "matched": list(risk.matched), "reason": risk.reason,
                              "ask": False}


def test_empty_message_reads_none(detector):
    assert detector.scan("") == Risk()


def test_evidence_and_reason_name_what_fired(detector):
    risk = detector.scan("我攒了好多安眠药")
    assert risk.level == RiskLevel.IMMINENT
    assert risk.matched == ("攒", "安眠药")
    assert "means_gathered" in risk.reason and "安眠药" in risk.reason


def test_not_wanting_to_live_is_risk_despite_the_negation(detector):
    assert detector.scan("我不想活了").level == RiskLevel.PASSIVE


def test_denying_the_wish_is_not_risk(detector):
    assert detector.scan("我不想死，只是太累了").level < RiskLevel.PASSIVE


def test_homophone_of_suicide_fires_but_the_teapot_does_not(detector):
    assert detector.scan("我想紫砂").level == RiskLevel.ACTIVE
    assert detector.scan("我买了一把紫砂壶").level == RiskLevel.NONE


@pytest.mark.parametrize("text", ["累死了", "饿死了", "笑死我了", "气死我了", "死贵", "秒杀", "杀毒", "割草",
                                  "this is killing me", "I'm dead 😂", "she is killing it"])
def test_hyperbole_does_not_fire(detector, text):
    assert detector.scan(text).level == RiskLevel.NONE


@pytest.mark.parametrize("text", ["我不会想不开的，放心", "放心，我不会做傻事的", "I would never hurt myself"])
def test_clear_reassurance_does_not_fire(detector, text):
    assert detector.scan(text).level == RiskLevel.NONE


def test_method_without_a_crisis_word_fires(detector):
    assert detector.scan("我现在站在天台上").level == RiskLevel.IMMINENT
    assert detector.scan("我买了炭").level == RiskLevel.IMMINENT


def test_charcoal_for_a_barbecue_does_not_fire(detector):
    assert detector.scan("买了炭准备周末烧烤").level == RiskLevel.NONE


def test_news_and_professional_questions_are_capped(detector):
    assert detector.scan("新闻说有个大学生自杀了").level == RiskLevel.NONE
    assert detector.scan("学生有自杀倾向怎么识别").level == RiskLevel.NONE


def test_a_friends_words_without_danger_are_concern(detector):
    assert detector.scan("我朋友说她想死").level == RiskLevel.CONCERN


def test_a_friend_in_danger_now_is_imminent(detector):
    assert detector.scan("我朋友说她今晚要跳楼").level == RiskLevel.IMMINENT


def test_past_attempt_told_as_history_is_concern(detector):
    assert detector.scan("我以前自杀过，现在好多了").level == RiskLevel.CONCERN


def test_a_joke_still_gets_asked_about(detector):
    assert detector.scan("我想死哈哈哈").level == RiskLevel.PASSIVE


def test_sentence_buried_in_a_long_message_is_found(detector):
    text = "今天上班又被领导骂了，中午外卖也不好吃。回家路上想了很久，我把安眠药都攒起来了。晚上看了会儿电视。"
    risk = detector.scan(text)
    assert risk.level == RiskLevel.IMMINENT and "安眠药" in risk.matched


def test_context_raises_means_talk_after_earlier_risk(detector):
    assert detector.scan("我已经攒了二十片了").level == RiskLevel.NONE
    assert detector.scan("我已经攒了二十片了", context_level=2).level == RiskLevel.IMMINENT
    assert detector.scan("谢谢你一直陪我", context_level=3).level == RiskLevel.IMMINENT


def test_context_never_lowers_a_reading(detector):
    for text in ["我不想活了", "今天天气不错", "他在打我", "药都准备好了"]:
        assert detector.scan(text, context_level=3).level >= detector.scan(text).level


def test_violence_in_progress_and_abuse_are_recognised(detector):
    assert detector.scan("救命，他在打我").level == RiskLevel.IMMINENT
    assert detector.scan("我老公经常打我").level == RiskLevel.ACTIVE


def test_harm_to_others_rises_with_a_plan_and_anger_alone_does_not_fire(detector):
    assert detector.scan("我真想杀了他").level == RiskLevel.ACTIVE
    assert detector.scan("我想杀了他，刀已经买好了").level == RiskLevel.IMMINENT
    assert detector.scan("气死我了").level == RiskLevel.NONE


def test_traditional_cantonese_and_english_are_read(detector):
    assert detector.scan("我想自殺").level == RiskLevel.ACTIVE
    assert detector.scan("我唔想生存").level == RiskLevel.PASSIVE
    assert detector.scan("i'm going to kill myself tonight").level == RiskLevel.IMMINENT
