"""A de-duplication claim left pending by a dead worker lapses: the platform's retry runs the turn
instead of waiting on it forever (on both backends; the SIGKILL test does it with real processes)."""
from __future__ import annotations

from bot.stores import dedup
from bot.wechat.parse import dedup_key, to_inbound
from tests.faults.retrying import inbound_counts, text_xml


async def test_retry_takes_over_a_claim_whose_worker_died(platform, services, monkeypatch):
    monkeypatch.setattr(dedup, "CLAIM_LEASE", 1)
    xml = text_xml("o-orphan", "菜单", 77001)
    assert (await services.dedup.claim(dedup_key(to_inbound(xml)))).first  # a worker that then died
    answer = await platform.send_xml(xml)
    assert answer.status == 200 and answer.text, "the retry was not answered with the turn's reply"
    assert (await inbound_counts(services))["77001"] == 1


async def test_retry_of_a_live_claim_waits_for_its_answer_and_runs_no_turn(platform, services, monkeypatch):
    monkeypatch.setattr(dedup, "CLAIM_LEASE", 1)
    xml = text_xml("o-live", "菜单", 77002)
    first = await platform.send_xml(xml)
    again = await platform.send_xml(xml)
    assert again.text == first.text
    assert (await inbound_counts(services))["77002"] == 1
