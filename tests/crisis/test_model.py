"""The learned reading beside the rules: reproducible from the corpus, read with numpy alone, bounded on
any input, combined as the higher of the two, and loud at start when its file is missing or broken."""
from __future__ import annotations

import random
import shutil

import numpy as np
import pytest

from bot.cli import main
from knowledge.crisis import Detector, RiskLevel
from knowledge.crisis.detector import combine
from knowledge.crisis.model import CALIBRATION, MODEL_DIR, WEIGHTS, Calibration, CrisisModel, marked
from knowledge.crisis.train import SEED, Corpus, train
from knowledge.ngram_model import ModelFileError


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector.load()


def test_retraining_from_the_corpus_with_the_seed_reproduces_the_shipped_model():
    corpus = Corpus.load()
    rebuilt = train(corpus, list(range(len(corpus.rows))), SEED)
    shipped = CrisisModel.load()
    sample = random.Random(1).sample(corpus.texts, 300)
    assert rebuilt.classes == ("0", "1", "2", "3", "4")
    np.testing.assert_allclose([rebuilt.proba(t) for t in sample],
                               [shipped._model.proba(t) for t in sample], atol=1e-4)


@pytest.mark.parametrize("text", ["", "   ", "🙂🙂🙂😭😭", "\x00\x01\ufffd" * 50, "啊" * 100_000,
                                  "今天天气不错。" * 15_000, "a" * 100_000, "🌧" * 30_000])
def test_any_message_reads_without_raising(detector, text):
    risk = detector.scan(text)
    assert RiskLevel.NONE <= risk.level <= RiskLevel.IMMINENT


def test_pieces_read_together_read_as_each_piece_alone(detector):
    """A long message's whole and windows are read in one pass (their n-grams shared): each piece's
    probabilities are those of reading it alone, cut at the model's length as a lone reading is cut,
    edge marks, empty and one-character pieces included."""
    model = detector.model._model
    texts = random.Random(3).sample(Corpus.load().texts, 200) + ["好", "好了", "🔪🩸 药", "啊" * (model.max_chars + 50)]
    edges = ("\x02", "\x03")
    for text in texts:
        rng = random.Random(text)
        spans = [(0, len(text))] + [(a, min(len(text), a + rng.randint(0, 40))) for a in range(0, len(text), 5)]
        together = model.proba_of_spans(text, spans, edges)
        alone = [model.proba(edges[0] + text[a:b] + edges[1]) for a, b in spans]
        np.testing.assert_allclose(together, alone, rtol=0, atol=1e-12, err_msg=text)
    assert model.proba_of_spans("任何", [], edges).shape == (0, len(model.classes))


def test_a_long_message_reads_as_the_riskiest_of_its_pieces(detector):
    long = "今天上班很累。中午吃了面。下午开了会。我把药都攒够了今晚就吃。晚上看了电视。明天还要上班。"
    pieces = detector.model.pieces(long)
    assert len(pieces) > 2  # whole, then windows
    alone = [detector.model._model.proba(marked(piece))[2:].sum() for piece in pieces]
    assert detector.model.at_least(long)[0] == pytest.approx(max(alone), abs=1e-12)
    assert max(alone) > alone[0]  # a window, not the whole, holds the risk
    assert detector.model.read(long).level >= RiskLevel.ACTIVE


def test_a_huge_message_is_read_within_the_character_budget(detector):
    pieces = detector.model.pieces("我今天很好。" * 20_000)
    assert sum(len(p) for p in pieces[1:]) <= 4_000 + 20


def test_after_earlier_risk_a_rule_reading_stands_without_the_model():
    detector = Detector.load()
    assert detector.scan("东西我都收拾好了", context_level=0).level < RiskLevel.PASSIVE
    assert detector.scan("东西我都收拾好了", context_level=3).level == RiskLevel.IMMINENT


def test_the_reading_combines_the_rules_and_the_model_as_combine_says(detector):
    corpus = Corpus.load()
    threshold = detector.model.calibration.ask
    for text in random.Random(2).sample([r["text"] for r in corpus.rows], 300):
        risk, rules, model = detector.scan(text), detector.rules.scan(text), detector.model.read(text)
        assert (risk.level, risk.ask) == combine(int(rules.level), model.level, model.ask, model.at_least[0],
                                                 threshold), text
        assert risk.level >= model.level  # the model's reading is never lowered


