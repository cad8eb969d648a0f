import pytest

from knowledge.content import ContentError
from knowledge.texts import detect_language, load_texts

GLOBAL_KEYS = {"welcome", "menu", "fallback", "counsellor_request_ack", "language_switched",
               "resume_prompt", "flow_expired", "invalid_option"}


@pytest.fixture(scope="module")
def texts():
    return load_texts()


def test_common_texts_are_all_there(texts):
    assert GLOBAL_KEYS <= set(texts.keys())


def test_welcome_says_it_is_not_an_emergency_service_and_gives_the_numbers(texts):
    welcome = texts.get("welcome", "zh-Hans", menu=texts.get("menu", "zh-Hans"), privacy="")
    assert "不是紧急救助服务" in welcome
    for number in ("12356", "110", "120"):
        assert number in welcome
    assert "1 心理测评" in welcome and "5 找咨询师" in welcome


@pytest.mark.parametrize("lang", ["zh-Hans", "zh-Hant", "en"])
def test_menu_offers_five_numbered_choices_in_every_language(texts, lang):
    menu = texts.get("menu", lang)
    assert all(f"{n} " in menu for n in range(1, 6))


def test_placeholders_are_filled(texts):
    ack = texts.get("counsellor_request_ack", "en", hotline="0700-8861 2356")
    assert "0700-8861 2356" in ack and "12356" in ack
    assert texts.get("invalid_option", "zh-Hans", options="1、2、3") == "请回复以下选项之一：1、2、3"


def test_missing_placeholder_value_names_the_text_and_the_value(texts):
    with pytest.raises(KeyError, match="text 'invalid_option' needs a value for 'options'"):
        texts.get("invalid_option", "en")


def test_unknown_key_is_a_clear_error(texts):
    with pytest.raises(KeyError, match="no text 'nonexistent'"):
        texts.get("nonexistent", "en")


def test_traditional_is_derived_unless_written(texts):
    assert texts.get("fallback", "zh-Hant", menu="").startswith("抱歉，我沒太明白您的意思")
    assert texts.get("language_switched", "zh-Hant") == "已切換為繁體中文。"


def write_texts(tmp_path, name, body):
    (tmp_path / name).write_text(body, encoding="utf-8")


def test_duplicate_key_across_files_names_both_places(tmp_path):
    write_texts(tmp_path, "a.yaml", "hello:\n  zh-Hans: 你好\n  en: Hello\n")
    write_texts(tmp_path, "b.yaml", "# other flow\nbye:\n  zh-Hans: 再见\n  en: Bye\nhello:\n  zh-Hans: 您好\n  en: Hi\n")
    with pytest.raises(ContentError, match=r"b\.yaml:5: text 'hello' is already defined at .*a\.yaml:1"):
        load_texts(tmp_path)


def test_missing_simplified_chinese_names_file_and_line(tmp_path):
    write_texts(tmp_path, "a.yaml", "hello:\n  zh-Hans: 你好\n  en: Hello\nbye:\n  en: Bye\n")
    with pytest.raises(ContentError, match=r"a\.yaml:5: missing required key 'zh-Hans'"):
        load_texts(tmp_path)


def test_placeholders_must_match_across_languages(tmp_path):
    write_texts(tmp_path, "a.yaml", "ack:\n  zh-Hans: 热线{hotline}\n  en: Call us\n")
    with pytest.raises(ContentError, match=r"a\.yaml:2: text 'ack' uses different placeholders"):
        load_texts(tmp_path)


@pytest.mark.parametrize(("message", "lang"), [
    ("睡不着怎么办", "zh-Hans"), ("我想找咨詢師", "zh-Hant"), ("你們好", "zh-Hant"),
    ("I can't sleep", "en"), ("menu", "en"), ("PHQ-9测评", "zh-Hans"),
    ("1", None), ("  ", None), ("😀", None),
])
def test_detect_language(message, lang):
    assert detect_language(message) == lang
