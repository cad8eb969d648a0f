"""The packages' import rules, read from the source (issue 17): packages import only the layers below
them (so handoff does not import flows, and no cycle runs between packages), flows uses handoff only
through its entry points, and no cycle runs between files. An import inside a function counts.

None is excepted: a package that needs something from above has the line in the wrong place
(DESIGN.md): move the line, or let the upper package hand it down when it is set up (as flows adds
its pipeline stage and its part of the console's record).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

import handoff.requests

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "flows", "handoff", "knowledge", "scheduler")

# What flows may take from handoff: the handoff request and what goes with it, and the crisis record.
HANDOFF_ENTRY_POINTS = {
    "handoff.requests": set(handoff.requests.__all__),  # what it documents as its entry points
    "handoff.detections": None,  # the crisis record is shared by both: any name
    "handoff.review.requests": {"file_request"},  # withdrawing consent files a deletion request for review
}

# The packages from the ground up: each imports only those below it, so no cycle between packages.
LAYERS = ("knowledge", "bot", "handoff", "flows", "scheduler")

# One owner per cross-cutting fact (DESIGN.md): the modules outside knowledge/ that may take these names.
OWNERS = {
    "load_knowledge": {"bot.app"},  # the one Knowledge, loaded at start onto Services
    **{loader: set() for loader in ("load_texts", "load_stations", "load_tips", "load_scales")},
    # the reply language (bot.language); review labels a staff mark with the language of its message
    "detect_language": {"bot.language", "handoff.review.labels"},
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                found[_module_name(path)] = path
    return found


MODULES = _modules()


def _target(name: str) -> str | None:
    """The project module an import names: the longest dotted prefix that is one."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in MODULES:
            return candidate
    return None


def _imports(module: str) -> dict[str, set[str]]:
    """Each project module the file imports, at any depth, with the names it takes from it."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found: dict[str, set[str]] = {}

    def add(name: str, names: set[str]) -> None:
        target = _target(name)
        if target and target != module:
            found.setdefault(target, set()).update(names)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, set())
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:  # `from handoff import content` names the module handoff.content
                submodule = f"{node.module}.{alias.name}"
                add(*((submodule, set()) if submodule in MODULES else (node.module, {alias.name})))
    return found


EDGES = {module: _imports(module) for module in MODULES}


def _cycles(graph: dict[str, set[str]]) -> set[tuple[str, ...]]:
    """The strongly connected components of more than one node (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), set()

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.add(tuple(sorted(component)))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _package(module: str) -> str:
    return module.split(".")[0]


def test_the_import_graph_reads_the_whole_tree():
    assert {"bot.app", "flows.router", "handoff.detections", "scheduler.fanout"} <= set(MODULES)
    assert EDGES["flows.safety.ask"]["handoff.detections"] == {"record_detection", "update_detection"}


def _upward() -> set[tuple[str, str]]:
    return {(module, target) for module, edges in EDGES.items() for target in edges
            if LAYERS.index(_package(module)) < LAYERS.index(_package(target))}


def test_every_package_has_its_layer():
    assert set(LAYERS) == set(PACKAGES)


def test_handoff_does_not_import_flows():
    assert {(module, target) for module, target in _upward()
            if _package(module) == "handoff" and _package(target) == "flows"} == set()


def test_packages_only_look_down():
    assert _upward() == set(), "an import runs up: move the line, not the code around it"


def test_no_cycle_between_packages():
    graph: dict[str, set[str]] = {}
    for module, edges in EDGES.items():
        graph.setdefault(_package(module), set()).update(_package(t) for t in edges if _package(t) != _package(module))
    assert _cycles(graph) == set()


def test_flows_uses_handoff_only_through_its_entry_points():
    wrong = []
    for module, edges in EDGES.items():
        if _package(module) != "flows":
            continue
        for target, names in edges.items():
            if _package(target) != "handoff":
                continue
            allowed = HANDOFF_ENTRY_POINTS.get(target, set())
            if target not in HANDOFF_ENTRY_POINTS or (allowed is not None and not names <= allowed):
                wrong.append(f"{module} -> {target}: {sorted(names) or 'the module'}")
    assert wrong == []


def test_no_cycle_between_files():
    graph = {module: set(edges) for module, edges in EDGES.items()}
    assert _cycles(graph) == set()


@pytest.mark.parametrize("name", sorted(OWNERS))
def test_each_shared_fact_has_one_owner(name):
    users = {module for module, edges in EDGES.items() if _package(module) != "knowledge"
             for names in edges.values() if name in names}
    assert users == OWNERS[name]
