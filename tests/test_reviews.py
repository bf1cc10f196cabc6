"""The review store (api/reviews.py): owner-only files, partial updates, concurrent writers,
import merges, damaged files and hostile text."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from api.config import load_settings
from api.errors import ConfigError
from api.reviews import (
    DEFAULT_VERDICTS,
    MAX_NOTE_CHARS,
    Review,
    ReviewError,
    ReviewStore,
    ReviewStoreError,
    parse_export,
    review_settings,
    review_store_path,
)

BASE = "https://api.example.test"
T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def path(tmp_path):
    return tmp_path / "data" / "reviews.sqlite3"


@pytest.fixture
def store(path):
    with ReviewStore.open(path, base_url=BASE, project_id="p1") as opened:
        yield opened


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


# ---------------------------------------------------------------- files
def test_store_files_are_owner_only_even_under_a_lax_umask(tmp_path):
    """A fresh process with umask 000: the directory is 0700, the database and its WAL
    files 0600."""
    path = tmp_path / "new" / "dir" / "reviews.sqlite3"
    code = textwrap.dedent(f"""
        import os
        os.umask(0)
        from api.reviews import ReviewStore
        store = ReviewStore.open({str(path)!r}, base_url={BASE!r}, project_id="p1")
        store.mark(["c1"], status="reviewed", who="me")
        print(sorted(os.listdir({str(path.parent)!r})))
        os._exit(0)  # keep -wal and -shm as a running app has them
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    assert "reviews.sqlite3-wal" in out.stdout and "reviews.sqlite3-shm" in out.stdout
    assert mode(path.parent) == 0o700
    for name in ("reviews.sqlite3", "reviews.sqlite3-wal", "reviews.sqlite3-shm"):
        assert mode(path.parent / name) == 0o600, name


def test_an_existing_lax_directory_is_made_owner_only(path):
    path.parent.mkdir(mode=0o755)
    os.chmod(path.parent, 0o755)
    ReviewStore.open(path, base_url=BASE, project_id="p1").close()
    assert mode(path.parent) == 0o700 and mode(path) == 0o600


def test_store_path_is_in_the_data_dir(tmp_path):
    settings = load_settings(env={"STUDIO_TUI_DATA_DIR": str(tmp_path / "d"),
                                  "STUDIO_TUI_CONFIG_DIR": str(tmp_path / "c")})
    assert review_store_path(settings) == tmp_path / "d" / "reviews.sqlite3"


# ---------------------------------------------------------------- marking
def test_mark_changes_only_the_fields_given(store):
    store.mark(["c1", "c2"], status="reviewed", who="ann", now=T0)
    store.mark(["c1"], verdict="kb_gap", who="bob", now=T0 + timedelta(minutes=1))
    [after] = store.mark(["c1"], note="cites the old policy", who="cy",
                         now=T0 + timedelta(minutes=2))
    assert after == Review("c1", "reviewed", "kb_gap", "cites the old policy", "cy",
                           "2026-06-01T12:02:00.000Z")
    assert store.get(["c2", "nope"]) == {
        "c2": Review("c2", "reviewed", None, "", "ann", "2026-06-01T12:00:00.000Z")}
    # a verdict or a note alone on a new conversation: the rest is the default
    [fresh] = store.mark(["c3"], verdict="bot_wrong", who="ann", now=T0)
    assert (fresh.status, fresh.verdict, fresh.note) == ("todo", "bot_wrong", "")
    # "" clears
    [cleared] = store.mark(["c1"], verdict="", note="", who="ann", now=T0)
    assert (cleared.status, cleared.verdict, cleared.note) == ("reviewed", None, "")


