"""``studio-tui reviews ...``, ``export --with-reviews`` and ``locate`` against the in-process
demo backend (click's CliRunner; subprocesses for two writers at once)."""
from __future__ import annotations

import csv
import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from api.export import REVIEW_CSV_COLUMNS
from tui.cli import main

ROOT = Path(__file__).resolve().parent.parent
END = "2026-06-16"


@pytest.fixture
def run(demo_db):
    def invoke(*args, env=None):
        return CliRunner().invoke(main, [str(a) for a in args], env=env,
                                  catch_exceptions=False)

    return invoke


@pytest.fixture
def demo_ids(run):
    listing = run("fetch", "/projects/{pid}/conversations", "--params", "limit=4",
                  "start_date=2026-06-10T00:00:00Z", f"end_date={END}T00:00:00Z")
    return [c["conversation_id"] for c in json.loads(listing.stdout)["conversations"]]


def listed(run, *args, env=None):
    result = run("reviews", "list", "--format", "json", *args, env=env)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


# ---------------------------------------------------------------- mark and list
def test_mark_then_list_in_every_format(run, demo_ids):
    a, b, c = demo_ids[:3]
    result = run("reviews", "mark", a, b, "--status", "reviewed", "--verdict", "kb_gap",
                 "--note", "=HYPERLINK(\"http://evil\")")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "marked 2 conversations: status reviewed, verdict kb_gap, note\n"
    assert run("reviews", "mark", b, "--status", "flagged").exit_code == 0
    assert run("reviews", "mark", c, "--note", "later").exit_code == 0

    rows = {r["conversation_id"]: r for r in listed(run)}
    assert list(rows[a]) == ["conversation_id", "status", "verdict", "note", "who",
                             "updated_at"]
    assert (rows[a]["status"], rows[a]["verdict"]) == ("reviewed", "kb_gap")
    assert (rows[b]["status"], rows[b]["verdict"]) == ("flagged", "kb_gap")  # verdict kept
    assert (rows[c]["status"], rows[c]["note"]) == ("todo", "later")
    assert [r["conversation_id"] for r in listed(run, "--status", "flagged")] == [b]

    jsonl = run("reviews", "list", "--format", "jsonl").stdout.splitlines()
    assert [json.loads(line) for line in jsonl] == listed(run)

    table = run("reviews", "list", "--status", "reviewed").stdout.splitlines()
    assert table[0].split() == ["conversation", "status", "verdict", "who", "updated", "note"]
    assert len(table) == 2 and table[1].startswith(a) and "kb_gap" in table[1]

    text = run("reviews", "list", "--format", "csv").stdout
    rows_csv = list(csv.DictReader(io.StringIO(text)))
    assert [r["conversation_id"] for r in rows_csv] == [r["conversation_id"]
                                                        for r in listed(run)]
    note = next(r["note"] for r in rows_csv if r["conversation_id"] == a)
    assert note == "'=HYPERLINK(\"http://evil\")"  # the export's formula guard


def test_mark_bad_input_is_one_line_exit_2(run, demo_ids):
    for args, expected in (
        (["--verdict", "meh"], "unknown verdict 'meh' (one of: bot_correct, bot_wrong,"),
        (["--status", "done"], "unknown status 'done'"),
        ([], "nothing to mark: give --status, --verdict or --note"),
        (["--note", "x" * 10_001], "at most 10,000"),
    ):
        result = run("reviews", "mark", demo_ids[0], *args)
        assert result.exit_code == 2, (args, result.stderr)
        errors = [line for line in result.stderr.splitlines() if "error" in line]
        assert len(errors) == 1 and expected in errors[0], result.stderr
    assert run("reviews", "mark", "--status", "reviewed").exit_code == 2  # no ID
    assert listed(run) == []
    result = run("reviews", "list", "--status", "done")
    assert result.exit_code == 2 and "--status: unknown status 'done'" in result.stderr


def test_hostile_note_never_reaches_the_terminal(run, demo_ids):
    hostile = "\x1b]0;pwned\x07\x1b[31mred\x1b[0m\u202e txt\nnext"
    assert run("reviews", "mark", demo_ids[0], "--status", "flagged", "--note",
               hostile).exit_code == 0
    table = run("reviews", "list").stdout
    assert "\x1b" not in table and "\u202e" not in table and "\x07" not in table
    assert "red txt next" in table
    assert listed(run)[0]["note"] == "red txt\nnext"


def test_configured_verdicts_and_who(run, demo_ids, own_user_dirs):
    config = own_user_dirs / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[reviews]\nverdicts = ["good", "bad"]\nwho = "Lead QA"\n')
    result = run("reviews", "mark", demo_ids[0], "--verdict", "kb_gap")
    assert result.exit_code == 2 and "(one of: good, bad)" in result.stderr
    assert run("reviews", "mark", demo_ids[0], "--verdict", "bad").exit_code == 0
    assert listed(run)[0]["who"] == "Lead QA"
    config.write_text("[reviews]\nverdicts = 3\n")
    result = run("reviews", "mark", demo_ids[0], "--verdict", "bad")
    assert result.exit_code == 2 and "reviews.verdicts" in result.stderr


