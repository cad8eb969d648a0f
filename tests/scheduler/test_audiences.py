"""Audience rules: one query, the opt-out and unsubscribe exclusions, keyset batches."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from bot.db import utcnow
from bot.models import Resident
from scheduler import audiences
from scheduler.audiences import AudienceRule
from tests.scheduler.conftest import make_residents


async def members(services, rule: AudienceRule, **kw) -> set[str]:
    where = audiences.conditions(rule, now=utcnow(), **kw)
    return {r.openid async for batch in audiences.batches(services.db, where, size=3) for r in batch}


async def test_tags_any_all_and_none_combine(services):
    await make_residents(services, 1, prefix="student", tags=("students",))
    await make_residents(services, 1, prefix="student-area", tags=("students", "area:east"))
    await make_residents(services, 1, prefix="elder", tags=("elderly",))
    await make_residents(services, 1, prefix="nobody")
    assert await members(services, AudienceRule(tags_any=("students", "elderly"))) == \
        {"student-0", "student-area-0", "elder-0"}
    assert await members(services, AudienceRule(tags_all=("students", "area:east"))) == {"student-area-0"}
    assert await members(services, AudienceRule(tags_any=("students",), tags_none=("area:east",))) == {"student-0"}


async def test_area_and_last_active_filter(services):
    [east, _] = await make_residents(services, 2, prefix="east", area="东城")
    async with services.db.begin() as session:
        await session.execute(update(Resident).where(Resident.id == east)
                              .values(last_inbound_at=utcnow() - timedelta(days=2)))
    assert await members(services, AudienceRule(area="东城")) == {"east-0", "east-1"}
    assert await members(services, AudienceRule(area="东城", active_within_days=7)) == {"east-0"}


async def test_opted_out_and_unsubscribed_residents_are_never_in_a_push_audience(services):
    await make_residents(services, 1, prefix="in", tags=("students",))
    await make_residents(services, 1, prefix="optout", tags=("students", "optout:campaigns"))
    await make_residents(services, 1, prefix="gone", tags=("students",), subscribed=False)
    assert await members(services, AudienceRule(tags_any=("students",))) == {"in-0"}
    assert await members(services, AudienceRule(tags_any=("students",), subscribed=False)) == {"in-0"}


async def test_customer_service_audience_is_only_residents_inside_48_hours(services):
    [recent, old] = await make_residents(services, 2, prefix="cs")
    async with services.db.begin() as session:
        await session.execute(update(Resident).where(Resident.id == recent).values(last_inbound_at=utcnow()))
        await session.execute(update(Resident).where(Resident.id == old)
                              .values(last_inbound_at=utcnow() - timedelta(hours=49)))
    assert await members(services, AudienceRule(), cs_only=True) == {"cs-0"}


async def test_size_is_counted_and_batches_cover_everyone_once(services):
    await make_residents(services, 11, prefix="many", tags=("t",))
    where = audiences.conditions(AudienceRule(tags_any=("t",)), now=utcnow())
    assert await audiences.count(services.db, where) == 11
    seen = [r.id async for batch in audiences.batches(services.db, where, size=4) for r in batch]
    assert len(seen) == len(set(seen)) == 11 and seen == sorted(seen)


def test_rule_from_a_form_normalises_tags():
    rule = AudienceRule.from_dict({"tags_any": "students, elderly students", "active_within_days": "30"})
    assert rule.tags_any == ("elderly", "students") and rule.active_within_days == 30
    assert AudienceRule.from_dict(rule.to_dict()) == rule
