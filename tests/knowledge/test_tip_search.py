import shutil
from collections import Counter

import pytest

from knowledge.content import AUDIENCES, DATA_DIR, ContentError
from knowledge.tips import load_tips


@pytest.fixture(scope="module")
def tips():
    return load_tips()


def test_library_holds_at_least_45_tips_across_all_twelve_topics(tips):
    per_topic = Counter(tip.topic for topic in tips.topics() for tip in tips.by_topic(topic.id))
    assert sum(per_topic.values()) >= 45
    assert set(per_topic) == {
        "sleep", "stress", "anxiety", "low_mood", "grief", "exam_stress", "parenting",
        "elderly_loneliness", "relationships", "self_help", "postpartum", "community_correction"}


def test_every_audience_has_tips(tips):
    for audience in AUDIENCES:
        assert tips.for_audience(audience), audience


def test_chinese_question_without_spaces_finds_sleep_tips(tips):
    assert tips.search("睡不着怎么办", "zh-Hans")[0].topic == "sleep"


def test_exam_anxiety_finds_exam_stress_tips(tips):
    found = tips.search("考试焦虑", "zh-Hans", limit=3)
    assert [tip.topic for tip in found] == ["exam_stress"] * 3


def test_traditional_chinese_query_matches_like_simplified(tips):
    assert tips.search("考試焦慮", "zh-Hant") == tips.search("考试焦虑", "zh-Hans")


def test_english_search_matches_words_and_plurals(tips):
    assert tips.search("panic attacks", "en")[0].id == "anxiety-panic-wave"
    assert tips.search("exams", "en")[0].topic == "exam_stress"


def test_question_words_alone_find_nothing(tips):
    assert tips.search("怎么办", "zh-Hans") == []
    assert tips.search("zzz qqq", "en") == []


def test_limit_caps_the_results(tips):
    assert len(tips.search("压力", "zh-Hans", limit=2)) == 2


def test_get_and_unknown_topic(tips):
    assert tips.get("self-help-belly-breathing").topic == "self_help"
    with pytest.raises(ValueError, match="unknown tip topic 'cooking'"):
        tips.by_topic("cooking")


def test_tip_reads_in_traditional_chinese(tips):
    assert tips.get("postpartum-rest-and-help").title.get("zh-Hant") == "新手媽媽，先把睡眠找回來"


def copy_tips(tmp_path):
    shutil.copytree(DATA_DIR / "tips", tmp_path, dirs_exist_ok=True)
    return tmp_path / "sleep.yaml"


def test_unknown_audience_fails_at_start_with_file_and_line(tmp_path):
    path = copy_tips(tmp_path)
    path.write_text(path.read_text(encoding="utf-8").replace("[elderly]", "[retirees]"), encoding="utf-8")
    with pytest.raises(ContentError, match=r"sleep\.yaml:\d+: unknown audience 'retirees'"):
        load_tips(tmp_path)


def test_too_short_body_fails_at_start(tmp_path):
    path = copy_tips(tmp_path)
    text = path.read_text(encoding="utf-8")
    start = text.index("躺下二十分钟")
    end = text.index("\n", start)
    path.write_text(text[:start] + "早点睡。" + text[end:], encoding="utf-8")
    with pytest.raises(ContentError, match=r"sleep\.yaml:\d+: zh-Hans body is 4 characters"):
        load_tips(tmp_path)


def test_duplicate_tip_id_across_files_fails(tmp_path):
    path = copy_tips(tmp_path)
    path.write_text(path.read_text(encoding="utf-8").replace("id: sleep-fixed-wake-time",
                                                             "id: stress-list-and-split"), encoding="utf-8")
    with pytest.raises(ContentError, match=r"tip id 'stress-list-and-split' is used twice"):
        load_tips(tmp_path)
