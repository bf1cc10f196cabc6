"""api/demo's modules form no import cycle, and each imports alone in a fresh interpreter."""
from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import api.demo

ROOT = Path(api.demo.__file__).parent
PACKAGE = "api.demo"
MODULES = sorted(f"{PACKAGE}.{m.name}" for m in pkgutil.iter_modules([str(ROOT)]))


def _imports(name: str) -> set[str]:
    """api.demo modules that module ``name`` imports anywhere (module level, inside functions,
    under TYPE_CHECKING): ``from api.demo import x`` is module ``x`` when there is one, else
    the package itself."""
    path = ROOT / "__init__.py" if name == PACKAGE else ROOT / f"{name.rsplit('.', 1)[1]}.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith(PACKAGE))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == PACKAGE:
                found.update(f"{PACKAGE}.{a.name}" if f"{PACKAGE}.{a.name}" in MODULES
                             else PACKAGE for a in node.names)
            elif node.module.startswith(PACKAGE + "."):
                found.add(node.module)
    found.discard(name)
    return found


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` (as a path that ends where it starts), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_the_import_graph_of_api_demo_has_no_cycle():
    graph = {name: _imports(name) for name in [PACKAGE, *MODULES]}
    assert graph[f"{PACKAGE}.content"] and graph[f"{PACKAGE}.routing"]  # the graph was read
    cycle = _cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_finder_finds_one():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


@pytest.mark.parametrize("module", MODULES)
def test_each_module_imports_alone(module):
    out = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True,
                         text=True, timeout=60, cwd=ROOT.parent.parent)
    assert out.returncode == 0, out.stderr
