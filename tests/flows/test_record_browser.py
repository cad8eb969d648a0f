"""The record page on a phone (390x844) in a real browser: no label of the trend chart covers a
point or another label, the band names can be read, and the dates are the service's local days."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.app import create_app
from bot.appkeys import SERVICES
from bot.models import Resident
from flows.models import Assessment
from flows.record import make_token
from tests.conftest import make_config
from tests.handoff.test_browser import CHROMIUM, browser, pytestmark  # noqa: F401

PHONE = {"width": 390, "height": 844}
FIRST = datetime(2026, 5, 31, 16, 10, tzinfo=timezone.utc)  # 2026-06-01 00:10 in Beijing
# Totals that jump about between the ends of the range, as real ones can.
TOTALS = [27, 0, 26, 1, 14, 27, 3, 9, 20, 0, 27, 5, 16, 2, 25, 11, 0, 27, 8, 19, 4, 23, 13, 6, 21]


@pytest.fixture
async def server(aiohttp_server, clean_database, mock_wechat):
    config = make_config(clean_database, str(mock_wechat.make_url("")).rstrip("/"),
                         XZ_PUBLIC_URL="https://xinzhan.example.gov.cn")
    app = create_app(config)
    running = await aiohttp_server(app)
    await app[SERVICES].redis.flushdb()
    return running


async def resident_with(services, openid: str, count: int, every: timedelta) -> int:
    async with services.db.begin() as session:
        resident = Resident(openid=openid)
        session.add(resident)
        await session.flush()
        for i, total in enumerate(TOTALS[:count]):
            session.add(Assessment(resident_id=resident.id, scale="PHQ-9", answers=[0] * 9, total=total,
                                   band="minimal", source="chat", created_at=FIRST + i * every))
        return resident.id


def overlap(a: dict, b: dict) -> bool:
    return (a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
            and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"])


async def boxes(page, selector: str) -> list[tuple[str, dict]]:
    return [(await e.text_content(), await e.bounding_box()) for e in await page.query_selector_all(selector)]


@pytest.mark.parametrize("count,every", [(1, timedelta(days=1)), (3, timedelta(days=9)), (6, timedelta(days=14)),
                                         (12, timedelta(hours=12)), (25, timedelta(days=3))])
async def test_the_trend_chart_has_no_overlap_at_390_px(server, browser, count, every, tmp_path):
    services = server.app[SERVICES]
    resident_id = await resident_with(services, f"o-chart-{count}", count, every)
    page = await (await browser.new_context(viewport=PHONE, device_scale_factor=2)).new_page()
    response = await page.goto(str(server.make_url(f"/record/{make_token(services.config.secret_key, resident_id)}")))
    assert response.status == 200

    points = await boxes(page, "svg.trend circle.point")
    labels = await boxes(page, "svg.trend text")
    assert len(points) == count
    assert any(text == "6月1日" for text, _ in labels)  # 00:10 Beijing time is June 1st, not May 31st
    for i, (text, box) in enumerate(labels):
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], text
        for _, point in points:
            assert not overlap(box, point), f"label {text!r} covers a point"
        for other, other_box in labels[i + 1:]:
            assert not overlap(box, other_box), f"labels {text!r} and {other!r} overlap"

    legend = await page.query_selector_all("ul.legend li")
    names = [(await li.text_content()).split()[0] for li in legend]
    assert names == ["没有或极少抑郁症状", "轻度抑郁症状", "中度抑郁症状", "中重度抑郁症状", "重度抑郁症状"]
    for li in legend:
        box = await li.bounding_box()
        assert await li.is_visible() and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    await page.screenshot(path=str(tmp_path / f"record-{count}.png"), full_page=True)
