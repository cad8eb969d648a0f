"""What the console shows about a case: its card, its notes and timeline, and the resident's record
(the conversation itself, paged, is handoff.history)."""
from __future__ import annotations

from sqlalchemy import select

from bot import localtime
from bot.consent import history, summarise
from bot.labels import Labels
from bot.models import Message, Resident, StaffUser
from bot.services import Services
from handoff.content import home_station
from handoff.models import Callback, Case, CaseEvent, Note


def iso(moment) -> str | None:
    return localtime.iso(moment)


def case_json(case: Case, names: dict[int, str] | None = None) -> dict:
    names = names or {}
    return {"id": case.id, "resident_id": case.resident_id, "reason": case.reason, "level": case.level,
            "evidence": case.evidence, "status": case.status, "queued_at": iso(case.queued_at),
            "claimed_at": iso(case.claimed_at), "closed_at": iso(case.closed_at),
            "escalated": case.escalated_at is not None, "fallback": case.fallback_at is not None,
            "counsellor_id": case.counsellor_id, "counsellor": names.get(case.counsellor_id or 0, ""),
            "outcome": case.outcome, "risk_rating": case.counsellor_risk_rating, "satisfaction": case.satisfaction}


def message_json(m: Message) -> dict:
    return {"id": m.id, "direction": m.direction, "sender": m.sender, "kind": m.kind, "content": m.content,
            "delivery": m.delivery, "error": m.error, "author_id": m.author_id, "at": iso(m.created_at)}


async def staff_names(services: Services) -> dict[int, str]:
    async with services.db() as session:
        return {u.id: u.display_name or u.username for u in await session.scalars(select(StaffUser))}


async def timeline(services: Services, case_id: int, labels: Labels) -> tuple[list[dict], list[dict]]:
    """The case's notes and its timeline, in the order of time the history uses."""
    names = await staff_names(services)
    async with services.db() as session:
        notes = list(await session.scalars(select(Note).where(Note.case_id == case_id)
                                           .order_by(Note.created_at, Note.id)))
        steps = list(await session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id)
                                           .order_by(CaseEvent.at, CaseEvent.id)))
    return [note_json(n, names) for n in notes], [step_json(e, names, labels) for e in steps]


def note_json(n: Note, names: dict[int, str]) -> dict:
    return {"type": "note", "id": n.id, "body": n.body, "author": names.get(n.author_id or 0, ""),
            "at": iso(n.created_at)}


def step_json(e: CaseEvent, names: dict[int, str], labels: Labels) -> dict:
    """A timeline entry with `text`, its words for the screen."""
    return {"type": "step", "id": e.id, "kind": e.kind, "actor": names.get(e.actor_id or 0, ""), "detail": e.detail,
            "at": iso(e.at), "text": labels.event(e.kind, e.detail, names)}


async def resident_record(services: Services, resident_id: int) -> dict:
    names = await staff_names(services)
    async with services.db() as session:
        resident = await session.get(Resident, resident_id)
        past = list(await session.scalars(select(Case).where(Case.resident_id == resident_id)
                                          .order_by(Case.id.desc()).limit(20)))
        closed = [c.id for c in past if c.status == "closed"]
        notes = list(await session.scalars(select(Note).where(Note.case_id.in_(closed)).order_by(Note.id))) \
            if closed else []
        callbacks = list(await session.scalars(select(Callback).where(Callback.resident_id == resident_id)
                                               .order_by(Callback.id.desc()).limit(5)))
        parts = await services.record_parts.read(session, resident_id)  # flows: assessments, registrations
        consent = await _consent(session, resident_id)
    stations = services.knowledge.stations
    county = {c.id: c.name.get("zh-Hans") for c in stations.counties()}
    return {
        "resident": {"id": resident.id, "language": resident.language, "area": county.get(resident.area, resident.area),
                     "subscribed": resident.subscribed, "since": iso(resident.created_at), "scene": resident.scene,
                     "tags": [t.tag for t in resident.tags],
                     "station": home_station(stations, resident.area).name.get("zh-Hans")},
        "cases": [_past_case(c, names, notes) for c in past],
        "callbacks": [{"phone": c.phone, "status": c.status, "at": iso(c.created_at)} for c in callbacks],
        "consent": consent,
        **parts,
    }


async def _consent(session, resident_id: int) -> dict:
    """Whether the resident agreed to keep their health data, and every step of that."""
    events = await history(session, resident_id)
    state = summarise(events)
    return {"decision": state.decision, "version": state.version, "age_band": state.age_band, "at": iso(state.at),
            "history": [{"kind": e.kind, "version": e.notice_version, "detail": e.detail, "channel": e.channel,
                         "staff_id": e.staff_id, "at": iso(e.created_at)} for e in events]}


def _past_case(case: Case, names: dict[int, str], notes: list[Note]) -> dict:
    """An earlier case as the next counsellor needs it: a closed one with its summary and notes,
    so what was said and decided then is not lost when the resident comes back."""
    found = case_json(case, names)
    if case.status == "closed":
        found["summary"] = case.notes or ""
        found["notes"] = [{"body": n.body, "author": names.get(n.author_id or 0, ""), "at": iso(n.created_at)}
                          for n in notes if n.case_id == case.id]
    return found
