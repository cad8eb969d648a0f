"""A wrong lexicon file stops the load with the file and line to fix."""
import pytest

from knowledge.crisis import LexiconError
from knowledge.crisis.rules import RuleEngine

CATEGORY = "categories:\n  - {name: death_wish, label: 被动求死}\n"


def _write(tmp_path, text):
    (tmp_path / "a.yaml").write_text(CATEGORY, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(text, encoding="utf-8")


def test_a_new_term_is_a_data_change(tmp_path):
    _write(tmp_path, "terms:\n  - {id: t, category: death_wish, level: 2, lang: zh, patterns: [不想上班了]}\n")
    assert RuleEngine.load(tmp_path).scan("真的不想上班了").level == 2


def test_invalid_yaml_names_file_and_line(tmp_path):
    _write(tmp_path, "terms:\n  - id: t\n    category: [unclosed\n")
    with pytest.raises(LexiconError, match=r"b\.yaml:\d+: not valid YAML"):
        RuleEngine.load(tmp_path)


def test_unknown_category_names_file_and_line(tmp_path):
    _write(tmp_path, "terms:\n  - {id: t, category: death_wish, level: 2, lang: zh, patterns: [a]}\n"
                     "  - {id: u, category: nosuch, level: 2, lang: zh, patterns: [b]}\n")
    with pytest.raises(LexiconError, match=r"b\.yaml:3: 'category' names unknown category 'nosuch'"):
        RuleEngine.load(tmp_path)


def test_bad_regex_names_file_line_and_pattern(tmp_path):
    _write(tmp_path, "terms:\n  - {id: t, category: death_wish, level: 2, lang: zh, patterns: ['想(死']}\n")
    with pytest.raises(LexiconError, match=r"b\.yaml:2: term 't': pattern '想\(死' is not a valid regex"):
        RuleEngine.load(tmp_path)


def test_level_out_of_range_and_missing_fields_are_rejected(tmp_path):
    _write(tmp_path, "terms:\n  - {id: t, category: death_wish, level: 7, lang: zh, patterns: [a]}\n")
    with pytest.raises(LexiconError, match=r"b\.yaml:2: 'level' must be an integer 0-4"):
        RuleEngine.load(tmp_path)
    _write(tmp_path, "rules:\n  - {id: r, all: [death_wish], level: 3}\n")
    with pytest.raises(LexiconError, match=r"b\.yaml:2: rules entry lacks \['reason'\]"):
        RuleEngine.load(tmp_path)


def test_duplicate_term_ids_are_rejected(tmp_path):
    _write(tmp_path, "terms:\n  - {id: t, category: death_wish, level: 2, lang: zh, patterns: [a]}\n"
                     "  - {id: t, category: death_wish, level: 2, lang: zh, patterns: [b]}\n")
    with pytest.raises(LexiconError, match="used twice"):
        RuleEngine.load(tmp_path)
