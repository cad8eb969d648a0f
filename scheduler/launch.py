"""A run's send started in the background: when it opens, when its pause ends, when its worker died.
Here rather than in `runs` (the run's record), which the sender itself writes to."""
from __future__ import annotations

import asyncio

from scheduler import runs
from scheduler.fanout import execute
from scheduler.outreach import Outreach


def start(out: Outreach, run_id: int) -> asyncio.Task:
    """Send the run in the background (an owned task); the run's lease keeps it to one worker."""
    return out.services.tasks.start(execute(out, run_id), name=f"campaign-run:{run_id}")


async def resume(out: Outreach, run_id: int) -> bool:
    """A paused run goes on; False when it was not paused."""
    if not await runs.set_status(out, run_id, "pending", only_from=("paused",)):
        return False
    start(out, run_id)
    return True
