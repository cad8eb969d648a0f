"""Schedules counted from enrolment: the day a resident first got a programme tag."""
from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import insert, select, text, update
from sqlalchemy.ext.asyncio import create_async_engine

from bot import tags
from bot.migrate import alembic_config
from bot.models import ResidentTag
from scheduler import jobs
from scheduler.models import Campaign
from tests.conftest import REAL_DB, TEST_DB_NAME
from tests.scheduler.conftest import TEST_SETTINGS, make_campaign, make_residents
from tests.scheduler.test_admin import as_admin, csrf
from tests.scheduler.test_schedules import runs_done, template_sends, wait_until

SHANGHAI = TEST_SETTINGS.timezone
ENROLMENT_SCHEDULE = {"kind": "relative", "anchor": "enrolment", "tag": "students", "offset_days": 30,
                      "every_days": 180}


def local(*args) -> datetime:
    """A Shanghai wall-clock time, as UTC: SQLite stores an aware datetime's wall clock as it is."""
    return datetime(*args, tzinfo=SHANGHAI).astimezone(timezone.utc)


async def enrol(services, resident_id: int, tag: str, at: datetime) -> None:
    async with services.db.begin() as session:
        await session.execute(insert(ResidentTag), [{"resident_id": resident_id, "tag": tag, "created_at": at}])


async def test_enrolment_schedule_reaches_residents_on_their_local_day(out, services, mock_wechat):
    [just_after_midnight, late_evening, half_year, other_programme, later_tag] = await make_residents(
        services, 5, prefix="enr")
    await enrol(services, just_after_midnight, "students", local(2025, 2, 1, 0, 30))  # 1 Feb local, 31 Jan UTC
    await enrol(services, late_evening, "students", local(2025, 1, 31, 23, 30))  # due a day earlier
    await enrol(services, half_year, "students", local(2025, 2, 1, 12, 0) - timedelta(days=180))
    await enrol(services, other_programme, "elderly", local(2025, 2, 1, 12, 0))
    await enrol(services, later_tag, "students", local(2025, 2, 2, 9, 0))
    await enrol(services, later_tag, "daily_tip", local(2025, 2, 1, 9, 0))  # another tag's date does not count
    campaign = await make_campaign(services, schedule=ENROLMENT_SCHEDULE)
    due_day = date(2025, 2, 1) + timedelta(days=30)
    assert len(await jobs.fire_due(out, campaign, due_day.isoformat())) == 1
    await wait_until(lambda: runs_done(services, campaign))
    assert set(template_sends(mock_wechat)) == {"enr-0", "enr-2"}


async def test_tagging_again_keeps_the_first_enrolment_date(services):
    [resident] = await make_residents(services, 1, prefix="again")
    assert await tags.add_tags(services.db, resident, ["students"]) == 1
    first = local(2024, 9, 1, 10, 0)
    async with services.db.begin() as session:
        await session.execute(update(ResidentTag).values(created_at=first))
    assert await tags.add_tags(services.db, resident, ["students"]) == 0
    result = await tags.import_csv(services.db, "openid,tags\nagain-0,students;elderly\n")
    assert result.tagged == 1 and not result.errors
    async with services.db() as session:
        dates = dict((await session.execute(select(ResidentTag.tag, ResidentTag.created_at))).all())
    assert aware(dates["students"]) == first
    assert aware(dates["elderly"]) > first


def aware(stored: datetime) -> datetime:
    """SQLite hands back naive UTC; PostgreSQL an aware datetime."""
    return stored if stored.tzinfo else stored.replace(tzinfo=timezone.utc)


async def test_enrolment_schedule_naming_an_unknown_tag_is_refused_and_nothing_saved(sched_client, services):
    client = await as_admin(sched_client, services)
    await make_residents(services, 1, prefix="known", tags=("students",))
    token = await csrf(client, "/admin/campaigns")
    form = {"_csrf": token, "name": "入学后30天", "channel": "template", "template_id": "SERVICE_NOTICE", "field.SERVICE_NOTICE.thing1": "hi",
            "kind": "relative", "anchor": "enrolment", "offset_days": "30", "every_days": "180"}
    typo = await client.post("/admin/campaigns", data={**form, "programme_tag": "studnets"})
    assert typo.status == 400 and "unknown tag &#39;studnets&#39;" in await typo.text()
    missing = await client.post("/admin/campaigns", data=form)
    assert missing.status == 400 and "programme tag" in await missing.text()
    async with services.db() as session:
        assert await session.scalar(select(Campaign.id)) is None
    saved = await client.post("/admin/campaigns", data={**form, "programme_tag": "students"}, allow_redirects=False)
    assert saved.status == 302
    async with services.db() as session:
        assert (await session.scalar(select(Campaign.schedule)))["tag"] == "students"
    assert "「students」 后 30 天" in await (await client.get("/admin/campaigns")).text()


async def _migration_database() -> str:
    if not REAL_DB:
        return ""
    name = f"{TEST_DB_NAME}_tag_dates"
    admin = create_async_engine(REAL_DB, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        await conn.execute(text(f"CREATE DATABASE {name}"))
    await admin.dispose()
    return REAL_DB.rsplit("/", 1)[0] + "/" + name


async def test_migration_dates_existing_tags_with_their_residents_first_contact(tmp_path):
    from alembic import command

    url = await _migration_database() or f"sqlite+aiosqlite:///{tmp_path / 'tags.db'}"
    cfg = alembic_config(url)
    await asyncio.to_thread(command.upgrade, cfg, "0002_staff")
    joined = local(2024, 5, 6, 7, 8)
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(
                "INSERT INTO residents (id, openid, subscribed, language, area, name, scene, created_at) "
                "VALUES (1, 'o-old', true, 'zh-Hans', '', '', '', :at)"), {"at": joined})
            await conn.execute(text("INSERT INTO resident_tags (resident_id, tag) VALUES (1, 'students')"))
        await asyncio.to_thread(command.upgrade, cfg, "heads")
        async with engine.connect() as conn:
            stored = (await conn.execute(select(ResidentTag.created_at))).scalar_one()
    finally:
        await engine.dispose()
        if REAL_DB:
            admin = create_async_engine(REAL_DB, isolation_level="AUTOCOMMIT")
            async with admin.connect() as conn:
                await conn.execute(text(f"DROP DATABASE IF EXISTS {TEST_DB_NAME}_tag_dates WITH (FORCE)"))
            await admin.dispose()
    assert aware(stored) == joined