def test_damaged_store_is_one_line_exit_1(run, own_user_dirs, demo_ids):
    store = own_user_dirs / "data" / "reviews.sqlite3"
    store.parent.mkdir(parents=True)
    store.write_bytes(b"garbage" * 500)
    for args in (["list"], ["mark", demo_ids[0], "--status", "reviewed"]):
        result = run("reviews", *args)
        assert result.exit_code == 1
        errors = [line for line in result.stderr.splitlines() if "error" in line]
        assert len(errors) == 1 and str(store) in errors[0] and "damaged" in errors[0]
        assert "Traceback" not in result.stderr


# ---------------------------------------------------------------- export / import
def test_export_then_import_elsewhere_with_conflicts(run, demo_ids, tmp_path, own_user_dirs):
    a, b, c = demo_ids[:3]
    assert run("reviews", "mark", a, b, "--status", "reviewed").exit_code == 0
    out = tmp_path / "reviews.json"
    result = run("reviews", "export", "-o", out)
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    document = json.loads(out.read_text())
    assert document["format"] == "studio-tui-reviews" and len(document["reviews"]) == 2
    assert "exported 2 reviews" in result.stderr

    # another user's store: marks a differently, later; then imports the file
    other = {"STUDIO_TUI_DATA_DIR": str(tmp_path / "other-data")}
    assert run("reviews", "mark", a, "--status", "flagged", env=other).exit_code == 0
    assert run("reviews", "mark", c, "--status", "flagged", env=other).exit_code == 0
    result = run("reviews", "import", out, env=other)
    assert result.exit_code == 0, result.stderr
    conflict = [line for line in result.stderr.splitlines() if "conflict on" in line]
    assert len(conflict) == 1 and a in conflict[0] and "local kept" in conflict[0]
    assert "1 added, 0 updated, 0 unchanged, 1 kept local; 1 conflict" in result.stderr
    statuses = {r["conversation_id"]: r["status"] for r in listed(run)}
    assert statuses == {a: "reviewed", b: "reviewed"}  # the first store is untouched
    assert {r["conversation_id"]: r["status"] for r in listed(run, env=other)} == {
        a: "flagged", b: "reviewed", c: "flagged"}

    again = run("reviews", "import", out, "--format", "json", env=other)
    assert again.exit_code == 0
    assert json.loads(again.stdout) == {"added": 0, "updated": 0, "unchanged": 1,
                                        "kept_local": 1, "conflicts": [json.loads(
                                            again.stdout)["conflicts"][0]]}
    assert json.loads(again.stdout)["conflicts"][0]["winner"] == "local"


def test_import_refuses_bad_files(run, tmp_path):
    for name, body, expected in (
        ("bad.json", "{not json", "not JSON"),
        ("other.json", json.dumps({"format": "studio-tui-reviews", "version": 1,
                                   "project_id": "someone-else", "reviews": []}),
         "holds the reviews of project 'someone-else'"),
        ("rec.json", json.dumps([{"conversation_id": "x", "status": "maybe",
                                  "updated_at": "2026-06-01T00:00:00Z"}]),
         "record 1: unknown status 'maybe'"),
        ("foreign.json", json.dumps({"hello": 1}), "not a studio-tui reviews export"),
    ):
        path = tmp_path / name
        path.write_text(body)
        result = run("reviews", "import", path)
        assert result.exit_code == 2, result.stderr
        errors = [line for line in result.stderr.splitlines() if "error" in line]
        assert len(errors) == 1 and expected in errors[0], result.stderr
    result = run("reviews", "import", tmp_path / "missing.json")
    assert result.exit_code == 2 and "cannot read" in result.stderr
    assert listed(run) == []


