"""`studio-tui views list|show|save|delete` and `export --view`, against the in-process demo
backend (click's CliRunner), with a config dir of the test's own (conftest)."""
from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from api.config import config_dir
from tui.cli import main

BUILTIN_NAMES = ["negative", "handoffs", "frustration", "recontact", "degraded", "irrelevant"]
# the demo's clock (STUDIO_DEMO_ANCHOR 2026-06-15) ends its 30-day window here
WINDOW_30D = ("2026-05-17T00:00:00Z", "2026-06-16T00:00:00Z")


@pytest.fixture
def run(demo_db):
    def invoke(*args):
        return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)

    return invoke


@pytest.fixture
def config_file() -> Path:
    return config_dir() / "config.toml"


def one_error(result, code=2) -> str:
    assert result.exit_code == code, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def _without_stamp(path: Path) -> dict:
    data = json.loads(path.read_text(encoding="utf-8"))
    del data["exported_at"]
    return data


# ---------------------------------------------------------------- list / show
def test_list_shows_the_builtins_then_the_users(run, config_file):
    result = run("views", "list")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["NAME", "KIND", "WINDOW", "DESCRIPTION", "QUERY"]
    assert [line.split()[0] for line in lines[1:]] == BUILTIN_NAMES
    assert lines[1].split()[:3] == ["negative", "built-in", "30d"]
    assert lines[1].endswith("sentiment:negative")

    assert run("views", "save", "mine", "--handoff", "yes", "--window", "7d").exit_code == 0
    assert run("views", "save", "handoffs", "--handoff", "yes", "--tags", "vip").exit_code == 0
    data = json.loads(run("views", "list", "--format", "json").stdout)
    assert [v["name"] for v in data] == [*BUILTIN_NAMES, "mine"]
    for view in data:
        assert list(view) == ["name", "builtin", "description", "query", "window", "columns",
                              "filters"]
    handoffs = data[1]
    assert handoffs["builtin"] is False and handoffs["window"] is None
    assert handoffs["filters"] == {"has_handoff": True, "tags": ["vip"]}
    assert data[-1]["query"] == "handoff:yes" and data[-1]["window"] == "7d"
    lines = run("views", "list").stdout.splitlines()
    assert lines[2].split()[:3] == ["handoffs", "override", "-"]
    assert lines[-1].split()[:3] == ["mine", "user", "7d"]


def test_show_table_and_json(run):
    result = run("views", "show", "frustration")
    assert result.exit_code == 0, result.stderr
    shown = dict(line.split(":", 1) for line in result.stdout.splitlines())
    shown = {k: v.strip() for k, v in shown.items()}
    assert shown["kind"] == "built-in" and shown["window"] == "30d"
    assert shown["query"] == "handoff:yes reason:frustration"
    assert shown["dates"] == f"{WINDOW_30D[0]} .. {WINDOW_30D[1]}"
    assert shown["columns"].endswith("(default)")
    data = json.loads(run("views", "show", "frustration", "--format", "json").stdout)
    assert data["name"] == "frustration" and data["builtin"] is True
    assert (data["start_date"], data["end_date"]) == WINDOW_30D
    assert data["filters"] == {"has_handoff": True, "handoff_reason": ["frustration"]}


def test_unknown_view_lists_the_names(run):
    for args in (["views", "show", "nope"], ["views", "delete", "nope"]):
        line = one_error(run(*args))
        assert line == f"studio-tui: error: unknown view 'nope' (known: {', '.join(BUILTIN_NAMES)})"


# ---------------------------------------------------------------- save
def test_save_with_dates_columns_and_description(run, config_file):
    result = run("views", "save", "june", "--start", "2026-06-01", "--end", "2026-06-10",
                 "--sentiment", "negative,neutral", "--sort-by", "message_count",
                 "--columns", "last, id,tags", "--description", "June \x1b[31mreview")
    assert result.exit_code == 0, result.stderr
    assert "saved view june" in result.stdout
    text = config_file.read_text(encoding="utf-8")
    assert "[views.june]" in text and "window" not in text
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(config_file.parent.stat().st_mode) == 0o700
    data = json.loads(run("views", "show", "june", "--format", "json").stdout)
    assert data["columns"] == ["last", "id", "tags"] and data["window"] is None
    assert data["description"] == "June review"
    assert (data["start_date"], data["end_date"]) == ("2026-06-01T00:00:00Z",
                                                      "2026-06-10T00:00:00Z")
    assert data["filters"]["sort_by"] == "message_count"
    assert "\x1b" not in run("views", "list").stdout


def test_an_existing_view_needs_force(run, config_file):
    assert run("views", "save", "mine", "--window", "7d").exit_code == 0
    before = config_file.read_text(encoding="utf-8")
    line = one_error(run("views", "save", "mine", "--window", "24h"))
    assert "view mine exists" in line and "--force" in line
    assert config_file.read_text(encoding="utf-8") == before
    assert run("views", "save", "mine", "--window", "24h", "--force").exit_code == 0
    assert json.loads(run("views", "show", "mine", "--format", "json").stdout)["window"] == "24h"


@pytest.mark.parametrize(("args", "expected"), [
    (["mine", "--window", "7d", "--start", "2026-06-01"], "error: --window: not with --start"),
    (["mine", "--window", "7d", "--end", "2026-06-01"], "error: --window: not with --end"),
    (["mine", "--window", "fortnight"], "error: --window: window 'fortnight'"),
    (["mine", "--columns", "id,colour"], "error: --columns: unknown column 'colour'"),
    (["mine", "--columns", "id,id"], "error: --columns: column 'id' given twice"),
    (["mine", "--sentiment", "furious"], "error: --sentiment: unknown value 'furious'"),
    (["mine", "--start", "2026-06-10", "--end", "2026-06-01"], "error: --end: must be after"),
    (["my view"], "error: NAME: view name 'my view'"),
    (["x" * 65], "error: NAME: view name"),
])
def test_save_bad_input_names_the_flag(run, config_file, args, expected):
    line = one_error(run("views", "save", *args))
    assert expected in line
    assert not config_file.exists()


