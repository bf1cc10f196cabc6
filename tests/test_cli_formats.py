"""Machine-readable output of the listing commands: `--format json`, stable keys."""
from __future__ import annotations

import json
import re
from typing import Any

import click
import pytest
from click.testing import CliRunner

from tui.cli import main


def run(*args: str):
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def test_locate_json_has_every_path_and_the_review_store(demo_db, own_user_dirs):
    data = json.loads(run("locate", "--format", "json").stdout)
    paths = data["paths"]
    assert set(paths) >= {"config_dir", "config_file", "cache_dir", "response_cache",
                          "demo_database_dir", "data_dir", "review_store"}
    assert paths["data_dir"] == str(own_user_dirs / "data")
    assert paths["review_store"].endswith("reviews.sqlite3")
    assert all({"path", "bytes"} == set(db) for db in data["demo_databases"])
    assert data["using"].startswith("DEMO backend")
    text = run("locate").stdout  # the text form says the same
    assert f"review store: {paths['review_store']}" in text


def test_cache_stats_json(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_TUI_CACHE_DIR", str(tmp_path / "cache"))
    data = json.loads(run("cache", "stats", "--format", "json").stdout)
    assert set(data) == {"path", "entries", "bytes", "size_limit"}
    assert data["entries"] == 0 and data["path"].startswith(str(tmp_path))


# ------------------------------------------------------------------ the keys --help documents
def documented(*path: str) -> list[list[str]]:
    """The keys of each `{...}` the `--format` help of command `path` shows, in order: the
    quoted names at that object's own level (`[{...}]`: a list of such objects)."""
    command: Any = main
    for name in path:
        command = command.commands[name]
    (option,) = [p for p in command.params if p.name == "fmt"]
    objects: list[list[str]] = []
    open_: list[int | None] = []  # per open bracket: its object's index, None for a list
    for match in re.finditer(r'"(\w+)"|[{}\[\]]', option.help or ""):
        token = match.group()
        if token == "{":
            objects.append([])
            open_.append(len(objects) - 1)
        elif token == "[":
            open_.append(None)
        elif token in "}]":
            open_.pop()
        elif open_ and open_[-1] is not None:
            objects[open_[-1]].append(match.group(1))
    return objects


def walk(command: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    if isinstance(command, click.Group):
        return [p for name, sub in command.commands.items() for p in walk(sub, (*path, name))]
    return [path]


def test_every_json_format_documents_its_keys_in_help():
    """Every command printing JSON on `--format json` says its keys in --help (`export`
    writes a file: its format is the file's, documented in api/export.py)."""
    checked = []
    for path in walk(main):
        command: Any = main
        for name in path:
            command = command.commands[name]
        fmt = [p for p in command.params if p.name == "fmt"]
        if path == ("export",) or not fmt or "json" not in getattr(fmt[0].type, "choices", ()):
            continue
        objects = documented(*path)
        assert objects and objects[0], f"{' '.join(path)} --format: no keys in its help"
        assert "--format" in run(*path, "--help").stdout
        checked.append(path)
    assert {("locate",), ("views", "list"), ("compare",), ("cost",)} <= set(checked)
    # and a test below compares them with the real output, so a typo in --help fails
    assert set(checked) == COMPARED_WITH_OUTPUT


COMPARED_WITH_OUTPUT = {
    ("locate",), ("cache", "stats"), ("views", "list"), ("views", "show"),
    ("reviews", "list"), ("reviews", "import"),
    ("compare",), ("kb-health",), ("cost",), ("impact",), ("theme",),
}


def keys_of(data: Any) -> list[str]:
    return list(data[0] if isinstance(data, list) else data)


def test_locate_and_cache_stats_keys_are_the_documented_ones(demo_db):
    data = json.loads(run("locate", "--format", "json").stdout)
    assert keys_of(data) == documented("locate")[0]
    assert keys_of(data["demo_databases"]) == documented("locate")[2]
    stats = json.loads(run("cache", "stats", "--format", "json").stdout)
    assert keys_of(stats) == documented("cache", "stats")[0]


def test_views_keys_are_the_documented_ones():
    listing = json.loads(run("views", "list", "--format", "json").stdout)
    assert listing and all(list(view) == documented("views", "list")[0] for view in listing)
    name = listing[0]["name"]
    shown = json.loads(run("views", "show", name, "--format", "json").stdout)
    assert keys_of(shown) == documented("views", "show")[0]


def test_reviews_keys_are_the_documented_ones(demo_db, tmp_path):
    assert run("reviews", "mark", "conv-1", "conv-2", "--status", "flagged").exit_code == 0
    rows = json.loads(run("reviews", "list", "--format", "json").stdout)
    assert len(rows) == 2 and all(list(row) == documented("reviews", "list")[0] for row in rows)
    lines = run("reviews", "list", "--format", "jsonl").stdout.splitlines()
    assert [json.loads(line) for line in lines] == rows
    header = run("reviews", "list", "--format", "csv").stdout.splitlines()[0]
    assert header.split(",") == documented("reviews", "list")[0]

    out = tmp_path / "reviews.json"
    assert run("reviews", "export", "-o", str(out)).exit_code == 0
    report = json.loads(run("reviews", "import", str(out), "--format", "json").stdout)
    assert keys_of(report) == documented("reviews", "import")[0]


WINDOW = ("--start", "2026-06-01", "--end", "2026-06-15")  # within the pinned demo's data


@pytest.mark.parametrize(("args", "nested"), [
    (("compare", "negative", "handoffs"), "metrics"),
    (("kb-health", *WINDOW), "items"),
    (("cost", *WINDOW), None),
    (("impact", "Support Assistant", "--days", "3"), None),
    (("theme",), None),
    (("theme", "nord"), None),  # the list after the change
])
def test_command_keys_are_the_documented_ones(demo_db, args, nested):
    data = json.loads(run(*args, "--format", "json").stdout)
    doc = documented(args[0])
    assert keys_of(data) == doc[0]
    if isinstance(data, list):  # one object per deployment, per theme
        assert data and all(list(item) == doc[0] for item in data)
    if nested is not None:  # the objects of the list under `nested`, documented next
        assert data[nested] and all(list(item) == doc[1] for item in data[nested])