def test_mark_needs_a_field_and_checks_them(store):
    with pytest.raises(ReviewError, match="nothing to mark"):
        store.mark(["c1"], who="me")
    with pytest.raises(ReviewError, match=r"unknown status 'done' \(one of: todo, reviewed, "
                                          r"flagged\)"):
        store.mark(["c1"], status="done", who="me")
    with pytest.raises(ReviewError) as err:
        store.mark(["c1"], verdict="meh", who="me")
    assert str(err.value) == f"unknown verdict 'meh' (one of: {', '.join(DEFAULT_VERDICTS)})"
    with pytest.raises(ReviewError, match="at most 10,000"):
        store.mark(["c1"], note="x" * (MAX_NOTE_CHARS + 1), who="me")
    assert store.get(["c1"]) == {}  # nothing half-done


def test_configured_verdicts_replace_the_defaults(path):
    with ReviewStore.open(path, base_url=BASE, project_id="p1", verdicts=("good", "bad")) as s:
        s.mark(["c1"], verdict="bad", who="me")
        with pytest.raises(ReviewError, match=r"\(one of: good, bad\)"):
            s.mark(["c1"], verdict="kb_gap", who="me")


def test_list_counts_and_scope(path, store):
    store.mark(["a"], status="reviewed", who="me", now=T0)
    store.mark(["b"], status="flagged", who="me", now=T0 + timedelta(seconds=1))
    store.mark(["c"], status="reviewed", who="me", now=T0 + timedelta(seconds=2))
    assert [r.conversation_id for r in store.list()] == ["c", "b", "a"]  # newest first
    assert [r.conversation_id for r in store.list("reviewed")] == ["c", "a"]
    assert store.counts(["a", "b", "c", "d", "e", "a"]) == {
        "todo": 2, "reviewed": 2, "flagged": 1}
    # the URL's credentials are no part of the key; another project sees nothing of p1's
    with ReviewStore.open(path, base_url="https://u:secret@api.example.test/",
                          project_id="p1") as same:
        assert same.base_url == BASE
        assert len(same.list()) == 3
    with ReviewStore.open(path, base_url=BASE, project_id="p2") as other:
        assert other.list() == [] and other.get(["a"]) == {}
    assert "secret" not in path.read_bytes().decode("latin-1")


def test_last_look_per_view_and_scope(path, store):
    assert store.last_look("negative") is None
    store.set_last_look("negative", T0)
    store.set_last_look("handoffs", "2026-06-02T08:00:00+02:00")
    assert store.last_look("negative") == "2026-06-01T12:00:00.000Z"
    assert store.last_look("handoffs") == "2026-06-02T06:00:00.000Z"
    store.set_last_look("negative", T0 + timedelta(days=1))
    assert store.last_look("negative") == "2026-06-02T12:00:00.000Z"
    with ReviewStore.open(path, base_url=BASE, project_id="p2") as other:
        assert other.last_look("negative") is None


# ---------------------------------------------------------------- two processes
WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from api.reviews import ReviewStore
    path, me, go = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    store = ReviewStore.open(path, base_url="https://api.example.test", project_id="p1")
    go.with_name(me + ".ready").touch()
    while not go.exists():  # both start together: their writes overlap
        time.sleep(0.0005)
    # the same conversations, in the same order, another field each: each written once, so
    # a lost update would stay lost
    for i in range(300):
        if me == "a":
            store.mark([f"shared-{i}"], verdict="kb_gap", who=me)
        else:
            store.mark([f"shared-{i}"], note=f"note {i}", who=me)
    for i in range(200):
        store.mark([f"{me}-{i}"], status="reviewed", who=me)  # ids of its own
    store.close()
