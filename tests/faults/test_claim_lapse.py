"""A message whose worker died mid-turn (its claim pending, its in-flight lease lapsed): the platform's
retry writes the message and is answered, and a drainer runs the turn within seconds, once (on both
backends; the SIGKILL tests do it with real processes)."""
from __future__ import annotations

from bot.spool_drain import drain_once
from bot.stores import dedup
from bot.wechat.parse import dedup_key, to_inbound
from handoff.queue import CaseQueue
from tests.conftest import settle
from tests.faults.retrying import inbound_counts, text_xml
from tests.faults.test_redis_restart import CRISIS


async def orphan(services, monkeypatch, xml: str) -> str:
    """Claim the message as a worker that then died, before writing it; returns its key.

    The claim's lease is zero long: it has lapsed by Redis' own clock as soon as it is taken, as the
    lease of a worker that died a while ago has, with no waiting for time to pass."""
    monkeypatch.setattr(dedup, "IN_FLIGHT_LEASE", 0)
    inbound = to_inbound(xml)
    assert (await services.dedup.claim(dedup_key(inbound), inbound)).first
    return dedup_key(inbound)


async def test_a_retry_of_an_orphaned_message_writes_it_before_answering(platform, services, monkeypatch):
    xml = text_xml("o-orphan", "菜单", 77001)
    await orphan(services, monkeypatch, xml)
    answer = await platform.send_xml(xml)
    assert answer.status == 200
    assert (await inbound_counts(services))["77001"] == 1, "the retry answered for a message nobody kept"


async def test_a_drainer_runs_the_turn_of_a_message_whose_worker_died(platform, services, monkeypatch, mock_wechat):
    key = await orphan(services, monkeypatch, text_xml("o-orphan-turn", "菜单", 77003))
    assert await drain_once(services) == 1
    await settle(services)
    assert mock_wechat.state.sent_to("o-orphan-turn"), "the orphaned turn's reply never went out"
    assert (await inbound_counts(services))["77003"] == 1
    assert (await services.dedup.claim(key, to_inbound(text_xml("o-orphan-turn", "菜单", 77003)))).answer == "success"
    assert await drain_once(services) == 0  # run once


async def test_an_orphaned_crisis_reaches_the_queue(platform, services, monkeypatch):
    await orphan(services, monkeypatch, text_xml("o-orphan-crisis", CRISIS, 77004))
    assert await drain_once(services) == 1
    assert await CaseQueue(services.redis).waiting(), "the crisis whose worker died never reached the queue"


async def test_a_live_turn_is_never_given_to_a_drainer(platform, services):
    xml = text_xml("o-live-turn", "菜单", 77005)
    await platform.send_xml(xml)
    await settle(services)
    assert await drain_once(services) == 0
    assert await services.spool.in_progress() == 0


async def test_retry_of_a_live_claim_waits_for_its_answer_and_runs_no_turn(platform, services):
    xml = text_xml("o-live", "菜单", 77002)
    first = await platform.send_xml(xml)
    again = await platform.send_xml(xml)
    assert again.text == first.text
    assert (await inbound_counts(services))["77002"] == 1