@pytest.mark.parametrize("rule_level,model_level,ask,p2,expected", [
    (4, 0, False, 0.30, (4, False)),  # a rule reading the model doubts still counts at the gate's default
    (0, 3, False, 0.90, (3, False)),
    (2, 4, False, 0.95, (4, False)),
    (0, 0, True, 0.45, (1, True)),  # the uncertain band: level 1, ask
    (1, 0, False, 0.05, (1, False)),
])
def test_combine_takes_the_higher_and_marks_the_uncertain_band(rule_level, model_level, ask, p2, expected):
    assert combine(rule_level, model_level, ask, p2, 0.4, gate=0.0) == expected


def test_a_gated_rule_reading_the_model_finds_ordinary_is_kept_below_crisis():
    assert combine(3, 0, False, 0.01, 0.4, gate=0.5) == (1, False)
    assert combine(3, 0, False, 0.30, 0.4, gate=0.5) == (3, False)


def test_a_model_reading_names_its_strongest_ngrams(detector):
    corpus = Corpus.load()
    for row in corpus.rows:
        risk, rules = detector.scan(row["text"]), detector.rules.scan(row["text"])
        if risk.level > rules.level:
            assert risk.reason.startswith("模型判读") and risk.matched
            assert all(gram.replace(" ", "") for gram in risk.matched)
            return
    pytest.fail("the model never read above the rules on the corpus")


def test_a_missing_model_file_stops_with_one_line_naming_it(tmp_path):
    shutil.copy(MODEL_DIR / CALIBRATION, tmp_path / CALIBRATION)
    with pytest.raises(ModelFileError, match=str(tmp_path / WEIGHTS)):
        CrisisModel.load(tmp_path)


def test_a_corrupt_model_file_stops_with_one_line_naming_it(tmp_path):
    shutil.copy(MODEL_DIR / CALIBRATION, tmp_path / CALIBRATION)
    (tmp_path / WEIGHTS).write_bytes(b"PK\x03\x04 not a model")
    with pytest.raises(ModelFileError, match="rebuild it"):
        CrisisModel.load(tmp_path)
    (tmp_path / CALIBRATION).write_text("{", encoding="utf-8")
    with pytest.raises(ModelFileError, match=str(tmp_path / CALIBRATION)):
        CrisisModel.load(tmp_path)


def test_the_command_line_reports_a_broken_model_in_one_line(monkeypatch, capsys):
    def broken(*_args, **_kw):
        raise ModelFileError("/srv/xinzhan/weights.npz: cannot read the model")

    monkeypatch.setattr(Detector, "load", broken)
    assert main(["crisis-scan"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "weights.npz" in err


def test_a_very_short_message_is_asked_about_and_a_lone_emoji_is_not(detector):
    """On the model's word alone: "好了" or "🔪🩸" may be danger, so the bot asks; a lone "🙂" is not asked about
    unless the model reads active danger in it."""
    assert (int(detector.scan("好了").level), detector.scan("好了").ask) == (1, True)
    assert (int(detector.scan("🙂").level), detector.scan("🙂").ask) == (0, False)
    assert (int(detector.scan("🔪🩸").level), detector.scan("🔪🩸").ask) == (1, True)
    assert detector.scan("🙂", context_level=3).level <= RiskLevel.IMMINENT  # read, never raises


def test_a_crisis_reading_takes_its_level_from_each_levels_own_threshold():
    calibration = Calibration({2: 0.5, 3: 0.3, 4: 0.6}, ask=0.2)
    assert calibration.level(np.array([0.45, 0.35, 0.1])) == 0  # P(>=3) over its threshold, but no crisis
    assert calibration.level(np.array([0.6, 0.2, 0.1])) == 2
    assert calibration.level(np.array([0.6, 0.35, 0.1])) == 3  # below the alarm threshold, still level 3
    assert calibration.level(np.array([0.9, 0.8, 0.7])) == 4
