"""A worker killed with SIGKILL in the middle of a turn: the platform's retries reach the surviving
worker, which answers; a crisis message's case still reaches the queue.

Two single-worker `xinzhan serve` processes share a Redis server and a PostgreSQL database; the
first try goes to worker A, the retries to worker B (a balancer routes around a dead upstream).
Turns are held where the test wants them with the servers' own locks, no test-only code: the
resident's Redis lock (held by the test) or a PostgreSQL table lock on the cases table.
"""
from __future__ import annotations

import asyncio
import contextlib
import itertools
import signal
import time

import aiohttp
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.redis_conn import connect_redis
from bot.models import Resident
from handoff.models import Case
from handoff.queue import CaseQueue
from tests.conftest import make_config, needs_real_db
from tests.faults.conftest import free_port, worker_env
from tests.faults.retrying import RetryingPlatform, duplicate_pushes, text_xml
from tests.faults.test_redis_restart import CRISIS, wait_until

_ids = itertools.count(int(time.time() * 1000) * 10 + 5_000_000)


@pytest.fixture
async def pair(clean_database, mock_wechat, own_redis, workers):
    """Workers A and B, a platform sending the first try to A and the retries to B, and the shared stores."""
    api = str(mock_wechat.make_url("")).rstrip("/")
    ports = free_port(), free_port()
    procs = [await workers.start(worker_env(clean_database, own_redis.url, api, port)) for port in ports]
    sessions = [aiohttp.ClientSession(base_url=f"http://127.0.0.1:{port}") for port in ports]
    config = make_config(clean_database, api, XZ_REDIS_URL=own_redis.url)
    redis = connect_redis(own_redis.url)
    engine = create_async_engine(clean_database)
    yield procs, RetryingPlatform(sessions, config), redis, engine
    for session in sessions:
        await session.close()
    await redis.aclose()
    await engine.dispose()


async def kill(proc) -> None:
    proc.send_signal(signal.SIGKILL)
    await asyncio.to_thread(proc.wait)


async def inbound_rows(engine, msg_id: str) -> int:
    async with engine.connect() as conn:
        return await conn.scalar(text("SELECT count(*) FROM messages WHERE direction = 'in' AND platform_msg_id = :m"),
                                 {"m": msg_id})


@needs_real_db
async def test_retry_after_a_worker_killed_mid_turn_is_answered_by_the_survivor(pair, mock_wechat):
    (a, _b), platform, redis, engine = pair
    msg_id = str(next(_ids))
    xml = text_xml("o-killed-turn", "菜单", int(msg_id))
    held = redis.lock("xz:lock:resident:o-killed-turn", timeout=60)  # the turn on A waits behind this
    assert await held.acquire()
    first = asyncio.create_task(platform.try_once(xml, 0))
    claimed = await wait_until(lambda: redis.exists(f"xz:dedup:m:o-killed-turn:{msg_id}"), timeout=10, every=0.02)
    assert claimed, "worker A never took the message"
    await kill(a)
    await held.release()
    assert await first is None  # the platform saw A's connection drop

    answer = await platform.deliver(xml, msg_id, retries_only=True)  # to B, 5 s apart
    sent = [m for m in mock_wechat.state.sent if m["touser"] == "o-killed-turn"]
    assert answer is not None and (answer.text or sent), "the survivor never answered the retried message"
    assert await inbound_rows(engine, msg_id) == 1
    assert duplicate_pushes(mock_wechat.state) == []


@needs_real_db
@pytest.mark.parametrize("gap", [0.0, 5.0], ids=["retry-at-once", "retries-5s-apart"])
async def test_messages_in_flight_on_a_killed_worker_are_each_written_and_answered(pair, mock_wechat, gap):
    """Six residents' first tries are mid-turn on A (each held behind its resident's lock) when A is
    killed; the platform retries each on B at once or 5 s later. Whatever B answers, every message
    is written once and its turn runs (its reply goes out through the API), the crisis reaches the
    queue, and nothing is sent twice: no retry's `success` stands for a message nobody kept."""
    (a, _b), platform, redis, engine = pair
    platform.gap = gap
    people = [f"o-inflight-{n}" for n in range(6)]
    texts = {openid: ("菜单" if n else CRISIS) for n, openid in enumerate(people)}
    ids = {openid: str(next(_ids)) for openid in people}
    held = [redis.lock(f"xz:lock:resident:{openid}", timeout=60) for openid in people]
    for lock in held:
        assert await lock.acquire()
    xmls = {openid: text_xml(openid, texts[openid], int(ids[openid])) for openid in people}
    firsts = [asyncio.create_task(platform.try_once(xmls[openid], 0)) for openid in people]

    async def all_claimed():
        return all([await redis.exists(f"xz:dedup:m:{openid}:{ids[openid]}") for openid in people])

    assert await wait_until(all_claimed, timeout=10, every=0.02), "worker A never took every message"
    await kill(a)
    for lock in held:
        await lock.release()
    assert await asyncio.gather(*firsts) == [None] * len(people)  # the platform saw A's connections drop

    answers = await asyncio.gather(*(platform.deliver(xmls[o], ids[o], retries_only=True) for o in people))
    assert all(answer is not None for answer in answers), "the platform gave up on a message"

    async def every_turn_ran():
        return all(mock_wechat.state.sent_to(openid) or answer.text for openid, answer in zip(people, answers))

    assert await wait_until(every_turn_ran, timeout=25), "a message was answered but its turn never ran"
    for openid in people:
        assert await inbound_rows(engine, ids[openid]) == 1, f"{openid}'s message is not in the transcript once"
    async with engine.connect() as conn:
        crisis_case = await conn.scalar(select(Case.id).join(Resident, Resident.id == Case.resident_id)
                                        .where(Resident.openid == people[0]))
    assert crisis_case is not None, "the crisis in flight never became a case"
    assert duplicate_pushes(mock_wechat.state) == []


@needs_real_db
async def test_a_worker_killed_while_opening_a_handoff_leaves_the_case_queued(pair, mock_wechat):
    (a, _b), platform, redis, engine = pair
    msg_id = str(next(_ids))
    xml = text_xml("o-killed-handoff", CRISIS, int(msg_id))
    async with engine.connect() as blocker:
        await blocker.execute(text("LOCK TABLE handoff_cases IN SHARE MODE"))  # case inserts wait
        first = asyncio.create_task(platform.try_once(xml, 0))
        waiting = await wait_until(lambda: _insert_waiting(engine), timeout=10, every=0.05)
        assert waiting, "worker A never reached the case insert"
        await kill(a)
        await blocker.rollback()
    assert await first is None

    answer = await platform.deliver(xml, msg_id, retries_only=True)
    assert answer is not None
    queue = CaseQueue(redis)

    async def queued_case():
        async with engine.connect() as conn:
            case_id = await conn.scalar(select(Case.id).where(Case.status == "waiting"))
        return case_id is not None and case_id in await queue.waiting() and case_id

    assert await wait_until(queued_case, timeout=25), "the crisis case never reached the queue"
    assert await inbound_rows(engine, msg_id) >= 1
    assert duplicate_pushes(mock_wechat.state) == []


async def _insert_waiting(engine) -> bool:
    async with engine.connect() as conn:
        return bool(await conn.scalar(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND query ILIKE 'INSERT INTO handoff_cases%'")))
