"""`xinzhan campaigns`: import tags from a CSV file and list campaigns."""
from __future__ import annotations

import json

from sqlalchemy import select

from bot.cli import main
from bot.models import Resident, ResidentTag
from tests.scheduler.conftest import make_campaign, make_residents


async def test_import_tags_and_list_from_the_command_line(services, app_config, tmp_path, monkeypatch, capsys):
    await make_residents(services, 1, prefix="cli")
    await make_campaign(services, name="季度复评")
    path = tmp_path / "tags.csv"
    path.write_text("openid,tags\ncli-0,students\n", encoding="utf-8")
    for name, value in (("XZ_WECHAT_TOKEN", "t"), ("XZ_WECHAT_APPID", "a"), ("XZ_WECHAT_SECRET", "s"),
                        ("XZ_DATABASE_URL", app_config.database_url)):
        monkeypatch.setenv(name, value)
    import asyncio
    assert await asyncio.to_thread(main, ["campaigns", "import-tags", str(path)]) == 0
    assert json.loads(capsys.readouterr().out)["tagged"] == 1
    assert await asyncio.to_thread(main, ["campaigns", "list"]) == 0
    assert "季度复评" in capsys.readouterr().out
    async with services.db() as session:
        assert await session.scalar(select(ResidentTag.tag).join(Resident)) == "students"
