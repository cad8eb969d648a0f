"""The station map: nearest open stations for a location, the county hotline, or county then township."""
from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from sqlalchemy import select

from bot.models import Resident
from flows.stations import dialable
from bot.localtime import DEFAULT_ZONE as LOCAL_TZ

WEDNESDAY_10AM = datetime(2025, 6, 4, 10, 0, tzinfo=LOCAL_TZ)
SUNDAY_11PM = datetime(2025, 6, 8, 23, 0, tzinfo=LOCAL_TZ)


@pytest.fixture
def at():
    """Set the service's clock (datetime, time; time-machine), so "open now" is known; it ticks on from there."""
    travels = []

    def set_time(moment: datetime) -> None:
        travels.append(time_machine.travel(moment, tick=True))
        travels[-1].start()
    yield set_time
    for travel in reversed(travels):
        travel.stop()


@pytest.mark.parametrize("latitude,longitude,county", [
    (30.6012, 114.3021, "qinghe"),  # the city centre itself
    (30.52, 114.40, None),
    (30.70, 114.20, None),
])
async def test_location_gets_the_three_nearest_open_stations_and_county_hotline(
        resident, services, knowledge, at, latitude, longitude, county):
    at(WEDNESDAY_10AM)
    reply = await resident.send_location(latitude, longitude)
    stations = knowledge.stations
    expected = stations.nearest(latitude, longitude, WEDNESDAY_10AM, LOCAL_TZ, n=3)
    assert len(expected) == 3
    positions = [reply.index(station.name.zh_hans) for station, _ in expected]
    assert positions == sorted(positions)
    for station, km in expected:
        assert f"约 {km:.1f} 公里" in reply and dialable(station.phone) in reply
    assert dialable(stations.hotline_for(latitude, longitude)) in reply and "12356" in reply
    if county:
        async with services.db() as session:
            assert await session.scalar(select(Resident.area).where(Resident.openid == resident.openid)) == county


async def test_city_centre_location_lists_the_centre_first(resident, at):
    at(WEDNESDAY_10AM)
    reply = await resident.send_location(30.6012, 114.3021)
    assert reply.split("\n")[1].startswith("· 清溪市社会心理服务指导中心（约 0.0 公里）")


async def test_at_night_the_nearest_stations_come_with_their_hours_and_the_24h_line(resident, at, say):
    at(SUNDAY_11PM)
    reply = await resident.send_location(30.6012, 114.3021)
    assert reply.startswith(say("stations.none_open", stations="", county="", hotline="").split("\n")[0])
    assert "12356（24小时）" in reply


async def test_location_event_answers_too(resident, platform, at):
    at(WEDNESDAY_10AM)
    answer = await platform.event(resident.openid, "LOCATION", Latitude="30.6012", Longitude="114.3021",
                                  Precision="20")
    assert "清溪市社会心理服务指导中心" in answer.text


async def test_location_event_inside_an_assessment_is_only_remembered(resident, platform, services):
    await resident.answers("测评", "6")
    answer = await platform.event(resident.openid, "LOCATION", Latitude="30.6012", Longitude="114.3021",
                                  Precision="20")
    assert answer.text == ""
    assert (await services.states.get(resident.openid)).flow == "assessment"


async def test_without_location_pick_county_then_township(resident, services, knowledge, at):
    at(WEDNESDAY_10AM)
    counties = knowledge.stations.counties()
    reply = await resident.say("站点")
    assert f"1 {counties[0].name.zh_hans}" in reply
    county = counties[1]
    reply = await resident.say("2")
    assert reply.startswith(county.name.zh_hans)
    township = county.townships[0]
    reply = await resident.say("1")
    assert reply.startswith(township.name.zh_hans)
    here = [s for s in knowledge.stations.stations() if s.township == township.id]
    assert here and all(s.name.zh_hans in reply for s in here)
    assert dialable(county.hotline) in reply
    async with services.db() as session:
        assert await session.scalar(select(Resident.area).where(Resident.openid == resident.openid)) == county.id


async def test_invalid_county_repeats_the_list(resident, say, knowledge):
    await resident.say("站点")
    reply = await resident.say("42")
    assert reply.startswith(say("invalid_option", options=f"1-{len(knowledge.stations.counties())}"))


@pytest.mark.parametrize("latitude,longitude", [("nan", "114.3"), ("30.6", "inf"), ("-Infinity", "nan")])
async def test_a_location_that_is_not_a_number_is_answered_not_failed(resident, services, latitude, longitude, say):
    from tests.platform import message_xml

    before = metrics_value("xz_turn_failures_total")
    answer = await resident.platform.send_xml(message_xml(resident.openid, "location", {
        "Location_X": latitude, "Location_Y": longitude, "Scale": "15", "Label": ""}))
    assert answer.status == 200 and answer.text == say("stations.unreadable_location")
    assert metrics_value("xz_turn_failures_total") == before


def metrics_value(name: str) -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value(name) or 0.0


async def test_each_station_carries_a_map_link_and_a_number_to_tap(resident, knowledge, at):
    at(WEDNESDAY_10AM)
    reply = await resident.send_location(30.6012, 114.3021)
    [(station, _), *_] = knowledge.stations.nearest(30.6012, 114.3021, WEDNESDAY_10AM, LOCAL_TZ, n=3)
    links = re.findall(r'<a href="([^"]+)">查看地图</a>', reply)
    assert len(links) == 3
    url = urlsplit(links[0])
    query = parse_qs(url.query)
    assert (url.scheme, url.netloc, url.path) == ("https", "uri.amap.com", "/marker")
    assert query["position"] == [f"{station.lon:.6f},{station.lat:.6f}"] and query["name"] == [station.name.zh_hans]
    assert query["coordinate"] == ["gaode"]
    phone = dialable(station.phone)
    assert " " not in phone and re.search(rf"电话：{re.escape(phone)}$", reply, re.M)


def test_a_number_is_written_without_spaces():
    assert dialable("0700-8861 2356") == "0700-88612356"
