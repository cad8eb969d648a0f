"""The turn's first round trip claims the message, tries the resident's lock, opens the 48-hour allowance
and reads what the turn reads (bot/stores/dedup.py): on a first delivery only, and a turn that finds
the lock taken still waits for it and reads what its holder left."""
from __future__ import annotations

import asyncio

from bot.stores.state import FlowState, StateStore
from bot.values import Reply
from bot.wechat.parse import dedup_key, to_inbound
from tests.conftest import settle
from tests.platform import message_xml
from tests.test_webhook import ECHO_ORDER


def _read(services, openid: str):
    return lambda pipe: services.read_ahead.queue(pipe, openid)


async def test_the_first_claim_takes_the_lock_with_the_reads_and_a_retry_takes_nothing(services):
    await services.states.set("o-claim", FlowState("tips", "browsing"))
    inbound = to_inbound(message_xml("o-claim", "text", {"Content": "你好"}, msg_id=515151))
    first = services.locks.trial("o-claim")
    claim = await services.dedup.claim(dedup_key(inbound), inbound, lock=first, read=_read(services, "o-claim"))
    assert claim.first and first.acquired
    assert await services.redis.get(services.locks.key("o-claim")) == first.token
    assert '"tips"' in first.values[StateStore.key("o-claim")]

    retry = services.locks.trial("o-claim")
    again = await services.dedup.claim(dedup_key(inbound), inbound, lock=retry, read=_read(services, "o-claim"))
    assert not again.first and not retry.acquired and retry.values == {}
    assert await services.redis.get(services.locks.key("o-claim")) == first.token  # still the first's


async def test_a_claim_behind_a_held_lock_leaves_it_to_its_holder(services):
    holder = services.redis.lock(services.locks.key("o-held"), timeout=10)
    assert await holder.acquire()
    inbound = to_inbound(message_xml("o-held", "text", {"Content": "你好"}, msg_id=525252))
    tried = services.locks.trial("o-held")
    claim = await services.dedup.claim(dedup_key(inbound), inbound, lock=tried, read=_read(services, "o-held"))
    assert claim.first and not tried.acquired and tried.values == {}
    assert await holder.owned()


async def test_a_retry_leaves_the_allowance_as_the_first_delivery_and_the_sends_left_it(platform, services):
    await platform.text("o-window", "你好", msg_id=535353)
    await settle(services)
    assert await services.cs_window.remaining("o-window") == 5
    assert await services.cs_window.take("o-window") and await services.cs_window.take("o-window")
    await platform.text("o-window", "你好", msg_id=535353)  # the platform's retry of the same message
    assert await services.cs_window.remaining("o-window") == 3


async def test_a_turn_that_waits_for_the_lock_reads_the_state_its_holder_left(platform, services):
    async def flow_seen(turn):
        state = await services.states.get(turn.inbound.openid)
        return [Reply(text=f"flow:{state.flow if state else None}")]

    services.pipeline.add(ECHO_ORDER, "flow-seen", flow_seen)
    holder = services.redis.lock(services.locks.key("o-behind"), timeout=10)
    assert await holder.acquire()
    answer = asyncio.create_task(platform.text("o-behind", "在吗"))
    await asyncio.sleep(0.3)  # the message is claimed and its turn waits for the lock
    assert not answer.done()
    await services.states.set("o-behind", FlowState("assessment", "q1"))  # the holder's write
    await holder.release()
    assert (await asyncio.wait_for(answer, 10)).text == "flow:assessment"
