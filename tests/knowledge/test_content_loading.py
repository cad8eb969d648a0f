from pathlib import Path

import pytest

from knowledge.content import ContentError, LocalText, load_mapping, local_text, require


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "content.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    path = write(tmp_path, "a: 1\nb: [unclosed\nc: 3\n")
    with pytest.raises(ContentError) as caught:
        load_mapping(path)
    assert str(caught.value).startswith(f"{path}:")
    assert caught.value.line in (2, 3)
    assert "not valid YAML" in str(caught.value)


def test_duplicate_key_names_the_second_line(tmp_path):
    path = write(tmp_path, "title: one\nbody: x\ntitle: two\n")
    with pytest.raises(ContentError, match=r"content\.yaml:3: duplicate key 'title'"):
        load_mapping(path)


def test_missing_required_key_points_at_the_mapping_missing_it(tmp_path):
    data = load_mapping(write(tmp_path, "first: 1\nsecond:\n  zh-Hans: 你好\n"))
    with pytest.raises(ContentError, match=r"content\.yaml:3: missing required key 'en'"):
        local_text(data, "second")


def test_wrong_type_points_at_the_key_line(tmp_path):
    data = load_mapping(write(tmp_path, "id: tip-1\n\ncapacity: lots\n"))
    with pytest.raises(ContentError, match=r":3: 'capacity' must be a whole number, not 'lots'"):
        require(data, "capacity", int)


def test_yaml_yes_is_not_accepted_as_a_number(tmp_path):
    data = load_mapping(write(tmp_path, "capacity: yes\n"))
    with pytest.raises(ContentError, match="whole number"):
        require(data, "capacity", int)


def test_top_level_must_be_a_mapping(tmp_path):
    with pytest.raises(ContentError, match=r":1: the file must be a YAML mapping"):
        load_mapping(write(tmp_path, "- a\n- b\n"))


def test_unknown_language_key_is_rejected_as_a_typo(tmp_path):
    data = load_mapping(write(tmp_path, "title:\n  zh-Hans: 你好\n  en: Hello\n  eng: Hello\n"))
    with pytest.raises(ContentError, match=r":4: unknown key 'eng'"):
        local_text(data, "title")


def test_traditional_chinese_is_derived_when_not_written():
    text = LocalText(zh_hans="心理测评", en="Self-check")
    assert text.get("zh-Hant") == "心理測評"
    assert LocalText(zh_hans="心理测评", en="x", zh_hant="心理檢測").get("zh-Hant") == "心理檢測"


def test_unknown_language_is_refused():
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        LocalText(zh_hans="你好", en="Hello").get("fr")
