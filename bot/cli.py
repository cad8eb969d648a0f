"""`xinzhan`: one entry point, sub-commands contributed by each package.

A command module has `register(subparsers)`, which adds its parser and sets `func(args) -> int`.
"""
from __future__ import annotations

import argparse
import sys

from bot.config import ConfigError
from bot.modules import import_present
from knowledge.content import DataFileError

COMMAND_MODULES = (
    "bot.commands.serve",
    "bot.commands.migrate",
    "bot.commands.demo",
    "bot.commands.user",
    "bot.commands.menu",
    "bot.mock_wechat.cli",
    "knowledge.scales_cli",
    "knowledge.crisis.cli",
    "knowledge.intents.cli",
    "handoff.cli",
    "handoff.review.cli",
    "handoff.review.labels",
    "scheduler.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xinzhan", description="心站 — the city's psychological service chat")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in import_present(COMMAND_MODULES):
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"xinzhan: configuration error: {exc}", file=sys.stderr)
        return 2
    except DataFileError as exc:
        print(f"xinzhan: data file error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
