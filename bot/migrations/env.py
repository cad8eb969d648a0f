"""Alembic environment: async engines for SQLite and PostgreSQL alike."""
import asyncio

from alembic import context
from bot.db import load_models, make_engine


target_metadata = load_models()


def _configure(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def _run() -> None:
    engine = make_engine(context.config.attributes["database_url"])
    async with engine.connect() as connection:
        await connection.run_sync(_configure)
        await connection.commit()
    await engine.dispose()


asyncio.run(_run())