# ---------------------------------------------------------------- export --with-reviews
def test_export_with_reviews_json_jsonl_and_csv(run, demo_ids, tmp_path):
    a, b, c = demo_ids[:3]
    assert run("reviews", "mark", a, "--status", "flagged", "--verdict", "bot_wrong",
               "--note", "@SUM(1)").exit_code == 0
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text(f"{a}\n{b}\n{c}\n")
    mine = listed(run)[0]

    out = tmp_path / "o.json"
    result = run("export", "--ids-from", ids_file, "--with-reviews", "-o", out)
    assert result.exit_code == 0, result.stderr
    convs = json.loads(out.read_text())["conversations"]
    assert [c_["review"] for c_ in convs] == [mine, None, None]
    assert list(convs[0])[-1] == "review"

    out = tmp_path / "o.jsonl"
    assert run("export", "--ids-from", ids_file, "--with-reviews", "--format", "jsonl",
               "-o", out).exit_code == 0
    assert [json.loads(line)["review"] for line in out.read_text().splitlines()] == [
        mine, None, None]

    out = tmp_path / "o.csv"
    assert run("export", "--ids-from", ids_file, "--with-reviews", "--format", "csv",
               "-o", out).exit_code == 0
    reader = csv.DictReader(io.StringIO(out.read_text(encoding="utf-8")))
    assert reader.fieldnames[-5:] == REVIEW_CSV_COLUMNS
    rows = list(reader)
    assert [r["review_status"] for r in rows] == ["flagged", "", ""]
    assert rows[0]["review_verdict"] == "bot_wrong" and rows[0]["review_note"] == "'@SUM(1)"
    assert rows[0]["review_updated_at"] == mine["updated_at"]

    # without the flag: no review anywhere (the brief's bytes)
    plain = tmp_path / "plain.csv"
    assert run("export", "--ids-from", ids_file, "--format", "csv", "-o", plain).exit_code == 0
    assert "review_status" not in plain.read_text().splitlines()[0]


def test_export_with_reviews_and_messages_by_query(run, demo_ids, tmp_path):
    """A JSON export with messages (encoded in a worker process otherwise) carries the
    reviews too."""
    a = demo_ids[0]
    assert run("reviews", "mark", a, "--status", "reviewed").exit_code == 0
    out = tmp_path / "o.json"
    result = run("export", "--start", "2026-06-10", "--end", END, "--messages",
                 "--with-reviews", "-o", out)
    assert result.exit_code == 0, result.stderr
    convs = json.loads(out.read_text())["conversations"]
    assert len(convs) > 50 and all("review" in c and "messages" in c for c in convs)
    assert {c["conversation_id"] for c in convs if c["review"]} == {a}


# ---------------------------------------------------------------- views, locate, processes
def test_list_by_view(run, demo_ids):
    pytest.importorskip("api.views")
    everything = run("reviews", "list", "--view", "negative", "--format", "json")
    assert everything.exit_code == 0, everything.stderr
    rows = json.loads(everything.stdout)
    assert rows and {r["status"] for r in rows} == {"todo"}
    first, second = rows[0]["conversation_id"], rows[1]["conversation_id"]
    assert run("reviews", "mark", first, second, "--status", "reviewed").exit_code == 0
    assert run("reviews", "mark", demo_ids[0], "--status", "reviewed").exit_code == 0
    result = run("reviews", "list", "--view", "negative", "--status", "reviewed",
                 "--format", "json")
    reviewed = {r["conversation_id"] for r in json.loads(result.stdout)}
    assert {first, second} <= reviewed and len(reviewed) <= 3
    assert f"{len(rows)} conversations:" in result.stderr
    unknown = run("reviews", "list", "--view", "no-such-view")
    assert unknown.exit_code == 2 and "negative" in unknown.stderr


def test_locate_prints_the_review_store(run, own_user_dirs):
    result = run("locate")
    assert result.exit_code == 0
    assert f"review store: {own_user_dirs / 'data' / 'reviews.sqlite3'}" in result.stdout


def test_two_processes_marking_at_once(demo_db, tmp_path):
    """Two `studio-tui reviews mark` loops on the same conversations, one setting the
    status, the other the note: every write of both is there."""
    ids = [f"conv-{i}" for i in range(12)]
    cli = [sys.executable, "-c", "from tui.cli import main; main()", "reviews", "mark"]
    procs = [subprocess.Popen(
        [sys.executable, "-c", f"""
import subprocess, sys
for cid in {ids!r}:
    subprocess.run({cli!r} + [cid, {flag!r}, {value!r}], check=True, capture_output=True)
"""], env=os.environ.copy(), cwd=ROOT, stderr=subprocess.PIPE, text=True)
        for flag, value in (("--status", "reviewed"), ("--note", "seen"))]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    result = CliRunner().invoke(main, ["reviews", "list", "--format", "json"])
    rows = {r["conversation_id"]: r for r in json.loads(result.stdout)}
    assert sorted(rows) == sorted(ids)
    assert all(r["status"] == "reviewed" and r["note"] == "seen" for r in rows.values())


async def test_the_store_scope_is_the_clients_project_found_without_one(demo_db):
    """`reviews` finds its project without a client: the demo database's, which the client
    addresses too; a token's own project otherwise; a bad demo size is a ConfigError."""
    from api.client import StudioClient
    from api.config import Secret, load_settings
    from api.errors import ConfigError
    from api.scope import project_id

    demo = load_settings()
    async with StudioClient.from_settings(demo, cache=False) as client:
        assert project_id(demo) == client.project_id != ""
    real = demo.replace(demo=False, token=Secret("t0k"), project_id="proj-9")
    assert project_id(real) == "proj-9"
    with pytest.raises(ConfigError, match="demo size"):
        project_id(demo.replace(demo_size=0))
