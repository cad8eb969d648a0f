"""A database outage for tests: the services point at a server that refuses connections, then back."""
from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import replace
from typing import AsyncIterator

from bot.db import make_autocommit_sessionmaker, make_engine, make_sessionmaker
from bot.transcript import Transcript

UNREACHABLE = "postgresql+asyncpg://postgres@127.0.0.1:1/nowhere"  # connection refused at once


@asynccontextmanager
async def database_down(services) -> AsyncIterator[None]:
    working = replace(services)
    broken = make_engine(UNREACHABLE)
    services.db, services.autocommit = make_sessionmaker(broken), make_autocommit_sessionmaker(broken)
    services.transcript = Transcript(broken)
    try:
        yield
    finally:
        services.db, services.autocommit, services.transcript = working.db, working.autocommit, working.transcript
        await broken.dispose()
