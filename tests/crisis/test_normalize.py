"""Folding: evasion and script must not change what the lexicon sees."""
import pytest

from knowledge.crisis.normalize import normalize, sentences, fold


@pytest.mark.parametrize("text", ["自 杀", "自.杀", "自*杀", "自\u200b杀", "自。杀", "自-杀", "自殺"])
def test_separators_zero_width_and_traditional_fold_to_one_word(text):
    assert normalize(text) == "自杀"


def test_full_width_letters_and_digits_fold_to_ascii():
    assert normalize("ＫＩＬＬ ｍｙｓｅｌｆ") == "kill myself"


@pytest.mark.parametrize("text,folded", [("k1ll", "kill"), ("su1c1de", "suicide"), ("5uicide", "suicide"), ("k!ll", "kill")])
def test_leetspeak_folds_inside_words(text, folded):
    assert normalize(text) == folded


def test_spelled_out_and_dotted_english_words_join():
    assert normalize("s u i c i d e") == "suicide"
    assert normalize("k.i.l.l me") == "kill me"


def test_real_sentences_stay_apart_so_each_is_scored():
    assert sentences(fold("今天好累。我想死！哈哈")) == ["今天好累", "我想死哈哈"]


def test_english_words_keep_their_spaces():
    assert normalize("I want to die") == "i want to die"
