"""The intent reading itself: everyday requests understood, slots, bad input, the model file."""
from __future__ import annotations

import shutil

import pytest

from knowledge.content import DATA_DIR, ContentError
from knowledge.library import load_knowledge
from knowledge.ngram_model import ModelFileError

# Thirty everyday requests as residents type them, with the ones quoted in issue 20 first; each
# must be read as its intent, surely enough to be acted on without a question.
EVERYDAY = [
    ("我想和真人聊聊", "counsellor"), ("能帮我转人工吗", "counsellor"), ("有没有心理咨询师可以跟我说说话", "counsellor"),
    ("我想做个抑郁测试", "assessment"), ("附近有心理咨询的地方吗", "stations"), ("最近有什么活动", "events"),
    ("怎么取消报名", "my_events"), ("热线电话是多少", "contact"), ("你是机器人吗", "about"), ("谢谢你", "greeting"),
    ("不要再给我发消息了", "optout"), ("和父母吵架了心里很难受", "feeling"), ("人工智能会取代人类吗", "unclear"),
    ("我想测一下自己焦虑不焦虑", "assessment"), ("生完孩子以后情绪很差，想做个测评", "assessment"),
    ("我之前的测评结果在哪里看", "record"), ("东湖区有心理服务站吗", "stations"), ("我报名的活动是几点开始", "my_events"),
    ("有没有关于失眠的文章", "tips"), ("你们几点上班", "contact"), ("我说的话会被别人看到吗", "about"),
    ("再见", "greeting"), ("别再推送了", "optout"), ("可以用英文跟我聊吗", "language"), ("回到主菜单", "menu"),
    ("想测测自己压力大不大", "assessment"), ("心理咨询收费吗", "contact"), ("我想报名参加讲座", "events"),
    ("孩子不爱学习怎么办", "tips"), ("早上好", "greeting"),
]


@pytest.fixture(scope="module")
def reader():
    return load_knowledge().intents


def test_thirty_everyday_requests_are_understood(reader):
    misread = [(text, reader.read(text).intent) for text, intent in EVERYDAY
               if reader.read(text).intent != intent or not reader.read(text).sure]
    assert misread == []


@pytest.mark.parametrize("text,intent,slots", [
    ("我想做个抑郁测试", "assessment", {"scale": "PHQ-9"}), ("产后抑郁自测一下", "assessment", {"scale": "EPDS"}),
    ("想测测自己压力大不大", "assessment", {"scale": "PSS-10"}), ("怎么取消报名", "my_events", {"action": "cancel"}),
    ("我报名的活动是几点开始", "my_events", {"action": "when"}), ("有没有关于失眠的文章", "tips", {"topic": "sleep"}),
    ("可以用英文跟我聊吗", "language", {"language": "en"}), ("谢谢你", "greeting", {"greeting": "thanks"}),
])
def test_slots_name_what_the_request_names(reader, text, intent, slots):
    reading = reader.read(text)
    assert (reading.intent, reading.slots) == (intent, slots)


@pytest.mark.parametrize("text,place", [("东湖区有心理服务站吗", "东湖区"), ("中山路附近有站点吗", "中山路"),
                                        ("幸福社区那边有心理站吗", "幸福社区心灵驿站"), ("石門那邊有站點嗎", "石门县")])
def test_a_place_is_matched_against_the_stations_areas_and_addresses(reader, text, place):
    assert reader.slots_for("stations", text)["place"].name == place


@pytest.mark.parametrize("text", ["", " ", "🙂🙂🙂", "😭" * 2000, "心" * 10_000, "a" * 10_000, "\x00\x01\ufffd", "<>" * 100])
def test_bad_input_is_read_without_raising(reader, text):
    reading = reader.read(text)
    assert reading.intent and 0.0 <= reading.confidence <= 1.0


def _copy_data(tmp_path):
    shutil.copytree(DATA_DIR, tmp_path, dirs_exist_ok=True)
    return tmp_path / "intents" / "model.npz"


def test_a_missing_model_stops_the_load_naming_the_file(tmp_path):
    _copy_data(tmp_path).unlink()
    with pytest.raises(ModelFileError, match=r"intents/model\.npz"):
        load_knowledge(tmp_path)


def test_a_corrupt_model_stops_the_load_naming_the_file(tmp_path):
    _copy_data(tmp_path).write_bytes(b"PK\x03\x04 not really a model")
    with pytest.raises(ModelFileError, match=r"intents/model\.npz: cannot read the model"):
        load_knowledge(tmp_path)


def test_a_slot_naming_an_unknown_scale_stops_the_load(tmp_path):
    _copy_data(tmp_path)
    slots = tmp_path / "intents" / "slots.yaml"
    slots.write_text(slots.read_text(encoding="utf-8").replace("  K10:", "  K11:"), encoding="utf-8")
    with pytest.raises(ContentError, match=r"slots\.yaml:1: 'scale' names K11"):
        load_knowledge(tmp_path)
