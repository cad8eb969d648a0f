"""`xinzhan migrate`: apply every package's database migrations."""
from __future__ import annotations

from bot.config import load_config
from bot.migrate import upgrade


def run(args) -> int:
    config = load_config()
    upgrade(config.database_url)
    print("migrations applied")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("migrate", help="apply database migrations (XZ_DATABASE_URL)")
    p.set_defaults(func=run)
