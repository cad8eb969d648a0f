"""Who may read which transcript rows in review: the one place the rules live.

Access is decided per case and per message, never per conversation: one conversation can hold a
closed case under review and a live one, and whoever may read the first must not read the second
through it. A message belongs to a case of its conversation: the first case (in the order they
were opened) not yet closed when the message was written, else the conversation's last case. So
a case owns the bot turns that led up to it, its chat, and what followed until the next case.

- Messages of an open case are nobody's in review: the live case is read in the console, by its
  holder and supervisors. A message written after one of the resident's open cases was queued is
  live too, whichever conversation it fell in (a conversation restarts after a long silence).
- supervisors: every other message, with a case or without;
- reviewers: the messages of closed cases;
- counsellors: the messages of closed cases that were theirs when closed (a transfer hands them on);
- admins: none (unless they also hold one of the roles above).
"""
from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, false, func, not_, or_, select
from sqlalchemy.orm import aliased

from bot.auth import Staff
from bot.models import Message
from handoff.models import STATUSES, Case

CONTENT_ROLES = ("counsellor", "supervisor", "reviewer")
EXPORT_ROLES = ("supervisor", "reviewer")
CLOSED = "closed"
OPEN = tuple(s for s in STATUSES if s != CLOSED)  # an IN list, so the status index finds the few open cases


def case_visible(user: Staff, case: Case) -> bool:
    """A case's card, notes and quality reviews: closed cases only, to the roles that read them."""
    return case.status == CLOSED and (user.has("supervisor", "reviewer")
                                      or (user.has("counsellor") and case.counsellor_id == user.id))


def _since(case) -> ColumnElement:
    """When `case`'s messages start in its conversation: the close of the cases before it (NULL:
    from the start). A message after that and, if `case` is closed, not after its close (unless it
    is the last case) is the case's. Subqueries here name what they correlate: nested, automatic
    correlation would give an inner one its own `messages` table and a wrong answer, silently."""
    earlier = aliased(Case)
    return (select(func.max(earlier.closed_at))
            .where(earlier.conversation_id == case.conversation_id, earlier.id < case.id)
            .correlate_except(earlier).scalar_subquery())


def _after(moment: ColumnElement, message) -> ColumnElement:
    return or_(moment.is_(None), moment < message.created_at)


def settled(message=Message) -> ColumnElement:
    """True for a message that belongs to no open case.

    Two NOT EXISTS side by side, each correlated with the message only at its own level, so that
    PostgreSQL makes them anti-joins against the few open cases; as per-row subplans its estimate
    grew past the JIT threshold and a 5 ms search took 0.5 s."""
    in_its_conversation, of_the_resident = aliased(Case), aliased(Case)
    return and_(
        not_(exists(select(in_its_conversation.id).where(
            in_its_conversation.status.in_(OPEN), in_its_conversation.conversation_id == message.conversation_id,
            _after(_since(in_its_conversation), message)).correlate_except(in_its_conversation))),
        not_(exists(select(of_the_resident.id).where(
            of_the_resident.status.in_(OPEN), of_the_resident.resident_id == message.resident_id,
            of_the_resident.queued_at <= message.created_at).correlate_except(of_the_resident))))


def _in_a_case(message) -> ColumnElement:
    """For roles that read every closed case: a settled message of a conversation with a case
    belongs to a closed one."""
    case = aliased(Case)
    return exists(select(case.id).where(case.conversation_id == message.conversation_id).correlate_except(case))


def _in_a_case_held_by(user: Staff, message) -> ColumnElement:
    case, later = aliased(Case), aliased(Case)
    is_last = not_(exists(select(later.id).where(later.conversation_id == case.conversation_id, later.id > case.id)
                          .correlate_except(later)))
    return exists(select(case.id).where(
        case.conversation_id == message.conversation_id, case.status == CLOSED, case.counsellor_id == user.id,
        _after(_since(case), message), or_(case.closed_at >= message.created_at, is_last)).correlate_except(case))


def message_scope(user: Staff, message=Message) -> ColumnElement:
    """A condition on a transcript row: true for the messages `user` may read in review."""
    if user.has("supervisor"):
        return settled(message)
    if user.has("reviewer"):
        return and_(settled(message), _in_a_case(message))
    if user.has("counsellor"):
        return and_(settled(message), _in_a_case_held_by(user, message))
    return false()


async def may_read(session, user: Staff, conversation_id: int) -> bool:
    """The conversation page opens when it has something for `user`: a readable message or case."""
    readable_message = select(Message.id).where(Message.conversation_id == conversation_id,
                                                message_scope(user)).limit(1)
    if await session.scalar(readable_message) is not None:
        return True
    cases = await session.scalars(select(Case).where(Case.conversation_id == conversation_id))
    return any(case_visible(user, case) for case in cases)
