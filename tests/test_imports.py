"""The import graph of the project's own modules: no cycle anywhere, layouts pure, callbacks registered by the app.

The graph is read from the source (AST), imports inside functions included: an import moved into a function to dodge
a cycle at start-up is still a cycle for whoever reads or changes the code. Imports under ``if TYPE_CHECKING:`` are
left out (they never run). ``from package import name`` counts as an import of ``package.name`` when that is a module.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("dashboard", "geodata", "indicators", "bench")


def module_name(path: Path) -> str:
    """``dashboard/map/layout.py`` → ``dashboard.map.layout`` (a package is its ``__init__``)."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    """Every first-party module by dotted name."""
    return {module_name(path): path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))}


def _type_checking_only(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return True
    return False


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """First-party modules ``name`` imports, at any depth of its code (functions included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom) or _type_checking_only(node, parents):
            continue
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    """Module → first-party modules it imports."""
    modules = all_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    """Every module imported by ``start``, directly or not."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def is_callbacks(module: str) -> bool:
    """A module that registers Dash callbacks when imported."""
    return module.rpartition(".")[2] == "callbacks"


def test_the_graph_sees_imports_inside_functions(tmp_path):
    """A detector that missed function-level imports would pass on the very cycles it is meant to catch."""
    source = tmp_path / "probe.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from geodata import manifest\n"
        "def f():\n    from dashboard.core import ids\n    import geodata.bundle\n",
        encoding="utf-8",
    )
    assert imports_of("probe", source, all_modules()) == {"dashboard.core.ids", "geodata.bundle"}
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle_anywhere():
    assert cycles(import_graph()) == []


def test_layout_modules_register_no_callback():
    """Importing a layout (or a page) never registers a callback: only the app factory imports callback modules."""
    graph = import_graph()
    layouts = [m for m in graph if m.startswith("dashboard.") and m.rpartition(".")[2] in {"layout", "page", "pages"}]
    assert {"dashboard.map.layout", "dashboard.meeting.layout", "dashboard.donnees.page"} <= set(layouts)
    offenders = {m: sorted(x for x in reachable(graph, m) if is_callbacks(x)) for m in layouts}
    assert {m: found for m, found in offenders.items() if found} == {}


def test_only_the_app_factory_imports_callback_modules():
    graph = import_graph()
    importers = {m for m, targets in graph.items() if any(is_callbacks(t) for t in targets)}
    assert importers <= {"dashboard.app", "bench.app"}, importers - {"dashboard.app", "bench.app"}