# ---------------------------------------------------------------- delete
def test_delete(run, config_file):
    config_file.parent.mkdir(parents=True)
    config_file.write_text('# mine\n[profiles.p]\nproject_id = "x"\n', encoding="utf-8")
    assert run("views", "save", "mine").exit_code == 0
    assert run("views", "save", "negative", "--sentiment", "negative").exit_code == 0
    result = run("views", "delete", "mine")
    assert result.exit_code == 0 and "deleted view mine" in result.stdout
    result = run("views", "delete", "negative")
    assert result.exit_code == 0 and "the built-in view negative is back" in result.stdout
    assert config_file.read_text(encoding="utf-8") == '# mine\n[profiles.p]\nproject_id = "x"\n'
    line = one_error(run("views", "delete", "negative"))
    assert "is built in: it cannot be deleted" in line


def test_a_broken_view_is_one_warning_and_the_rest_still_lists(run, config_file):
    config_file.parent.mkdir(parents=True)
    config_file.write_text('[views.bad]\nwindow = "soon"\n\n[views.good]\nquery = "risk:high"\n',
                           encoding="utf-8")
    result = run("views", "list")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1].split()[0] == "good"
    assert result.stderr.count("\n") == 1
    assert f"warning: {config_file}: [views.bad]: window 'soon'" in result.stderr
    line = one_error(run("views", "show", "bad"))
    assert f"{config_file}: [views.bad]: window 'soon'" in line
    line = one_error(run("export", "--view", "bad", "-o", config_file.parent / "o.json"))
    assert "--view: " in line and "[views.bad]" in line


def test_a_config_file_that_does_not_parse(run, config_file):
    config_file.parent.mkdir(parents=True)
    config_file.write_text("[views.x\n", encoding="utf-8")
    assert "cannot parse" in one_error(run("views", "list"))
    assert "cannot parse" in one_error(run("views", "save", "a"))
    assert config_file.read_text(encoding="utf-8") == "[views.x\n"


def test_a_config_file_that_cannot_be_written_exits_1(run, config_file):
    config_file.mkdir(parents=True)  # (a directory: even root cannot write it as a file)
    line = one_error(run("views", "save", "a"), code=1)
    assert line.startswith(f"studio-tui: error: cannot write {config_file}: ")


# ---------------------------------------------------------------- export --view
def test_export_view_equals_the_same_flags(run, tmp_path):
    by_view, by_flags = tmp_path / "view.json", tmp_path / "flags.json"
    result = run("export", "--view", "negative", "-o", by_view)
    assert result.exit_code == 0, result.stderr
    assert run("export", "--start", WINDOW_30D[0], "--end", WINDOW_30D[1],
               "--sentiment", "negative", "-o", by_flags).exit_code == 0
    data = _without_stamp(by_view)
    assert data["total_exported"] > 0
    assert {c["sentiment_label"] for c in data["conversations"]} == {"negative"}
    assert data == _without_stamp(by_flags)


def test_export_flags_override_the_views_fields(run, tmp_path):
    assert run("views", "save", "june", "--start", "2026-06-01", "--end", "2026-06-10",
               "--handoff", "yes", "--sort-by", "message_count").exit_code == 0
    by_view, by_flags = tmp_path / "view.jsonl", tmp_path / "flags.jsonl"
    result = run("export", "--view", "june", "--handoff", "no", "--end", "2026-06-05",
                 "--format", "jsonl", "-o", by_view)
    assert result.exit_code == 0, result.stderr
    assert run("export", "--start", "2026-06-01", "--end", "2026-06-05", "--handoff", "no",
               "--sort-by", "message_count", "--format", "jsonl", "-o", by_flags).exit_code == 0
    rows = by_view.read_text(encoding="utf-8")
    assert rows and rows == by_flags.read_text(encoding="utf-8")
    assert not any(json.loads(line)["has_handoff"] for line in rows.splitlines())


def test_export_with_an_unknown_view_or_no_dates(run, tmp_path):
    out = tmp_path / "o.json"
    line = one_error(run("export", "--view", "nope", "-o", out))
    assert line == ("studio-tui: error: --view: unknown view 'nope' "
                    f"(known: {', '.join(BUILTIN_NAMES)})")
    assert run("views", "save", "undated", "--handoff", "yes").exit_code == 0
    line = one_error(run("export", "--view", "undated", "-o", out))
    assert line == ("studio-tui: error: --start and --end are required (YYYY-MM-DD or ISO "
                    "8601) (view undated has no window or dates)")
    assert not out.exists()
    result = run("export", "--view", "undated", "--start", "2026-06-14", "--end", "2026-06-15",
                 "-o", out)
    assert result.exit_code == 0, result.stderr
    assert all(c["has_handoff"] for c in json.loads(out.read_text())["conversations"])


@pytest.mark.parametrize("args,fresh", [([], False), (["--fresh"], True)])
def test_fresh_reaches_the_app(monkeypatch, args, fresh):
    import tui.app

    started = []
    monkeypatch.setattr(tui.app, "run_app", lambda settings, **kw: started.append(kw))
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0
    assert started == [{"fresh": fresh, "screen": "explorer"}]
