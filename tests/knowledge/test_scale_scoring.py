import shutil

import pytest

from knowledge.content import DATA_DIR, ContentError
from knowledge.scales import Scale, default_scales, load_scales, score


def answers_for_total(scale: Scale, total: int) -> list[int]:
    """Answers (what a resident sends) whose item scores add up to `total`, filled from item 1."""
    low, high = scale.answer_range
    remaining = total - low * len(scale.items)
    answers = []
    for item in scale.items:
        item_score = low + min(high - low, remaining)
        remaining -= item_score - low
        answers.append(low + high - item_score if item.reverse else item_score)
    assert remaining == 0, f"{total} is out of range for {scale.id}"
    return answers


BAND_EDGES = [
    ("PHQ-9", 0, "none-minimal"), ("PHQ-9", 4, "none-minimal"), ("PHQ-9", 5, "mild"),
    ("PHQ-9", 9, "mild"), ("PHQ-9", 10, "moderate"), ("PHQ-9", 14, "moderate"),
    ("PHQ-9", 15, "moderately severe"), ("PHQ-9", 19, "moderately severe"),
    ("PHQ-9", 20, "severe"), ("PHQ-9", 27, "severe"),
    ("PHQ-2", 0, "negative"), ("PHQ-2", 2, "negative"), ("PHQ-2", 3, "positive"), ("PHQ-2", 6, "positive"),
    ("GAD-7", 0, "minimal"), ("GAD-7", 4, "minimal"), ("GAD-7", 5, "mild"), ("GAD-7", 9, "mild"),
    ("GAD-7", 10, "moderate"), ("GAD-7", 14, "moderate"), ("GAD-7", 15, "severe"), ("GAD-7", 21, "severe"),
    ("GAD-2", 0, "negative"), ("GAD-2", 2, "negative"), ("GAD-2", 3, "positive"), ("GAD-2", 6, "positive"),
    ("WHO-5", 0, "likely depression"), ("WHO-5", 7, "likely depression"),
    ("WHO-5", 8, "poor wellbeing"), ("WHO-5", 12, "poor wellbeing"),
    ("WHO-5", 13, "above cut-off"), ("WHO-5", 25, "above cut-off"),
    ("K10", 10, "low"), ("K10", 15, "low"), ("K10", 16, "moderate"), ("K10", 21, "moderate"),
    ("K10", 22, "high"), ("K10", 29, "high"), ("K10", 30, "very high"), ("K10", 50, "very high"),
    ("PSS-10", 0, "low"), ("PSS-10", 13, "low"), ("PSS-10", 14, "moderate"), ("PSS-10", 26, "moderate"),
    ("PSS-10", 27, "high"), ("PSS-10", 40, "high"),
    ("EPDS", 0, "unlikely"), ("EPDS", 9, "unlikely"), ("EPDS", 10, "possible depression"),
    ("EPDS", 12, "possible depression"), ("EPDS", 13, "probable depression"),
    ("EPDS", 30, "probable depression"),
]


@pytest.mark.parametrize(("scale_id", "total", "band"), BAND_EDGES)
def test_band_edges_follow_the_published_cut_points(scale_id, total, band):
    scale = default_scales().get(scale_id)
    result = score(scale_id, answers_for_total(scale, total))
    assert (result.total, result.band) == (total, band)


@pytest.mark.parametrize(("total", "band_alt"), [
    (10, "likely well"), (19, "likely well"), (20, "mild disorder"), (24, "mild disorder"),
    (25, "moderate disorder"), (29, "moderate disorder"), (30, "severe disorder"), (50, "severe disorder"),
])
def test_k10_also_reports_the_clinical_reading(total, band_alt):
    result = score("K10", answers_for_total(default_scales().get("K10"), total))
    assert result.band_alt == band_alt


def test_every_packaged_scale_is_loaded():
    assert sorted(default_scales().ids()) == sorted(
        ["PHQ-9", "PHQ-2", "GAD-7", "GAD-2", "WHO-5", "K10", "PSS-10", "EPDS"])


def test_phq9_item9_raises_the_safety_flag_even_with_a_low_total():
    result = score("PHQ-9", [0, 0, 0, 0, 0, 0, 0, 0, 1])
    assert (result.total, result.band) == (1, "none-minimal")
    assert result.flags == ("item9_positive",)
    assert result.safety_positive


def test_phq9_without_item9_has_no_safety_flag():
    result = score("PHQ-9", [3, 3, 3, 3, 3, 3, 3, 3, 0])
    assert result.flags == ("ge10",)
    assert not result.safety_positive


@pytest.mark.parametrize(("scale_id", "total", "raised"), [
    ("PHQ-9", 9, False), ("PHQ-9", 10, True), ("GAD-7", 9, False), ("GAD-7", 10, True)])
def test_ge10_flag(scale_id, total, raised):
    scale = default_scales().get(scale_id)
    assert ("ge10" in score(scale_id, answers_for_total(scale, total)).flags) is raised


def test_phq2_positive_screen_offers_the_full_phq9():
    result = score("phq2", [2, 1])
    assert result.flags == ("screen_positive",)
    assert result.offers == "PHQ-9"


def test_gad2_negative_screen_offers_nothing():
    result = score("GAD-2", [1, 1])
    assert (result.band, result.flags, result.offers) == ("negative", (), None)


def test_gad2_positive_screen_offers_the_full_gad7():
    assert score("GAD-2", [3, 0]).offers == "GAD-7"


