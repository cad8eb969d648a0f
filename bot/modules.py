"""Import the optional parts of the service (plugins, model modules) that are present."""
from __future__ import annotations

import importlib
from types import ModuleType


def import_present(names: tuple[str, ...]) -> list[ModuleType]:
    """Import each module that exists; a missing dependency inside one is still an error."""
    modules = []
    for name in names:
        try:
            modules.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name is None or not name.startswith(exc.name):
                raise
    return modules
