"""Supervisors stepping into a live case: whisper to the counsellor, take the case over, reassign it.

Each is written to the case timeline and announced to the consoles at once, so the counsellor
sees the whisper while they type, and learns the case left them the moment it did.
"""
from __future__ import annotations

from bot import localtime
from bot.services import Services
from handoff import cases, events
from handoff.models import Case
from handoff.offers import TransferOffers
from handoff.transfers import receivers

TAKE_OVER_CAP = 10 ** 6  # a supervisor stepping into a crisis is never stopped by their own cap


def _active(case: Case) -> None:
    if case.status != "active" or case.counsellor_id is None:
        raise cases.CaseError("只能对正在进行的个案这样做")


async def whisper(services: Services, case: Case, supervisor_id: int, body: str) -> dict:
    """A note only the counsellor (and supervisors) read, pushed to their console as it is written."""
    _active(case)
    note = await cases.add_note(services, case.id, supervisor_id, body)
    async with services.db.begin() as session:
        await cases.log_event(session, case.id, "whispered", supervisor_id)
    said = {"id": note.id, "body": note.body, "author": await cases.staff_name(services, supervisor_id),
            "at": localtime.iso(note.created_at)}
    await events.publish(services.redis, "whisper", note=said, **cases.case_fields(case))
    return said


async def take_over(services: Services, case: Case, supervisor_id: int) -> Case:
    """The case becomes the supervisor's; of two taking over at once, the second is told who won."""
    _active(case)
    if case.counsellor_id == supervisor_id:
        raise cases.CaseError("这个个案已经由你接待")
    moved = await cases.move(services, case.id, supervisor_id, case.counsellor_id, supervisor_id, "taken_over",
                             TAKE_OVER_CAP)
    await TransferOffers(services.redis).drop(case.id)
    return moved


async def reassign(services: Services, case: Case, supervisor_id: int, to_id: int) -> Case:
    """Move the case to someone on duty and under their cap; the old and new holder both hear of it."""
    _active(case)
    if to_id == case.counsellor_id:
        raise cases.CaseError("这个个案已经由这位同事接待")
    if to_id not in {r.staff_id for r in await receivers(services)}:
        raise cases.CaseError("只能改派给正在值班且未满接待上限的咨询师或督导")
    moved = await cases.move(services, case.id, supervisor_id, case.counsellor_id, to_id, "reassigned",
                             await cases.cap_of(services, to_id))
    await TransferOffers(services.redis).drop(case.id)
    return moved
