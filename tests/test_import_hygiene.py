"""The layers of docs/ARCHITECTURE.md: api/ knows no UI, widgets/ know no screen and no `tui`
code, and no API path is written outside api/."""
from __future__ import annotations

import ast
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import api

ROOT = Path(api.__file__).parent.parent
UI_PACKAGES = ("textual", "textual_plotext", "screens", "widgets", "tui")
#: what a literal that starts an API path (or fills the project in one) looks like: a string
#: starting with one of the API's top-level resources, any `/projects/`, or a `{pid}` template
API_PATH = re.compile(r"^/(projects|account|playbooks|knowledgebases|conversations|analytics"
                      r"|evals|csat|trending|api-tools)(/|$)|/projects/|\{pid\}")


def _sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _imported(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, module) of every import of a module, top-level or not."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def _top(module: str) -> str:
    return module.split(".")[0]


def _string_literals(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, text) of the string constants of `tree` (f-string pieces too), docstrings left
    out: they may show a path, they do not build one."""
    docstrings = {
        id(node.body[0].value) for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in docstrings]


def test_api_imports_no_ui_module():
    """Importing every api/ module (subpackages included) loads no UI package."""
    modules = sorted(m.name for m in pkgutil.walk_packages(api.__path__, "api."))
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {UI_PACKAGES!r})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"api/ pulled in UI modules: {out.stdout.strip()}"
    assert {"api.client", "api.cache", "api.endpoints.conversations", "api.demo.app"} <= set(
        modules)


@pytest.mark.parametrize(("package", "forbidden"), [
    ("api", UI_PACKAGES),  # also the imports inside functions, which the run above misses
    ("widgets", ("screens", "tui")),
])
def test_layers_import_nothing_above_them(package, forbidden):
    wrong = [f"{path.relative_to(ROOT)}:{line}: {module}"
             for path in _sources(package)
             for line, module in _imported(ast.parse(path.read_text(encoding="utf-8")))
             if _top(module) in forbidden]
    assert not wrong, f"{package}/ imports from a layer above it:\n" + "\n".join(wrong)


def test_no_api_path_is_written_outside_api():
    wrong = [f"{path.relative_to(ROOT)}:{line}: {text[:60]!r}"
             for package in ("screens", "widgets", "tui")
             for path in _sources(package)
             for line, text in _string_literals(ast.parse(path.read_text(encoding="utf-8")))
             if API_PATH.search(text)]
    assert not wrong, ("API paths are built by api.endpoints (`path`, `project_path`) only:\n"
                       + "\n".join(wrong))


@pytest.mark.parametrize("text", ["/projects/", "/conversations", "/playbooks/{}/active",
                                  "/projects/{pid}/x", "{pid}", "/analytics/kbs"])
def test_the_path_check_sees_paths(text):
    assert API_PATH.search(text)


@pytest.mark.parametrize("text", ["conversations", "Project/account", "./conversations-",
                                  "Export conversations", "a/b"])
def test_the_path_check_leaves_words_alone(text):
    assert not API_PATH.search(text)
