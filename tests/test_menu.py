"""`xinzhan menu publish`: the data file is checked against the platform's limits and published."""
from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

from bot.wechat.menu import load_menu
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


async def test_publish_sets_the_menu_on_the_platform(mock_wechat, clean_database):
    env = {"PATH": "/usr/bin:/bin", "XZ_WECHAT_TOKEN": "t", "XZ_WECHAT_APPID": APPID, "XZ_WECHAT_SECRET": SECRET,
           "XZ_WECHAT_API_BASE": str(mock_wechat.make_url("")).rstrip("/"), "XZ_DATABASE_URL": clean_database}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "menu", "publish", env=env,
                                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    assert mock_wechat.state.menu == load_menu()