""")


def test_two_processes_marking_at_once_lose_no_write(path):
    ReviewStore.open(path, base_url=BASE, project_id="p1").close()
    go = path.parent / "go"
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), me, str(go)],
                              cwd=ROOT, stderr=subprocess.PIPE, text=True)
             for me in ("a", "b")]
    deadline = time.monotonic() + 60
    while not all((path.parent / f"{me}.ready").exists() for me in ("a", "b")):
        assert time.monotonic() < deadline and all(p.poll() is None for p in procs)
        time.sleep(0.005)
    go.touch()
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    with ReviewStore.open(path, base_url=BASE, project_id="p1") as store:
        rows = {r.conversation_id: r for r in store.list()}
    for me in ("a", "b"):
        assert all(rows[f"{me}-{i}"].status == "reviewed" for i in range(200))
    lost = [r for i in range(300)
            if (r := rows[f"shared-{i}"]).verdict != "kb_gap" or r.note != f"note {i}"]
    assert lost == []
    assert len(rows) == 700


# ---------------------------------------------------------------- import / export
def test_import_merges_newer_wins_and_reports_conflicts(path, store):
    early, late = T0, T0 + timedelta(hours=1)
    store.mark(["mine-older"], status="reviewed", who="ann", now=early)
    store.mark(["mine-newer"], status="flagged", verdict="bot_wrong", who="ann", now=late)
    store.mark(["same"], status="reviewed", verdict="kb_gap", who="ann", now=early)
    store.import_records([{"conversation_id": "theirs-before", "status": "reviewed",
                           "who": "bob", "updated_at": "2026-06-01T12:00:00Z"}])

    def rec(cid, status, when, verdict=None, note=""):
        return {"conversation_id": cid, "status": status, "verdict": verdict, "note": note,
                "who": "bob", "updated_at": when.isoformat()}

    report = store.import_records([
        rec("mine-older", "flagged", late, "tool_failure"),  # newer there: theirs wins
        rec("mine-newer", "reviewed", early),  # older there: ours stays
        rec("same", "reviewed", late, "kb_gap"),  # same values
        rec("theirs-before", "flagged", late),  # only they changed it: no conflict
        rec("new", "reviewed", early, note="fine"),
    ])
    assert (report.added, report.updated, report.unchanged, report.kept_local) == (1, 2, 1, 1)
    conflicts = {c.conversation_id: c for c in report.conflicts}
    assert set(conflicts) == {"mine-older", "mine-newer"}
    assert conflicts["mine-older"].winner == "incoming"
    assert conflicts["mine-older"].local.status == "reviewed"
    assert conflicts["mine-older"].incoming.verdict == "tool_failure"
    assert conflicts["mine-newer"].winner == "local"
    got = store.get(["mine-older", "mine-newer", "same", "theirs-before", "new"])
    assert (got["mine-older"].status, got["mine-older"].who) == ("flagged", "bob")
    assert got["mine-newer"].status == "flagged" and got["mine-newer"].who == "ann"
    assert got["same"].updated_at == "2026-06-01T12:00:00.000Z"  # untouched
    assert got["theirs-before"].status == "flagged"
    assert got["new"].note == "fine"
    assert report.summary() == "1 added, 2 updated, 1 unchanged, 1 kept local; 2 conflicts"


def test_a_bad_record_imports_nothing(store):
    good = {"conversation_id": "ok", "status": "reviewed", "updated_at": "2026-06-01T00:00Z"}
    for bad, message in (
        ({**good, "conversation_id": "x", "status": "maybe"}, "record 2: unknown status"),
        ({**good, "conversation_id": "x", "verdict": "nah"}, "record 2: unknown verdict"),
        ({**good, "conversation_id": "x", "updated_at": "yesterday"}, "record 2: updated_at"),
        ({**good, "conversation_id": "a\x1b[2Jb"}, "record 2: conversation id"),
        ("just text", "record 2: an object expected"),
    ):
        with pytest.raises(ReviewError, match=message):
            store.import_records([good, bad])
    assert store.list() == []


def test_export_document_round_trip(path, store):
    store.mark(["a", "b"], status="flagged", verdict="kb_gap", note="é ✓", who="ann", now=T0)
    document = store.export_document(now=T0)
    assert document["project_id"] == "p1" and document["base_url"] == BASE
    project, records = parse_export(document)
    assert project == "p1" and len(records) == 2
    with ReviewStore.open(path.with_name("other.sqlite3"), base_url=BASE,
                          project_id="p1") as other:
        assert other.import_records(records).added == 2
        assert other.list() == store.list()
    with pytest.raises(ReviewError, match="not a studio-tui reviews export"):
        parse_export({"reviews": []})


# ---------------------------------------------------------------- damage and hostility
def test_a_damaged_file_is_one_line_naming_it(path):
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not a database, not at all" * 100)
    with pytest.raises(ReviewStoreError) as err:
        ReviewStore.open(path, base_url=BASE, project_id="p1")
    message = str(err.value)
    assert str(path) in message and "damaged" in message and "\n" not in message
    assert path.read_bytes().startswith(b"this is not")  # the user's file is left alone


def test_a_store_from_a_newer_version_is_refused(path):
    import sqlite3

    ReviewStore.open(path, base_url=BASE, project_id="p1").close()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(ReviewStoreError, match="newer studio-tui"):
        ReviewStore.open(path, base_url=BASE, project_id="p1")


def test_hostile_text_is_stored_clean(store):
    hostile = ("\x1b]8;;http://evil\x07click\x1b]8;;\x07 \x1b[31mred\x1b[0m \u202eevil\u202c "
               "\x9b2J done\r\nline two\x00")
    [review] = store.mark(["c1"], status="flagged", note=hostile, who="\x1b[1mroot\x1b[0m\n",
                          now=T0)
    assert review.note == "click red evil  done\nline two"
    assert review.who == "root"
    for bad_id in ("a\x1bb", "line\nbreak", "", "x" * 501):
        with pytest.raises(ReviewError, match="conversation id"):
            store.mark([bad_id], status="reviewed", who="me")


# ---------------------------------------------------------------- settings
def test_review_settings_from_config(tmp_path):
    config = tmp_path / "config.toml"
    assert review_settings(config, env={"USER": "ann"}) == (DEFAULT_VERDICTS, "ann")
    assert review_settings(config, env={}) == (DEFAULT_VERDICTS, "unknown")
    config.write_text('[reviews]\nverdicts = ["good", "bad", "good"]\nwho = "Lead QA"\n')
    assert review_settings(config, env={"USER": "ann"}) == (("good", "bad"), "Lead QA")
    for body, key in (('[reviews]\nverdicts = "good"\n', "reviews.verdicts"),
                      ('[reviews]\nverdicts = ["has space"]\n', "reviews.verdicts"),
                      ("[reviews]\nverdicts = []\n", "reviews.verdicts"),
                      ("[reviews]\nwho = 3\n", "reviews.who"),
                      ("reviews = 1\n", "[reviews]")):
        config.write_text(body)
        with pytest.raises(ConfigError, match=key.replace(".", r"\.").replace("[", r"\[")) \
                as err:
            review_settings(config)
        assert str(config) in str(err.value)


def test_for_settings_uses_the_configured_verdicts(tmp_path):
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "config.toml").write_text('[reviews]\nverdicts = ["good", "bad"]\n')
    settings = load_settings(env={"STUDIO_TUI_DATA_DIR": str(tmp_path / "d"),
                                  "STUDIO_TUI_CONFIG_DIR": str(tmp_path / "c")})
    with ReviewStore.for_settings(settings, "demo-project") as store:
        assert store.verdicts == ("good", "bad")
        assert store.path == tmp_path / "d" / "reviews.sqlite3"
        assert store.project_id == "demo-project"


def test_a_time_that_overflows_in_utc_is_one_line(tmp_path):
    from api.reviews import ReviewError, ReviewStore

    store = ReviewStore.open(tmp_path / "r.sqlite3", base_url="http://x", project_id="p")
    with pytest.raises(ReviewError, match="not an ISO 8601 time"):
        store.import_records([{"conversation_id": "c", "status": "reviewed",
                               "updated_at": "0001-01-01T00:00:00+01:00"}])
