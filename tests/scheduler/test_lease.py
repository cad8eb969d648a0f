"""The lease the scheduler leader and each campaign run hold: one holder, and a lost lease stays lost."""
from __future__ import annotations

from scheduler.lease import Lease


async def test_one_holder_at_a_time_and_free_again_once_released(services):
    first, second = Lease(services.redis, "t-one", 10), Lease(services.redis, "t-one", 10)
    assert await first.acquire()
    assert not await second.acquire() and await second.held_by_anyone()
    assert await first.renew()
    await first.release()
    assert not await first.held_by_anyone()
    assert await second.acquire()


async def test_a_lost_lease_is_neither_renewed_nor_freed_for_its_new_holder(services):
    lost, taker = Lease(services.redis, "t-lost", 10), Lease(services.redis, "t-lost", 10)
    assert await lost.acquire()
    await services.redis.delete("xz:lease:t-lost")  # it ran out while its holder stalled
    assert await taker.acquire()
    assert not await lost.renew()
    await lost.release()  # nothing to give back: the new holder keeps it
    assert await taker.held_by_anyone() and await taker.renew()
