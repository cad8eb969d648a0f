"""CSV cells safe to open in a spreadsheet: the one guard every export uses.

A cell that starts with = + - @ (or a tab or carriage return, which spreadsheets skip before
them) is run as a formula when staff open the file in Excel or WPS, so a resident's message or
name could fetch a URL or run a command on a staff computer. Such a cell gets a leading
apostrophe, the spreadsheet convention for "this is text".
"""
from __future__ import annotations

from typing import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def safe_row(values: Iterable[object]) -> list[object]:
    return [safe_cell(v) for v in values]
