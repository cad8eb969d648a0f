"""Parts of a resident's record that packages above the console keep (flows: assessments, event
registrations).

The counsellor sees the whole record, but handoff stands below flows and may not import it. So a
package adds its part when it is set up, as it adds a pipeline stage, and the console reads
whatever parts are there; without flows the record simply has none of them.
"""
from __future__ import annotations

from typing import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

# A part reads, within the console's session, the resident's rows it owns, as the record's fields.
RecordPart = Callable[[AsyncSession, int], Awaitable[dict[str, object]]]


class RecordParts:
    def __init__(self) -> None:
        self._parts: list[RecordPart] = []

    def add(self, part: RecordPart) -> None:
        self._parts.append(part)

    async def read(self, session: AsyncSession, resident_id: int) -> dict[str, object]:
        found: dict[str, object] = {}
        for part in self._parts:
            found.update(await part(session, resident_id))
        return found
