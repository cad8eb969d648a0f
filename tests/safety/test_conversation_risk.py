"""A conversation carries the highest risk read in it (conversations.max_risk), for review."""
from __future__ import annotations

from sqlalchemy import event, select

from bot.models import Conversation
from tests.safety.conftest import resident_id
from tests.safety.test_scale_item import item9_positive

PASSIVE = "我觉得活着没意思"


async def max_risk(services, openid: str) -> list[int]:
    async with services.db() as session:
        return list(await session.scalars(select(Conversation.max_risk).where(
            Conversation.resident_id == await resident_id(services, openid))))


async def test_a_reading_raises_max_risk_and_calmer_turns_never_lower_it(services, say):
    await say("o-risk", "你好")
    assert await max_risk(services, "o-risk") == [0]
    await say("o-risk", PASSIVE)
    assert await max_risk(services, "o-risk") == [2]
    await say("o-risk", "我想自杀")
    assert await max_risk(services, "o-risk") == [3]
    await say("o-risk", PASSIVE)
    await say("o-risk", "谢谢")
    assert await max_risk(services, "o-risk") == [3]


async def test_an_ordinary_turn_sends_no_max_risk_statement(services, say):
    await say("o-calm-risk", "你好")  # the first message creates the conversation
    sent: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    engine = services.db.kw["bind"].sync_engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        await say("o-calm-risk", "今天天气不错")
        assert sent  # the listener saw the turn's statements
        # the UPDATE that raises it; a conversation opened in the message's statement names its 0 too
        assert not [s for s in sent if "SET max_risk" in s]
        await say("o-calm-risk", PASSIVE)
        assert [s for s in sent if "SET max_risk" in s]
    finally:
        event.remove(engine, "before_cursor_execute", note)


async def test_safety_check_answers_raise_max_risk_past_the_message_reading(services, say):
    await say("o-risk-check", PASSIVE)
    await say("o-risk-check", "是")
    await say("o-risk-check", "是的")  # thoughts of killing oneself: level 3, though "是的" alone reads 0
    assert await max_risk(services, "o-risk-check") == [3]


async def test_a_positive_scale_safety_item_in_the_chat_raises_max_risk_to_2(services, say):
    await item9_positive(say, "o-risk-item9")
    assert await max_risk(services, "o-risk-item9") == [2]
