"""Redis unreachable: the webhook answers at once, never 500 and never silence; a crisis message gets
the emergency numbers, goes to the transcript, and its case is queued once Redis is back."""
from __future__ import annotations

import asyncio
from contextlib import contextmanager
from typing import Iterator

from prometheus_client import REGISTRY
from redis.asyncio.client import Pipeline
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import select

from bot.pipeline import ORDER_SAFETY
from handoff.content import local_hotline
from handoff.models import Case
from handoff.queue import CaseQueue
from handoff.recovery import reconcile
from tests.database_down import database_down
from tests.test_webhook import messages

CRISIS = "我已经写好遗书，今晚就从楼顶跳下去"  # level 4


def _of_service(services, pipe: Pipeline) -> bool:
    return pipe.connection_pool is services.redis.connection_pool


@contextmanager
def redis_down(services, monkeypatch, *, except_dedup: bool = False) -> Iterator[None]:
    """Every command and pipeline on the service's Redis client fails as a refused connection does (with
    `except_dedup`, all but the de-duplication claim's round trip: Redis went away just after it)."""
    working, working_pipeline = services.redis.execute_command, Pipeline.execute

    def claim(args) -> bool:
        return except_dedup and args[0] == "EVAL" and str(args[3]).startswith("xz:dedup:")

    async def refused(*args, **kwargs):
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    async def refused_pipeline(pipe, *args, **kwargs):
        if not _of_service(services, pipe) or (pipe.command_stack and claim(pipe.command_stack[0][0])):
            return await working_pipeline(pipe, *args, **kwargs)
        await refused()

    with monkeypatch.context() as patch:
        patch.setattr(services.redis, "execute_command", refused)
        patch.setattr(Pipeline, "execute", refused_pipeline)
        yield


@contextmanager
def redis_hung(services, monkeypatch) -> Iterator[None]:
    """Every command and pipeline waits for an answer that never comes: a frozen server, a black-holed network."""
    working_pipeline = Pipeline.execute

    async def unanswered(*args, **kwargs):
        await asyncio.Event().wait()

    async def unanswered_pipeline(pipe, *args, **kwargs):
        if not _of_service(services, pipe):
            return await working_pipeline(pipe, *args, **kwargs)
        await unanswered()

    with monkeypatch.context() as patch:
        patch.setattr(services.redis, "execute_command", unanswered)
        patch.setattr(Pipeline, "execute", unanswered_pipeline)
        yield


def emergency_text(services) -> str:
    return services.knowledge.texts.get("safety.urgent_off_duty", "zh-Hans", hotline=local_hotline(services.knowledge, ""))


def answers_counted(reply: str, transcript: str) -> float:
    return REGISTRY.get_sample_value("xz_redis_down_answers_total", {"reply": reply, "transcript": transcript}) or 0


async def waiting_cases(services) -> list[Case]:
    async with services.db() as session:
        return list(await session.scalars(select(Case).where(Case.status == "waiting")))


async def test_crisis_without_redis_gets_the_emergency_numbers_and_its_case_is_queued_when_redis_is_back(
        platform, services, monkeypatch):
    counted = answers_counted("emergency", "written")
    with redis_down(services, monkeypatch):
        answer = await platform.text("o-crisis", CRISIS)
        assert answer.status == 200
        assert answer.text == emergency_text(services)
        assert all(number in answer.text for number in ("12356", "110", "120"))
        [case] = await waiting_cases(services)
    assert answers_counted("emergency", "written") == counted + 1
    assert (case.level, case.reason) == (4, "crisis")
    assert [(m.direction, m.content) for m in await messages(services)] == [
        ("in", CRISIS), ("out", answer.text)]
    await reconcile(services)
    assert await CaseQueue(services.redis).waiting() == [case.id]


async def test_ordinary_message_without_redis_gets_the_busy_text_and_is_kept(platform, services, monkeypatch):
    with redis_down(services, monkeypatch):
        answer = await platform.text("o-chat", "你好，想问一下活动时间")
    assert answer.status == 200
    assert answer.text == services.knowledge.texts.get("system.busy", "zh-Hans")
    assert await waiting_cases(services) == []
    assert [(m.direction, m.content) for m in await messages(services)][0] == ("in", "你好，想问一下活动时间")


async def test_retry_while_redis_is_down_gets_the_same_reply_one_case_one_transcript_row(platform, services, monkeypatch):
    with redis_down(services, monkeypatch):
        first = await platform.text("o-retry", CRISIS, msg_id=424242)
        again = await platform.text("o-retry", CRISIS, msg_id=424242)
        assert (first.status, again.status) == (200, 200)
        assert again.text == first.text == emergency_text(services)
        assert len(await waiting_cases(services)) == 1
    inbound = [m for m in await messages(services) if m.direction == "in"]
    assert [m.platform_msg_id for m in inbound] == ["424242"]


async def test_redis_lost_after_the_claim_still_answers_the_crisis(platform, services, monkeypatch):
    with redis_down(services, monkeypatch, except_dedup=True):
        answer = await platform.text("o-midway", CRISIS)
    assert answer.status == 200
    assert answer.text == emergency_text(services)
    assert len(await waiting_cases(services)) == 1


async def test_event_that_wants_no_reply_is_answered_success(platform, services, monkeypatch):
    with redis_down(services, monkeypatch):
        answer = await platform.event("o-leaving", "unsubscribe")
    assert (answer.status, answer.body) == (200, "success")


async def test_redis_and_database_both_down_still_answer_the_crisis(platform, services, monkeypatch):
    counted = answers_counted("emergency", "lost")
    with redis_down(services, monkeypatch):
        async with database_down(services):
            answer = await platform.text("o-alone", CRISIS)
    assert answer.status == 200
    assert answer.text == emergency_text(services)
    assert answers_counted("emergency", "lost") == counted + 1


async def test_crisis_while_redis_hangs_gets_the_emergency_numbers_and_its_case_is_kept(
        platform, services, monkeypatch):
    with redis_hung(services, monkeypatch):
        answer = await platform.text("o-hung", CRISIS)
        assert answer.status == 200
        assert answer.text == emergency_text(services)
    [case] = await waiting_cases(services)
    assert (case.level, case.reason) == (4, "crisis")
    await reconcile(services)
    assert await CaseQueue(services.redis).waiting() == [case.id]


async def test_crisis_when_redis_goes_away_mid_turn_gets_the_emergency_numbers_and_one_case(
        platform, services, monkeypatch):
    """Redis answered the claim, the lock and the transcript's window, then went away before the
    safety stage: the message is answered as if Redis had been down from the start, and kept once."""
    async def redis_gone(turn):
        raise RedisConnectionError("Connection closed by server.")

    services.pipeline.add(ORDER_SAFETY - 1, "redis-gone", redis_gone)
    answer = await platform.text("o-midturn", CRISIS)
    assert answer.text == emergency_text(services)
    [case] = await waiting_cases(services)
    assert (case.level, case.reason) == (4, "crisis")
    assert [m.direction for m in await messages(services)] == ["in", "out"]
