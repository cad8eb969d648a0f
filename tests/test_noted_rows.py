"""A row a stage notes for its turn (an intent reading, `Transcript.note`) is written with the passive
reply, in the same statement on PostgreSQL, and still written once when the turn answers nothing or
misses the passive deadline and replies through the customer-service API."""
from __future__ import annotations

import asyncio

from sqlalchemy import event, select

from bot.app import create_app
from bot.appkeys import SERVICES
from bot.db import utcnow
from bot.models import Message
from bot.values import Reply
from flows.models import IntentRead
from tests.conftest import make_config, settle
from tests.platform import Platform

NOTING_ORDER = 1  # before any real stage: these tests see only the turn and the transcript


def noting(services, replies: list[Reply], release: asyncio.Event | None = None):
    """A stage that notes a reading for its turn, then answers (once `release` is set, if given)."""
    async def stage(turn):
        ref = turn.resident
        services.transcript.note(ref, IntentRead.__table__, dict(
            resident_id=ref.id, conversation_id=ref.conversation_id, platform_msg_id=turn.inbound.msg_id,
            intent="tips", confidence=0.9, runner_up="events", action="acted", created_at=utcnow()))
        if release is not None:
            await release.wait()
        return replies
    return stage


async def rows(services) -> tuple[list[str], list[tuple[str, str]]]:
    """The readings' actions, and the replies' delivery and content."""
    async with services.db() as session:
        readings = list(await session.scalars(select(IntentRead.action)))
        replies = (await session.execute(select(Message.delivery, Message.content)
                                         .where(Message.direction == "out").order_by(Message.id))).all()
    return readings, [tuple(reply) for reply in replies]


async def test_a_noted_row_goes_with_the_passive_reply_in_one_statement(platform, services):
    services.pipeline.add(NOTING_ORDER, "noting", noting(services, [Reply(text="好的")]))
    await platform.text("o-noted", "你好")  # first contact, its own path
    await settle(services)
    statements: list[str] = []
    engine = services.transcript._engine.sync_engine
    listener = lambda conn, cursor, sql, *args: statements.append(sql)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        answer = await platform.text("o-noted", "有什么小贴士")
        await settle(services)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert answer.text and "好的" in answer.text
    assert await rows(services) == (["acted", "acted"], [("passive", "好的"), ("passive", "好的")])
    written = [sql for sql in statements if "intent_reads" in sql]
    if engine.dialect.name == "postgresql":
        assert len(written) == 1 and "INSERT INTO messages" in written[0]
    else:  # SQLite has no data-modifying CTE: the reading, then the reply
        assert len(written) == 1 and "INSERT INTO messages" not in written[0]


async def test_a_turn_that_answers_nothing_still_writes_what_it_noted(platform, services):
    services.pipeline.add(NOTING_ORDER, "noting", noting(services, []))
    answer = await platform.text("o-silent", "嗯")
    await settle(services)
    assert answer.body == "success"
    assert await rows(services) == (["acted"], [])


async def test_a_turn_past_the_deadline_writes_what_it_noted_once_and_replies_through_the_api(
        aiohttp_client, clean_database, mock_wechat):
    config = make_config(clean_database, str(mock_wechat.make_url("")).rstrip("/")).with_(reply_deadline=0.2)
    client = await aiohttp_client(create_app(config))
    services = client.server.app[SERVICES]
    release = asyncio.Event()
    services.pipeline.add(NOTING_ORDER, "noting", noting(services, [Reply(text="慢慢来"), Reply(text="再见")], release))
    answer = await Platform(client, config).text("o-late-noted", "等一下")
    assert answer.body == "success"
    release.set()
    await settle(services)
    assert await rows(services) == (["acted"], [("cs", "慢慢来"), ("cs", "再见")])