def test_who5_percent_is_raw_times_four_and_higher_is_better():
    result = score("WHO-5", [5, 5, 5, 5, 5])
    assert (result.total, result.percent, result.band, result.flags) == (25, 100, "above cut-off", ())


def test_who5_screen_for_depression_at_48_percent_not_at_52():
    assert score("WHO-5", [3, 3, 2, 2, 2]).flags == ("screen_for_depression",)  # 12 -> 48%
    assert score("WHO-5", [3, 3, 3, 2, 2]).flags == ()  # 13 -> 52%


def test_k10_takes_answers_one_to_five():
    assert score("K10", [1] * 10).total == 10
    with pytest.raises(ValueError, match="K10 answer 1 is 0; answers run 1-5"):
        score("K10", [0] + [1] * 9)


def test_pss10_answering_never_to_everything_scores_16():
    assert score("PSS-10", [0] * 10).total == 16


def test_pss10_reverses_items_4_5_7_8():
    assert score("PSS-10", [0, 0, 0, 4, 4, 0, 4, 4, 0, 0]).total == 0
    assert score("PSS-10", [4, 4, 4, 0, 0, 4, 0, 0, 4, 4]).total == 40


def test_epds_first_printed_option_everywhere_scores_21():
    # items 1, 2, 4 score 0 for the first option; the 7 starred items score 3
    assert score("EPDS", [0] * 10).total == 21


def test_epds_item10_never_is_the_only_answer_without_the_flag():
    others = [0, 0, 3, 0, 3, 3, 3, 3, 3]  # every other item at its lowest score
    assert score("EPDS", others + [3]).flags == ()
    for position in (0, 1, 2):  # "Yes, quite often", "Sometimes", "Hardly ever"
        result = score("EPDS", others + [position])
        assert result.flags == ("item10_positive",)
        assert result.safety_positive
        assert result.total == 3 - position


def test_each_scale_marks_its_safety_item():
    marked = {s: default_scales().get(s).safety_item for s in default_scales().ids()}
    assert (marked["PHQ-9"].item, marked["PHQ-9"].flag) == (9, "item9_positive")
    assert (marked["EPDS"].item, marked["EPDS"].flag) == (10, "item10_positive")
    assert [s for s, item in marked.items() if item] == ["EPDS", "PHQ-9"]


def test_every_band_explains_itself_in_both_languages():
    for scale_id in default_scales().ids():
        for band in default_scales().get(scale_id).bands:
            for text in (band.meaning, band.not_meaning, band.next_step):
                assert text.zh_hans and text.en, (scale_id, band.id)


@pytest.mark.parametrize(("answers", "message"), [
    ([0] * 8, "PHQ-9 needs 9 answers, got 8"),
    ([0] * 10, "PHQ-9 needs 9 answers, got 10"),
    ([0, 0, 4, 0, 0, 0, 0, 0, 0], "PHQ-9 answer 3 is 4; answers run 0-3"),
    ([0, 0, 0, 0, 0, 0, 0, 0, -1], "PHQ-9 answer 9 is -1"),
    ([0, "1", 0, 0, 0, 0, 0, 0, 0], "PHQ-9 answer 2 is '1'"),
    ([True] + [0] * 8, "PHQ-9 answer 1 is True"),
])
def test_bad_answers_are_refused_with_a_clear_message(answers, message):
    with pytest.raises(ValueError, match=message):
        score("PHQ-9", answers)


def test_unknown_scale_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown scale 'BDI'; known: .*PHQ-9"):
        score("BDI", [0])


def test_adding_a_file_adds_a_scale(tmp_path):
    shutil.copytree(DATA_DIR / "scales", tmp_path, dirs_exist_ok=True)
    text = (tmp_path / "phq-2.yaml").read_text(encoding="utf-8")
    (tmp_path / "phq-2-sensitive.yaml").write_text(
        text.replace("id: PHQ-2", "id: PHQ-2S").replace("from: 3", "from: 2")
            .replace("to: 2", "to: 1").replace("total_at_least: 3", "total_at_least: 2"),
        encoding="utf-8")
    assert load_scales(tmp_path).score("phq-2s", [1, 1]).band == "positive"


def test_band_gap_fails_at_start_naming_the_file(tmp_path):
    shutil.copytree(DATA_DIR / "scales", tmp_path, dirs_exist_ok=True)
    path = tmp_path / "gad-7.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("from: 5", "from: 6"), encoding="utf-8")
    with pytest.raises(ContentError, match=r"gad-7\.yaml:\d+: bands: band 'mild' should start at 5"):
        load_scales(tmp_path)


def test_offer_of_a_missing_scale_fails_at_start(tmp_path):
    shutil.copytree(DATA_DIR / "scales", tmp_path, dirs_exist_ok=True)
    (tmp_path / "phq-9.yaml").unlink()
    with pytest.raises(ContentError, match=r"phq-2\.yaml:\d+: band 'positive' offers unknown scale 'PHQ-9'"):
        load_scales(tmp_path)


def test_band_of_a_result_gives_its_next_step_in_the_residents_language():
    result = score("PHQ-9", [3] * 9)
    band = default_scales().get("PHQ-9").band(result.band)
    assert "12356" in band.next_step.get("zh-Hans")
    assert "12356" in band.next_step.get("en")
    with pytest.raises(ValueError, match="PHQ-9 has no band 'awful'"):
        default_scales().get("PHQ-9").band("awful")
