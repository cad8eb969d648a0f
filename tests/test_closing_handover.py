"""A turn answered in time hands its closing writes and its lock's release to the webhook, which sends
them in one round trip with the answer kept for retries (bot/stores/locks.py `Handover`): the next
message finds them written, and a closing round trip that fails loses nothing: the lock lapses and a
drainer runs the turn again, whole."""
from __future__ import annotations

import asyncio
import itertools
import time
from contextlib import contextmanager
from typing import Iterator

from redis.asyncio.client import Pipeline
from redis.asyncio.lock import Lock
from redis.exceptions import ConnectionError as RedisConnectionError

from bot.app import create_app
from bot.appkeys import SERVICES
from bot.stores import dedup
from bot.stores.locks import ResidentLocks
from bot.stores.state import FlowState, StateStore
from bot.values import Reply
from tests.conftest import make_config, settle
from tests.faults.retrying import inbound_counts
from tests.faults.test_redis_restart import wait_until
from tests.platform import Platform
from tests.test_webhook import ECHO_ORDER

_ids = itertools.count(int(time.time() * 1000) * 10 + 7_000_000)


def step_flow(services):
    """A stage that answers with the flow state it read and leaves the state `after:<text>`."""
    async def step(turn):
        before = await services.states.get(turn.inbound.openid)
        await services.states.set(turn.inbound.openid, FlowState("steps", f"after:{turn.inbound.text}"))
        return [Reply(text=f"seen:{before.state if before else None}")]
    return step


@contextmanager
def closing_lost(monkeypatch) -> Iterator[list[int]]:
    """The round trip that releases a lock and keeps an answer fails once, as a dropped connection does."""
    working, refused = Pipeline.execute, []

    async def execute(pipe, *args, **kwargs):
        sent = [arg for command, _ in pipe.command_stack for arg in command]
        if not refused and Lock.LUA_RELEASE_SCRIPT in sent and any(str(a).startswith("xz:dedup:") for a in sent):
            refused.append(1)
            raise RedisConnectionError("Connection reset by peer")
        return await working(pipe, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(Pipeline, "execute", execute)
        yield refused


async def test_an_answered_turn_has_its_writes_in_redis_and_its_lock_free(platform, services):
    services.pipeline.add(ECHO_ORDER, "steps", step_flow(services))
    answer = await platform.text("o-handed", "第一")
    assert answer.text == "seen:None"
    assert (await services.states.get("o-handed")).state == "after:第一"  # sent before the answer
    assert await services.redis.get(services.locks.key("o-handed")) is None
    assert await services.spool.in_progress() == 0
    assert (await platform.text("o-handed", "第二")).text == "seen:after:第一"


async def test_a_message_waiting_for_the_lock_sees_what_the_turn_before_handed_over(platform, services):
    first_inside, release_first = asyncio.Event(), asyncio.Event()
    step = step_flow(services)

    async def held_first(turn):
        if turn.inbound.text == "第一":
            first_inside.set()
            await release_first.wait()
        return await step(turn)

    services.pipeline.add(ECHO_ORDER, "steps", held_first)
    second_id = next(_ids)
    first = asyncio.create_task(platform.text("o-behind-handover", "第一"))
    await first_inside.wait()
    second = asyncio.create_task(platform.text("o-behind-handover", "第二", msg_id=second_id))
    claimed = await wait_until(lambda: services.redis.exists(f"xz:dedup:m:o-behind-handover:{second_id}"),
                               timeout=5, every=0.01)
    assert claimed and not second.done()  # claimed, and waiting behind the first turn's lock
    release_first.set()
    assert (await first).text == "seen:None"
    assert (await second).text == "seen:after:第一"


async def test_a_turn_past_the_deadline_sends_its_writes_and_frees_the_lock_itself(
        aiohttp_client, clean_database, mock_wechat):
    config = make_config(clean_database, str(mock_wechat.make_url("")).rstrip("/")).with_(reply_deadline=0.2)
    client = await aiohttp_client(create_app(config))
    services = client.server.app[SERVICES]
    platform, step, release = Platform(client, config), step_flow(services), asyncio.Event()

    async def slow(turn):
        await release.wait()
        return await step(turn)

    services.pipeline.add(ECHO_ORDER, "steps", slow)
    assert (await platform.text("o-late", "第一")).body == "success"
    assert await services.redis.get(services.locks.key("o-late")) is not None  # the turn still runs
    release.set()
    await settle(services)
    assert (await services.states.get("o-late")).state == "after:第一"
    assert await services.redis.get(services.locks.key("o-late")) is None
    assert await services.spool.in_progress() == 0
    [sent] = mock_wechat.state.sent_to("o-late")
    assert sent["payload"]["text"]["content"] == "seen:None"


async def test_a_lost_closing_round_trip_leaves_the_lock_to_lapse_and_the_turn_to_a_drainer(
        platform, services, monkeypatch):
    monkeypatch.setattr(services, "locks", ResidentLocks(services.redis, lease=1.0))
    monkeypatch.setattr(dedup, "IN_FLIGHT_LEASE", 1.0)
    services.pipeline.add(ECHO_ORDER, "steps", step_flow(services))
    msg_id = next(_ids)
    with closing_lost(monkeypatch) as refused:
        answer = await platform.text("o-lost-close", "第一", msg_id=msg_id)
    assert refused and answer.text == "seen:None"  # the resident is answered all the same
    assert await services.redis.pttl(services.locks.key("o-lost-close")) > 0  # held by nobody, lapsing
    assert await services.redis.get(StateStore.key("o-lost-close")) is None  # lost with the release
    assert await services.spool.in_progress() == 1  # the turn stays in flight

    rerun = await wait_until(lambda: services.states.get("o-lost-close"), timeout=10)  # the app's drainer
    assert rerun is not None and rerun.state == "after:第一"
    assert (await inbound_counts(services))[str(msg_id)] == 1
    assert (await platform.text("o-lost-close", "第二")).text == "seen:after:第一"  # run once, not twice
