"""The safety response: what the service does with a crisis reading (CRISIS.md, issue 4).

Every text is scanned before any flow runs (`stage`); level 3-4 gets the emergency reply and a
priority handoff, level 2 the C-SSRS safety check (`check`), and every reading of note is kept
(`record`) for the resident's record and for tuning the lexicon. Other packages call:

    replies = await enter_safety_check(services, ref, reason="assessment:PHQ-9:item9_positive", level=2)
    rows = await detections_for(services, resident_id)
    await mark_false_alarm(services, detection_id=..., staff_id=...)   # or case_id=...
    await mark_missed(services, staff_id=..., message_id=..., level=3)  # the bot read it too low
"""
from flows.safety.record import MISSED_LEVELS, NotAResidentMessage, detections_for, mark_false_alarm, mark_missed
from flows.safety.respond import enter_safety_check

__all__ = ["MISSED_LEVELS", "NotAResidentMessage", "detections_for", "enter_safety_check", "mark_false_alarm",
           "mark_missed"]
