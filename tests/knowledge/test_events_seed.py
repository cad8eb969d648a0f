from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from knowledge.content import DATA_DIR, ContentError
from knowledge.events_seed import load_event_seeds
from knowledge.stations import load_stations

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
LATE_WEDNESDAY = datetime(2026, 6, 10, 23, 30, tzinfo=LOCAL_TZ)


@pytest.fixture(scope="module")
def stations():
    return load_stations()


def test_events_fall_in_the_coming_weeks_in_start_order(stations):
    seeds = load_event_seeds(LATE_WEDNESDAY, LOCAL_TZ, stations)
    assert 8 <= len(seeds) <= 12
    starts = [seed.starts_at for seed in seeds]
    assert starts == sorted(starts)
    assert LATE_WEDNESDAY < starts[0] and starts[-1] < LATE_WEDNESDAY + timedelta(weeks=5)


def test_day_offset_and_local_time_make_the_start(stations):
    lecture = next(s for s in load_event_seeds(LATE_WEDNESDAY, LOCAL_TZ, stations) if s.id == "sleep-lecture")
    assert lecture.starts_at == datetime(2026, 6, 13, 19, 0, tzinfo=LOCAL_TZ)  # in_days: 3, at: "19:00"
    assert lecture.ends_at - lecture.starts_at == timedelta(minutes=90)


def test_the_start_is_the_local_time_in_the_zone_passed_in(stations):
    urumqi = ZoneInfo("Asia/Urumqi")  # Wednesday 21:30 there at the same moment
    lecture = next(s for s in load_event_seeds(LATE_WEDNESDAY, urumqi, stations) if s.id == "sleep-lecture")
    assert lecture.starts_at == datetime(2026, 6, 13, 19, 0, tzinfo=urumqi)


def test_now_in_utc_counts_days_from_the_local_date(stations):
    same_moment_in_utc = LATE_WEDNESDAY.astimezone(timezone.utc)  # still Wednesday 15:30 UTC
    from_utc = load_event_seeds(same_moment_in_utc, LOCAL_TZ, stations)
    assert from_utc == load_event_seeds(LATE_WEDNESDAY, LOCAL_TZ, stations)


def test_some_events_are_tiny_to_show_waiting_lists(stations):
    assert any(seed.capacity <= 2 for seed in load_event_seeds(LATE_WEDNESDAY, LOCAL_TZ, stations))


def test_every_event_is_at_a_known_station(stations):
    for seed in load_event_seeds(LATE_WEDNESDAY, LOCAL_TZ, stations):
        assert stations.get(seed.station)


def test_unknown_station_fails_at_start_with_file_and_line(tmp_path, stations):
    text = (DATA_DIR / "events.yaml").read_text(encoding="utf-8")
    path = tmp_path / "events.yaml"
    path.write_text(text.replace("station: qx-city", "station: moon-base", 1), encoding="utf-8")
    line = text.splitlines().index("    station: qx-city") + 1
    with pytest.raises(ContentError, match=rf"events\.yaml:{line}: unknown station 'moon-base'"):
        load_event_seeds(LATE_WEDNESDAY, LOCAL_TZ, stations, path)


def test_unquoted_time_is_refused(tmp_path, stations):
    text = (DATA_DIR / "events.yaml").read_text(encoding="utf-8")
    path = tmp_path / "events.yaml"
    path.write_text(text.replace('at: "19:00"', "at: 19:00", 1), encoding="utf-8")
    with pytest.raises(ContentError, match=r"'at' must be text"):
        load_event_seeds(LATE_WEDNESDAY, LOCAL_TZ, stations, path)
