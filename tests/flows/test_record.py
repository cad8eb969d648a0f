"""The mental-health record: the history link in the chat, the signed page with its trend chart,
and paper questionnaires entered by staff through POST /api/assessments."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from flows.models import Assessment
from flows.record import make_token, read_token
from tests.conftest import make_config
from tests.flows.test_assessment import take

pytestmark = pytest.mark.usefixtures("consented")  # their residents agreed to keep results
PUBLIC_URL = "https://xinzhan.example.gov.cn"


@pytest.fixture
async def app_config(clean_database, mock_wechat, aes_key):
    """The service knows its public address, as every deployment and the demo do."""
    return make_config(clean_database, str(mock_wechat.make_url("")).rstrip("/"), XZ_WECHAT_AES_KEY=aes_key,
                       XZ_PUBLIC_URL=PUBLIC_URL)


async def record_link(resident) -> str:
    answer = await resident.answer("档案")
    assert "<MsgType><![CDATA[news]]></MsgType>" in answer.xml and "<ArticleCount>1</ArticleCount>" in answer.xml
    return re.search(r"<Url><!\[CDATA\[(.*?)\]\]></Url>", answer.xml).group(1)


async def test_history_with_no_results_says_how_to_start(resident, say):
    assert await resident.say("我的记录") == say("record.empty")


async def test_history_is_a_news_link_to_a_page_with_a_trend_chart(client, resident, say):
    await take(resident, "PHQ-9", [1] * 8 + [0])  # item 9 at 0: a positive one starts the safety check
    await take(resident, "PHQ-9", [2] * 8 + [0])
    await take(resident, "GAD-7", [0] * 7)
    url = await record_link(resident)
    assert url.startswith(PUBLIC_URL + "/record/")  # absolute: WeChat and the simulator open it as it is
    resp = await client.get(url[len(PUBLIC_URL):])
    page = await resp.text()
    assert resp.status == 200 and resp.headers["Cache-Control"] == "no-store"
    assert page.count("<svg") == 2  # one chart per scale
    assert re.search(r"<polyline points=\"[\d., ]+\"", page)
    assert "抑郁症状自评（PHQ-9）" in page and "<td>16</td>" in page and "<td>8</td>" in page
    assert "http" not in page.split("<svg", 1)[1].replace("http://www.w3.org/2000/svg", "")  # nothing fetched


async def test_without_a_public_url_the_history_says_so_instead_of_a_dead_link(aiohttp_client, app_config,
                                                                                  clean_database, mock_wechat, say):
    from bot.app import create_app
    from bot.appkeys import SERVICES
    from tests.flows.conftest import Resident
    from tests.platform import Platform

    config = make_config(clean_database, str(mock_wechat.make_url("")).rstrip("/"))
    client = await aiohttp_client(create_app(config))
    resident = Resident(Platform(client, config), client.server.app[SERVICES], "o-no-public-url")
    await resident.consent()
    await take(resident, "PHQ-2", [0, 0])
    answer = await resident.answer("档案")
    assert answer.text == say("record.no_link") and "/record/" not in answer.xml


async def test_record_page_refuses_forged_and_expired_links(client, resident, services):
    await take(resident, "PHQ-2", [0, 0])
    url = await record_link(resident)
    token = url.rsplit("/", 1)[1]
    resident_id, expires, signature = token.split(".")
    forged = f"{int(resident_id) + 1}.{expires}.{signature}"
    for bad in (forged, "1.2.3", "nonsense", f"{resident_id}.{expires}.签名"):
        resp = await client.get(f"/record/{bad}")
        assert resp.status == 404 and "<svg" not in await resp.text()
    secret = services.config.secret_key
    assert read_token(secret, make_token(secret, 5, now=1000.0), now=1000.0 + 8 * 86400) is None
    assert read_token(secret, make_token(secret, 5, now=1000.0), now=1000.0 + 86400) == 5


# -- paper questionnaires -------------------------------------------------------------------------
async def rows(services) -> list[Assessment]:
    async with services.db() as session:
        return list(await session.scalars(select(Assessment)))


async def test_staff_enter_a_paper_questionnaire_scored_like_the_chat(client, resident, services, staff_login):
    headers = await staff_login("counsellor1", "counsellor")
    resp = await client.post("/api/assessments", json={"openid": resident.openid, "scale": "epds",
                                                       "answers": [0, 0, 3, 0, 3, 3, 3, 3, 3, 2],
                                                       "paper_consent": True}, headers=headers)
    assert resp.status == 201
    body = await resp.json()
    assert (body["scale"], body["total"], body["band"]) == ("EPDS", 1, "unlikely")
    assert body["flags"] == ["item10_positive"] and body["safety_positive"] is True
    [row] = await rows(services)
    assert (row.source, row.total, row.answers) == ("paper", 1, [0, 0, 3, 0, 3, 3, 3, 3, 3, 2])
    assert row.entered_by is not None
    # the same answers through the chat give the same result
    await take(resident, "EPDS", [0, 0, 3, 0, 3, 3, 3, 3, 3, 2])
    chat = [r for r in await rows(services) if r.source == "chat"][0]
    assert (chat.total, chat.band, chat.flags) == (row.total, row.band, row.flags)


@pytest.mark.parametrize("body,message", [
    ({"openid": "o-flows-resident", "scale": "PHQ-10", "answers": [0] * 9}, "unknown scale"),
    ({"openid": "o-flows-resident", "scale": "PHQ-9", "answers": [0] * 8}, "needs 9 answers"),
    ({"openid": "o-flows-resident", "scale": "PHQ-9", "answers": [0] * 8 + [4]}, "answers run 0-3"),
    ({"openid": "o-flows-resident", "scale": "K10", "answers": [0] * 10}, "answers run 1-5"),
    ({"openid": "o-flows-resident", "scale": "PHQ-9", "answers": "0,0,0"}, "'answers' must be a list"),
    ({"scale": "PHQ-9", "answers": [0] * 9}, "exactly one of 'openid' or 'resident_id'"),
    ({"resident_id": "7", "scale": "PHQ-9", "answers": [0] * 9}, "'resident_id' must be a whole number"),
])
async def test_bad_paper_input_is_refused_and_nothing_saved(client, resident, services, staff_login, body, message):
    headers = await staff_login("counsellor1", "counsellor")
    resp = await client.post("/api/assessments", json=body, headers=headers)
    assert resp.status == 400
    assert message in (await resp.json())["error"]
    assert await rows(services) == []


async def test_paper_questionnaire_for_unknown_resident_is_404(client, services, staff_login):
    headers = await staff_login("admin1", "admin")
    resp = await client.post("/api/assessments", json={"openid": "o-nobody", "scale": "PHQ-2", "answers": [0, 0],
                                                       "paper_consent": True}, headers=headers)
    assert resp.status == 404 and await rows(services) == []


async def test_paper_questionnaires_need_a_staff_login_and_role(client, resident, services, staff_login):
    body = {"openid": resident.openid, "scale": "PHQ-2", "answers": [0, 0], "paper_consent": True}
    assert (await client.post("/api/assessments", json=body)).status == 401
    headers = await staff_login("reviewer1", "reviewer")
    assert (await client.post("/api/assessments", json=body, headers=headers)).status == 403
    headers = await staff_login("counsellor1", "counsellor")
    assert (await client.post("/api/assessments", json=body)).status == 403  # no CSRF header
    assert await rows(services) == []


@pytest.mark.parametrize("confirmation", [{}, {"paper_consent": False}, {"paper_consent": "yes"}])
async def test_a_paper_questionnaire_needs_the_paper_consent_form_confirmed(client, resident, services, staff_login,
                                                                            confirmation):
    headers = await staff_login("counsellor1", "counsellor")
    body = {"openid": resident.openid, "scale": "PHQ-2", "answers": [1, 1], **confirmation}
    resp = await client.post("/api/assessments", json=body, headers=headers)
    assert resp.status == 400
    assert "'paper_consent' must be true" in (await resp.json())["error"]
    assert await rows(services) == []


async def test_a_confirmed_paper_form_is_in_the_consent_history(client, resident, services, staff_login):
    from bot.consent import ConsentEvent

    headers = await staff_login("counsellor1", "counsellor")
    body = {"openid": resident.openid, "scale": "PHQ-2", "answers": [1, 1], "paper_consent": True}
    assert (await client.post("/api/assessments", json=body, headers=headers)).status == 201
    async with services.db() as session:
        form = await session.scalar(select(ConsentEvent).where(ConsentEvent.kind == "paper_form"))
    assert (form.channel, form.detail) == ("paper", "PHQ-2") and form.staff_id is not None


def test_the_demo_links_records_to_its_own_address(monkeypatch):
    from bot.commands.demo import demo_config

    monkeypatch.delenv("XZ_PUBLIC_URL", raising=False)
    assert demo_config(9123).public_url == "http://127.0.0.1:9123"
