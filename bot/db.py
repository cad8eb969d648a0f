"""The database engine and the declarative base every package's models share.

One schema runs on SQLite (demo) and PostgreSQL (production), so models use only portable types.
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import DateTime, MetaData, TypeDecorator, event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


POOL_SIZE = 15  # per worker process: four workers and the scheduler stay under PostgreSQL's default 100
MODEL_MODULES = ("bot.models", "bot.consent", "flows.models", "handoff.models", "handoff.detections", "handoff.review.models",
                 "scheduler.models")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """A moment, stored in UTC and always read back aware, on both backends: PostgreSQL keeps the
    zone (timestamptz), SQLite keeps text without one and hands back naive values, which this marks
    as the UTC they are. So no caller needs a naive-UTC fixup."""
    impl = DateTime
    cache_ok = True

    def __init__(self) -> None:
        super().__init__(timezone=True)

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=timezone.utc)


def make_engine(url: str) -> AsyncEngine:
    """Create the engine; SQLite gets its directory, WAL and foreign keys so it behaves like PostgreSQL."""
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    # A fixed pool: connections beyond it would each be opened and closed per use, and a new PostgreSQL
    # backend costs more CPU than the turns it serves (under load that churn took half the server's
    # CPU). A turn waits for a free connection instead; it holds one only per statement group.
    # No pre-ping: it costs a round trip on every checkout, about a third of a turn's. After a database
    # restart the first statement on a stale connection fails instead, SQLAlchemy then discards the
    # whole pool, and that one message takes the outage path (spooled, answered with the numbers).
    return create_async_engine(url, pool_size=POOL_SIZE, max_overflow=0, pool_timeout=10)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def make_autocommit_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose every statement commits by itself, on the same pool.

    For a single read or a single write, a transaction only adds BEGIN and COMMIT (or ROLLBACK) round
    trips; the turn's hot path (open-case lookup, reply transcript) uses these instead."""
    return async_sessionmaker(engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False)


def load_models() -> MetaData:
    """Import every package's models so the metadata (and Alembic) sees the whole schema."""
    from bot.modules import import_present

    import_present(MODEL_MODULES)
    return Base.metadata
