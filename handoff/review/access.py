"""Who may see which transcripts: the one place the rules live.

- supervisors: every conversation;
- reviewers: conversations with a closed case;
- counsellors: conversations of their own cases and of cases waiting in the queue;
- admins: no transcript content (unless they also hold one of the roles above).
"""
from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true

from bot.auth import Staff
from handoff.models import Case

CONTENT_ROLES = ("counsellor", "supervisor", "reviewer")
EXPORT_ROLES = ("supervisor", "reviewer")


def conversation_scope(user: Staff, conversation_id: ColumnElement) -> ColumnElement:
    """A condition on a conversation-id column: true for the conversations `user` may read."""
    if user.has("supervisor"):
        return true()
    allowed = []
    if user.has("reviewer"):
        allowed.append(_has_case(conversation_id, Case.status == "closed"))
    if user.has("counsellor"):
        allowed.append(_has_case(conversation_id, or_(Case.counsellor_id == user.id, Case.status == "waiting")))
    return or_(*allowed) if allowed else false()


def _has_case(conversation_id: ColumnElement, condition: ColumnElement) -> ColumnElement:
    return exists(select(Case.id).where(and_(Case.conversation_id == conversation_id, condition)))


def case_visible(user: Staff, case: Case) -> bool:
    """The same rules for one case already loaded."""
    if user.has("supervisor"):
        return True
    if user.has("reviewer") and case.status == "closed":
        return True
    return user.has("counsellor") and (case.counsellor_id == user.id or case.status == "waiting")


async def may_read(session, user: Staff, conversation_id: int) -> bool:
    from sqlalchemy import literal
    allowed = await session.scalar(select(literal(1)).where(conversation_scope(user, literal(conversation_id))))
    return allowed is not None
