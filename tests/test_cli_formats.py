"""Machine-readable output of the listing commands: `--format json`, stable keys."""
from __future__ import annotations

import json

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
