"""The safety response: what the service does with a crisis reading (CRISIS.md, issue 4).

Every text is scanned before any flow runs (`stage`); level 3-4 gets the emergency reply and a
priority handoff, level 2 the C-SSRS safety check (`check`), and every reading of note is kept in
the crisis record (`handoff.detections`, which the console and review read and mark). Other
packages call:

    replies = await enter_safety_check(services, ref, reason="assessment:PHQ-9:item9_positive", level=2)
"""
from flows.safety.respond import enter_safety_check

__all__ = ["enter_safety_check"]
