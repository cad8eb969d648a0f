from collections import Counter
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from knowledge.content import DATA_DIR, ContentError
from knowledge.stations import distance_km, load_stations

CITY_CENTRE = (30.6012, 114.3021)  # the city-level centre itself
BAISHA_TOWN = (30.7600, 114.1900)
LOCAL_TZ = ZoneInfo("Asia/Shanghai")
WEDNESDAY_10AM = datetime(2026, 6, 10, 10, 0, tzinfo=LOCAL_TZ)
TUESDAY_8PM = datetime(2026, 6, 9, 20, 0, tzinfo=LOCAL_TZ)
SUNDAY_3AM = datetime(2026, 6, 14, 3, 0, tzinfo=LOCAL_TZ)


@pytest.fixture(scope="module")
def stations():
    return load_stations()


def test_network_has_four_levels_and_at_least_56_stations(stations):
    levels = Counter(s.level for s in stations.stations())
    assert sum(levels.values()) >= 56
    assert levels["city"] == 1
    assert levels["county"] == len(stations.counties()) >= 4
    assert levels["township"] > 0 and levels["community"] > levels["township"]


def test_every_county_has_a_hotline_and_townships(stations):
    for county in stations.counties():
        assert county.hotline.startswith("0700-")
        assert stations.townships(county.id)
    assert [t.name.zh_hans for t in stations.townships("qinghe")] == ["解放街道", "迎宾街道", "滨江街道"]


def test_one_degree_of_latitude_is_about_111_km():
    assert distance_km(30.0, 114.3, 31.0, 114.3) == pytest.approx(111.2, abs=0.1)


def test_nearest_on_a_weekday_morning_starts_with_the_station_you_stand_at(stations):
    found = stations.nearest(*CITY_CENTRE, at=WEDNESDAY_10AM, zone=LOCAL_TZ)
    assert found[0][0].id == "qx-city"
    assert found[0][1] == pytest.approx(0, abs=0.01)
    assert len(found) == 3
    assert [d for _, d in found] == sorted(d for _, d in found)


def test_nearest_in_the_evening_returns_only_evening_stations(stations):
    found = stations.nearest(*BAISHA_TOWN, at=TUESDAY_8PM, zone=LOCAL_TZ, n=5)
    assert found and all(station.is_open(TUESDAY_8PM, LOCAL_TZ) for station, _ in found)
    assert "baisha-centre" not in [station.id for station, _ in found]


def test_nothing_is_open_at_3am_on_sunday_unless_asked_for_closed_ones(stations):
    assert stations.nearest(*CITY_CENTRE, at=SUNDAY_3AM, zone=LOCAL_TZ) == []
    closed = stations.nearest(*CITY_CENTRE, at=SUNDAY_3AM, zone=LOCAL_TZ, open_only=False)
    assert closed[0][0].id == "qx-city"


@pytest.mark.parametrize(("hour", "minute", "open_"), [
    (8, 29, False), (8, 30, True), (11, 59, True), (12, 0, False), (14, 0, True), (17, 29, True), (17, 30, False)])
def test_county_centre_closes_for_lunch(stations, hour, minute, open_):
    at = datetime(2026, 6, 10, hour, minute, tzinfo=LOCAL_TZ)
    assert stations.get("qinghe-centre").is_open(at, LOCAL_TZ) is open_


def test_times_in_other_zones_are_read_in_the_local_zone(stations):
    two_am_utc = datetime(2026, 6, 10, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai
    assert stations.get("qinghe-centre").is_open(two_am_utc, LOCAL_TZ)
    assert stations.get("qinghe-centre").is_open(datetime(2026, 6, 10, 10, 0), LOCAL_TZ)  # naive = local


def test_the_zone_passed_in_is_the_wall_clock_the_hours_are_read_on(stations):
    two_am_utc = datetime(2026, 6, 10, 2, 0, tzinfo=timezone.utc)  # 08:00 in Urumqi: not yet open (08:30)
    assert not stations.get("qinghe-centre").is_open(two_am_utc, ZoneInfo("Asia/Urumqi"))


def test_hotline_is_the_county_of_the_nearest_station(stations):
    assert stations.hotline_for(*BAISHA_TOWN) == stations.hotline_for_county("baisha")
    assert stations.hotline_for(*CITY_CENTRE) == stations.hotline_for_county("qinghe")
    with pytest.raises(ValueError, match="unknown county 'atlantis'"):
        stations.hotline_for_county("atlantis")


def broken_copy(tmp_path, old, new):
    text = (DATA_DIR / "stations.yaml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "stations.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_backwards_opening_hours_fail_at_start_with_file_and_line(tmp_path):
    path = broken_copy(tmp_path, '"08:30-21:00"', '"21:00-08:30"')
    with pytest.raises(ContentError, match=r"stations\.yaml:\d+: opening hours '21:00-08:30' end before"):
        load_stations(path)


def test_unknown_day_fails_at_start(tmp_path):
    path = broken_copy(tmp_path, "sat-sun:", "weekend:")
    with pytest.raises(ContentError, match=r"stations\.yaml:\d+: day spec 'weekend'"):
        load_stations(path)


def test_township_from_another_county_fails_at_start(tmp_path):
    path = broken_copy(tmp_path, "    township: qinghe-jiefang\n", "    township: donghu-hutang\n")
    with pytest.raises(ContentError, match=r"township 'donghu-hutang' is not a township of county 'qinghe'"):
        load_stations(path)
