"""The SVG charts: the record's trend (readable local dates, thinned so none touches another, scores
over points only where they fit; the browser test checks the drawn result at 390 px) and the
dashboard's bars, whose labels are cut before they are escaped."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from bot.charts import BAR_LABEL_CHARS, BandArea, bars, date_label, spread_labels, text_width, trend_svg

BANDS = [BandArea(0, 4, "没有或极少"), BandArea(5, 9, "轻度"), BandArea(10, 27, "较重")]
DAY = datetime(2026, 6, 1, 0, 10)


def texts(svg: str, kind: str) -> list[str]:
    return re.findall(rf'<text class="{kind}"[^>]*>([^<]*)</text>', svg)


def test_dates_read_as_days_in_the_readers_language():
    assert date_label(DAY, "zh-Hans", False) == "6月1日"
    assert date_label(DAY, "zh-Hans", True) == "2026年6月1日"
    assert date_label(DAY, "en", False) == "Jun 1"


def test_a_chart_across_new_year_names_the_years():
    svg = str(trend_svg([(datetime(2025, 12, 30), 3), (datetime(2026, 1, 20), 8)], (0, 27), BANDS))
    assert texts(svg, "date") == ["2025年12月30日", "2026年1月20日"]


def test_spread_labels_keeps_the_last_and_drops_those_that_would_touch():
    centres, widths = [10, 20, 60, 70, 100], [30] * 5
    chosen = spread_labels(centres, widths)
    assert chosen == [0, 2, 4]
    for a, b in zip(chosen, chosen[1:]):
        assert centres[b] - centres[a] >= widths[a]


def test_one_label_per_day_even_with_several_results_that_day():
    points = [(DAY + timedelta(hours=h), 5 + h) for h in range(4)]
    assert texts(str(trend_svg(points, (0, 27), BANDS)), "date") == ["6月1日"]


def test_scores_are_written_over_points_only_when_they_fit():
    few = [(DAY + timedelta(days=7 * i), t) for i, t in enumerate([3, 12, 20])]
    many = [(DAY + timedelta(days=i), i % 27) for i in range(40)]
    assert texts(str(trend_svg(few, (0, 27), BANDS)), "score") == ["3", "12", "20"]
    assert texts(str(trend_svg(many, (0, 27), BANDS)), "score") == []
    assert len(texts(str(trend_svg(many, (0, 27), BANDS)), "date")) < 10


def test_bands_are_shaded_areas_not_text_in_the_plot():
    svg = str(trend_svg([(DAY, 3)], (0, 27), BANDS))
    assert svg.count("<rect") == len(BANDS) + 1 and "较重" not in re.sub(r"<title>.*?</title>", "", svg)


def test_cjk_labels_are_measured_wider_than_digits():
    assert text_width("6月1日") > text_width("06-01")


def test_a_long_bar_label_is_cut_whole_before_it_is_escaped():
    name = "<家长&孩子>" + "亲子沟通工作坊" * 3  # an event title longer than the label column
    svg = str(bars([(name, 4)], title="报名：按活动的人数"))
    drawn = re.search(r'<text x="0"[^>]*>([^<]*)</text>', svg).group(1)
    assert drawn == "&lt;家长&amp;孩子&gt;" + name[len("<家长&孩子>"):BAR_LABEL_CHARS]
    assert "<家长" not in svg


def test_an_ampersand_at_the_cut_is_kept_whole():
    svg = str(bars([("a" * (BAR_LABEL_CHARS - 1) + "&b", 1)], title="t"))
    assert ">" + "a" * (BAR_LABEL_CHARS - 1) + "&amp;</text>" in svg
