"""A drainer killed between taking a spooled message and finishing it loses nothing: the entry stays
taken under a lease, and once the lease lapses a later drain writes it, once. A live drainer's
entry is never given away, and an entry given back is never put back a second time."""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from bot import spool_drain
from bot.models import Message
from bot.spool_drain import drain_once
from bot.stores.spool import Spool
from bot.values import Inbound, Reply

DEAD = 0  # a drainer that died: its lease has lapsed by the time anyone looks


@pytest.fixture(autouse=True)
def only_the_tests_drain(monkeypatch):
    """The service's own drainer loop stands idle, so each drain here is the only one."""
    async def idle(services) -> int:
        return 0

    monkeypatch.setattr(spool_drain, "drain_once", idle)


def spooled(openid: str, msg_id: str, text: str = "我不想活了") -> Inbound:
    return Inbound(openid, "text", datetime.now(timezone.utc), text=text, msg_id=msg_id)


def recording_turns(services) -> list[str]:
    seen: list[str] = []

    async def record_stage(turn):
        seen.append(turn.inbound.text)
        return [Reply(text="收到")]

    services.pipeline.add(1, "record", record_stage)
    return seen


async def inbound_rows(services) -> list[tuple[str, str]]:
    async with services.db() as session:
        rows = await session.execute(select(Message.platform_msg_id, Message.content)
                                     .where(Message.direction == "in").order_by(Message.id))
    return [tuple(row) for row in rows]


async def test_an_entry_whose_drainer_died_before_writing_is_written_by_a_later_drain(services):
    seen = recording_turns(services)
    await services.spool.hold(spooled("o-died", "920001"), "busy")
    taken = await Spool(services.redis, lease=DEAD).take()  # then the worker was killed
    assert taken.inbound.msg_id == "920001"
    assert (await services.spool.size(), await services.spool.in_progress()) == (0, 1)
    assert await drain_once(services) == 1
    assert (await services.spool.size(), await services.spool.in_progress()) == (0, 0)
    assert await inbound_rows(services) == [("920001", "我不想活了")]
    assert seen == ["我不想活了"]


async def test_an_entry_whose_drainer_died_after_writing_is_not_written_twice(services):
    seen = recording_turns(services)
    await services.spool.hold(spooled("o-half", "920002"), "busy")
    taken = await Spool(services.redis, lease=DEAD).take()
    await services.transcript.record_inbound(taken.inbound, late=True)  # written, then the worker was killed
    assert await drain_once(services) == 1
    assert await inbound_rows(services) == [("920002", "我不想活了")]
    assert seen == ["我不想活了"]  # its turn had not run: it runs now


async def test_entries_given_back_keep_their_place_before_later_messages(services):
    recording_turns(services)
    dead = Spool(services.redis, lease=DEAD)
    for n in range(3):
        await services.spool.hold(spooled("o-order", f"92001{n}", f"第{n}条"), "busy")
    await dead.take()
    await dead.take()
    assert await drain_once(services) == 3
    assert [content for _, content in await inbound_rows(services)] == ["第0条", "第1条", "第2条"]


async def test_a_live_drainers_entry_is_not_given_back(services):
    await services.spool.hold(spooled("o-live", "920003"), "busy")
    live = Spool(services.redis)
    taken = await live.take()
    assert await services.spool.give_back_lapsed() == 0
    assert (await services.spool.size(), await services.spool.in_progress()) == (0, 1)
    await live.done(taken)
    assert (await services.spool.size(), await services.spool.in_progress()) == (0, 0)


async def test_a_lease_is_renewed_while_the_entry_is_worked_on(services):
    await services.spool.hold(spooled("o-slow", "920004"), "busy")
    slow = Spool(services.redis, lease=1.5)
    taken = await slow.take()
    lapses_at = await _redis_ms(services) + 1500
    async with slow.working_on(taken):
        while await _redis_ms(services) < lapses_at + 500:  # past the first lease, on Redis' clock
            await asyncio.sleep(0.1)
        assert await services.spool.give_back_lapsed() == 0
    assert await services.spool.in_progress() == 1
    await slow.done(taken)


async def test_a_late_put_back_of_an_entry_already_given_back_does_not_double_it(services):
    await services.spool.hold(spooled("o-slow", "920005"), "busy")
    dead = Spool(services.redis, lease=DEAD)
    taken = await dead.take()
    assert await services.spool.give_back_lapsed() == 1
    await dead.put_back(taken)  # the drainer was not dead after all, only stalled past its lease
    await dead.park(taken)
    assert (await services.spool.size(), await services.spool.in_progress(), await services.spool.parked()) == (1, 0, 0)
    assert await drain_once(services) == 1
    assert await inbound_rows(services) == [("920005", "我不想活了")]


async def _redis_ms(services) -> int:
    seconds, micros = await services.redis.time()
    return seconds * 1000 + micros // 1000
