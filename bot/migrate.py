"""Alembic, configured in code: one script location, a version folder per package that has one.

Each package's migrations form their own branch off the core, so packages never fight over
one linear history; `upgrade heads` applies them all.
"""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "flows", "flows/safety", "handoff", "handoff/review", "scheduler")


def alembic_config(database_url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(ROOT / "bot" / "migrations"))
    locations = [ROOT / "bot" / "migrations" / "versions"]
    locations += [ROOT / p / "migrations" for p in PACKAGES[1:] if (ROOT / p / "migrations").is_dir()]
    cfg.set_main_option("version_locations", " ".join(str(p) for p in locations))
    cfg.set_main_option("path_separator", "space")
    cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "heads")
