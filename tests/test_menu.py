"""`xinzhan menu publish`: the data file is checked against the platform's limits and published."""
from __future__ import annotations

import asyncio
import subprocess
import sys

import aiohttp
import pytest

from bot.mock_wechat.menus import MENU_BOOK
from bot.wechat.menu import load_menu, load_menus, tag_name
from knowledge.content import ContentError
from tests.conftest import APPID, SECRET


def test_shipped_menu_uses_the_keys_the_router_answers():
    from flows.router import CONSENT_KEYS, MENU_KEYS

    menu = load_menu()
    keys = {b["key"] for top in menu["button"] for b in top.get("sub_button", [top]) if b.get("type") == "click"}
    assert keys == set(MENU_KEYS) | set(CONSENT_KEYS)


@pytest.mark.parametrize("body,line,problem", [
    ("button:\n  - {type: click, name: 这个名字实在是太长了, key: K}\n", 2, "bytes"),
    ("button:\n  - {name: A, sub_button: []}\n", 2, "sub-buttons"),
    ("button:\n  - {type: view, name: A, url: ftp://x}\n", 2, "type click"),
    ("button:\n" + "  - {type: click, name: A, key: K}\n" * 4, 1, "top buttons"),
])
def test_bad_menu_file_names_its_line(tmp_path, body, line, problem):
    path = tmp_path / "menu.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ContentError) as err:
        load_menu(path)
    assert err.value.line == line and problem in str(err.value)


async def publish(mock_wechat, clean_database) -> str:
    env = {"PATH": "/usr/bin:/bin", "XZ_WECHAT_TOKEN": "t", "XZ_WECHAT_APPID": APPID, "XZ_WECHAT_SECRET": SECRET,
           "XZ_WECHAT_API_BASE": str(mock_wechat.make_url("")).rstrip("/"), "XZ_DATABASE_URL": clean_database}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "menu", "publish", env=env,
                                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return out.decode()


def names(menu: dict) -> list[str]:
    return [b["name"] for b in menu["button"]]


def test_every_language_has_the_same_buttons_named_in_it():
    menus = load_menus()
    assert list(menus) == ["zh-Hans", "zh-Hant", "en"]
    assert names(menus["en"]) == ["Support", "Near me", "Counsellor"] and names(menus["zh-Hant"])[2] == "找諮詢師"
    keys = {lang: [b.get("key") for top in m["button"] for b in top.get("sub_button", [top])] for lang, m in menus.items()}
    assert keys["zh-Hans"] == keys["zh-Hant"] == keys["en"]


def test_a_name_too_long_in_one_language_names_it(tmp_path):
    path = tmp_path / "menu.yaml"
    path.write_text("languages: [zh-Hans, en]\nbutton:\n  - {type: click, key: K, name: {zh-Hans: 心理, en: Psychological support}}\n",
                    encoding="utf-8")
    with pytest.raises(ContentError) as err:
        load_menus(path)
    assert err.value.line == 3 and "(en)" in str(err.value)


async def test_publish_sets_the_default_menu_and_one_conditional_menu_per_language(mock_wechat, clean_database):
    out = await publish(mock_wechat, clean_database)
    await publish(mock_wechat, clean_database)  # again: the old conditional menus are gone, not doubled
    book = mock_wechat.app[MENU_BOOK]
    assert mock_wechat.state.menu == load_menu() and "en (tag" in out
    by_tag = {book.tags[int(m["matchrule"]["tag_id"])]: m["button"] for m in book.conditional}
    assert by_tag == {tag_name("zh-Hant"): load_menus()["zh-Hant"]["button"], tag_name("en"): load_menus()["en"]["button"]}
    assert all(set(m["matchrule"]) == {"tag_id"} for m in book.conditional)  # never the refused language rule


async def test_the_platform_refuses_a_menu_matched_by_client_language(mock_wechat):
    async with aiohttp.ClientSession() as http:
        token = await (await http.get(mock_wechat.make_url("/cgi-bin/token"),
                                      params={"appid": APPID, "secret": SECRET})).json()
        resp = await http.post(mock_wechat.make_url("/cgi-bin/menu/addconditional"),
                               params={"access_token": token["access_token"]},
                               json={**load_menus()["en"], "matchrule": {"language": "en"}})
        assert (await resp.json())["errcode"] == 65320


async def test_the_menu_follows_the_language_the_resident_chooses(mock_wechat, clean_database, platform, services):
    await publish(mock_wechat, clean_database)
    book = mock_wechat.app[MENU_BOOK]
    assert book.menu_for("o-lang") == load_menu()
    await platform.text("o-lang", "English")
    await services.tasks.join()
    assert names(book.menu_for("o-lang")) == ["Support", "Near me", "Counsellor"]
    await platform.text("o-lang", "繁體")
    await services.tasks.join()
    assert names(book.menu_for("o-lang")) == ["心理服務", "活動站點", "找諮詢師"]
    await platform.text("o-lang", "简体")
    await services.tasks.join()
    assert book.menu_for("o-lang") == load_menu() and book.members["o-lang"] == []


async def test_a_tag_the_platform_will_not_set_leaves_the_menu_and_the_turn_alone(mock_wechat, caplog):
    from bot.redis_conn import connect_redis
    from bot.wechat.api import WeChatAPI
    from bot.wechat.menu_api import follow_language
    from tests.conftest import REAL_REDIS

    redis = connect_redis(REAL_REDIS)
    async with aiohttp.ClientSession() as http:
        api = WeChatAPI(http, redis, base="http://127.0.0.1:9/nowhere", appid=APPID, secret=SECRET, backoff=0.01)
        await follow_language(api, "o-away", "en", ("zh-Hans", "zh-Hant", "en"))  # no platform: no exception
    await redis.aclose()
    assert any(r.message == "menu language tag not updated" for r in caplog.records)
