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


# ------------------------------------------------------------------ public Textual API only
#: where Textual defines a single-underscore name: a def or class, `self._x = ...`, or a class
#: attribute (read from its sources as text: parsing them all would cost more than the check)
TEXTUAL_DEFINES = re.compile(r"^\s*(?:async\s+)?(?:def|class)\s+(_[A-Za-z]\w*)"
                             r"|\bself\.(_[A-Za-z]\w*)\s*(?::[^=\n]*)?=(?!=)"
                             r"|^\s+(_[A-Za-z]\w*)\s*(?::[^=\n]*)?=(?!=)", re.MULTILINE)
CHECKED = ("screens", "widgets", "tui", "tests")


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__") and name != "_"


def _textual_private_names() -> set[str]:
    import textual

    names: set[str] = set()
    for path in Path(textual.__file__).parent.rglob("*.py"):
        for match in TEXTUAL_DEFINES.finditer(path.read_text(encoding="utf-8")):
            names.add(next(group for group in match.groups() if group))
    return names


def _defined(tree: ast.AST) -> set[str]:
    """The single-underscore names a module of ours defines (functions, classes, attributes
    it assigns, variables): its own private names, whatever Textual calls its."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return {name for name in names if _private(name)}


def private_textual_uses(tree: ast.AST, textual_private: set[str],
                         ours: set[str]) -> list[tuple[int, str]]:
    """(line, what) of each private Textual module imported, private name imported from
    Textual, or attribute read by a Textual-private name that no module of ours defines (the
    attributes of other modules imported by name, such as `os._exit`, left alone)."""
    modules = {alias.asname or alias.name.split(".")[0] for node in ast.walk(tree)
               if isinstance(node, ast.Import) for alias in node.names
               if _top(alias.name) != "textual"}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names
                      if _top(alias.name) == "textual"
                      and any(_private(part) for part in alias.name.split("."))]
        elif isinstance(node, ast.ImportFrom) and node.module and _top(node.module) == "textual":
            if any(_private(part) for part in node.module.split(".")):
                found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names
                      if _private(alias.name)]
        elif (isinstance(node, ast.Attribute) and node.attr in textual_private
              and node.attr not in ours
              and not (isinstance(node.value, ast.Name) and node.value.id in modules)):
            found.append((node.lineno, f".{node.attr}"))
    return found


def test_no_private_textual_name_is_used():
    trees = {path: ast.parse(path.read_text(encoding="utf-8"))
             for package in ("api", *CHECKED) for path in _sources(package)}
    ours = set().union(*(_defined(tree) for tree in trees.values()))
    textual_private = _textual_private_names()
    assert {"_bindings", "_screen_stacks", "_modes", "_options"} <= textual_private
    wrong = [f"{path.relative_to(ROOT)}:{line}: {what}"
             for path, tree in trees.items() if path.relative_to(ROOT).parts[0] in CHECKED
             for line, what in private_textual_uses(tree, textual_private, ours)]
    assert not wrong, "private Textual API used:\n" + "\n".join(wrong)


@pytest.mark.parametrize(("code", "found"), [
    ("from textual._styles_cache import StylesCache", ["textual._styles_cache"]),
    ("import textual._compositor", ["textual._compositor"]),
    ("from textual.app import _private_thing", ["textual.app._private_thing"]),
    ("stacks = app._screen_stacks", ["._screen_stacks"]),
    ("keys = screen._bindings.key_to_bindings", ["._bindings"]),
    ("self._own = 1\nprint(self._own)", []),
    ("import os\nos._exit(0)", []),
    ("from textual.app import App\napp = App()", []),
])
def test_the_private_check_sees_private_names(code, found):
    tree = ast.parse(code)
    textual_private = {"_screen_stacks", "_bindings", "_own", "_exit"}
    assert [what for _, what in private_textual_uses(tree, textual_private,
                                                     _defined(tree))] == found
