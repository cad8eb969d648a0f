"""Every task's whole await chain, for reports of a hang.

`Task.print_stack()` shows only a coroutine's outermost frame; following `cr_await` down shows
where each task actually waits (which library call, which lock, which future). An aiohttp cleanup
context is an async generator awaited through `anext()`, whose awaitable hides the generator: it is
found among that awaitable's referents.
"""
from __future__ import annotations

import asyncio
import gc
import inspect


def await_chain(task: asyncio.Task) -> list[str]:
    """The frames the task is suspended in, outermost first."""
    lines, awaited, seen = [], task.get_coro(), set()
    while awaited is not None and id(awaited) not in seen:  # tasks awaiting each other would loop
        seen.add(id(awaited))
        frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "ag_frame", None)
        if frame is not None:
            lines.append(f"  {frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}")
            awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "ag_await", None)
        else:  # anext(agen), or another task: step into the generator or coroutine it drives
            awaited = next((r for r in gc.get_referents(awaited) if inspect.isasyncgen(r) or inspect.iscoroutine(r)),
                           None)
    return lines


def task_stacks() -> str:
    """All tasks but the caller's, each as its repr (state, what it waits for) and its await chain."""
    current = asyncio.current_task()
    return "\n".join(f"{task!r}\n" + "\n".join(await_chain(task))
                     for task in asyncio.all_tasks() if task is not current)
