"""api/views.py: saved views in config.toml — windows, built-ins, columns, reading bad
tables, and writing that keeps the rest of the user's file (profiles, comments, order)."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from api.config import load_settings
from api.dates import parse_window, preset_range, window_range
from api.errors import ConfigError
from api.query import ConversationQuery
from api.views import (
    BUILTIN_VIEWS,
    TRIAGE_PRESETS,
    UnknownView,
    View,
    ViewError,
    ViewExists,
    builtin_view,
    delete_view,
    get_view,
    load_views,
    read_views,
    save_view,
)

BUILTIN_NAMES = ["negative", "handoffs", "frustration", "recontact", "degraded", "irrelevant"]

USER_FILE = """\
# studio-tui settings: kept by hand
default_profile = "prod"  # the usual one

[profiles.prod]
token = "sbs_secret_token_value"   # do not share
project_id = "proj-1"

# triage views below
[views.old]
query = "sentiment:negative"   # the first one
window = "7d"

# key remaps
[keymap]
"table.next_page" = "ctrl+n"
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    directory = tmp_path / "config"
    directory.mkdir(mode=0o700)
    path = directory / "config.toml"
    path.write_text(USER_FILE, encoding="utf-8")
    return path


def q(**raw) -> ConversationQuery:
    return ConversationQuery.build(**raw)


# ---------------------------------------------------------------- windows
@pytest.mark.parametrize("now", [
    datetime(2026, 6, 15, 13, 37, 5, tzinfo=UTC),
    datetime(2026, 6, 16, tzinfo=UTC),  # on the boundary: stays there
    datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC),
])
@pytest.mark.parametrize("preset", ["24h", "7d", "30d", "90d"])
def test_a_windowed_view_resolves_like_the_preset(now, preset):
    view = View("v", q(sentiment="negative"), window=preset)
    start, end = preset_range(preset, now)
    assert window_range(preset, now) == (start, end)
    assert view.resolve(now) == q(sentiment="negative", start_date=start, end_date=end)


def test_other_windows_use_the_same_boundaries():
    now = datetime(2026, 6, 15, 13, 37, tzinfo=UTC)
    assert window_range("36h", now) == ("2026-06-14T02:00:00Z", "2026-06-15T14:00:00Z")
    assert window_range("2w", now) == ("2026-06-02T00:00:00Z", "2026-06-16T00:00:00Z")
    assert window_range("1d", now) == window_range("24h", now)
    assert parse_window(" 7D ") == timedelta(days=7)
    assert parse_window("3650d") == parse_window("87600h") == timedelta(days=3650)


@pytest.mark.parametrize("text", ["", "7", "d", "0d", "0h", "-1d", "7x", "1.5d", "3651d",
                                  "87601h", "522w", "7 d", "٧d", "9999999d"])
def test_bad_windows_are_one_line_errors(text):
    with pytest.raises(ValueError) as info:
        parse_window(text)
    assert repr(text) in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(ViewError):
        View("v", window=text)


def test_view_without_window_keeps_its_query():
    now = datetime(2026, 6, 15, tzinfo=UTC)
    fixed = q(start_date="2026-05-01", end_date="2026-06-01", handoff_reason="policy")
    assert View("fixed", fixed).resolve(now) is fixed
    assert View("all").resolve(now) == ConversationQuery()


def test_window_and_dates_are_exclusive_and_window_is_normalised():
    with pytest.raises(ViewError, match="window"):
        View("v", q(start_date="2026-05-01"), window="7d")
    assert View("v", window=" 7D ").window == "7d"


# ---------------------------------------------------------------- names and columns
@pytest.mark.parametrize("name", ["", "a b", "x" * 65, "a/b", "views]", "é", "a\x1b[31m",
                                  "a\nb"])
def test_bad_names(name):
    with pytest.raises(ViewError) as info:
        View(name)
    assert "\n" not in str(info.value) and "\x1b" not in str(info.value)


def test_good_names():
    for name in ["a", "x" * 64, "my.view", "billing-escalations", "Q3_review"]:
        assert View(name).name == name


def test_columns_are_checked_with_the_table_keys():
    assert View("v", columns=["last", "id", "tags"]).columns == ("last", "id", "tags")
    for bad, message in ((["last", "nope"], "unknown column 'nope'"),
                         (["id", "id"], "given twice"), ([], "at least one")):
        with pytest.raises(ViewError, match=message):
            View("v", columns=bad)


# ---------------------------------------------------------------- text and json
def test_text_and_json():
    view = View("mine", q(sentiment="negative,neutral", has_handoff=True, search="a b",
                          sort_by="message_count"),
                window="7d", columns=("last", "id"), description="for the \x1b[2Jteam")
    assert view.text() == ("window:7d 'search:a b' handoff:yes sentiment:negative,neutral "
                           "sort:message_count")
    assert view.description == "for the team"  # escape sequences never reach a screen
    data = view.to_json()
    assert list(data) == ["name", "builtin", "description", "query", "window", "columns",
                          "filters"]
    assert data["query"] == view.query.to_text() and data["window"] == "7d"
    assert data["columns"] == ["last", "id"]
    assert data["filters"] == {"search": "a b", "has_handoff": True,
                               "sentiment": ["negative", "neutral"],
                               "sort_by": "message_count"}
    assert View("all").text() == "" and View("all").to_json()["columns"] is None


# ---------------------------------------------------------------- built-ins
def test_builtins_are_the_explorers_triage_presets():
    from screens.explorer import TRIAGE_PRESETS as EXPLORER_PRESETS

    assert [v.name for v in BUILTIN_VIEWS] == BUILTIN_NAMES
    assert [(p.key, p.name, p.changes) for p in TRIAGE_PRESETS] == \
        [(p.key, p.name, p.changes) for p in EXPLORER_PRESETS]
    for preset, view in zip(TRIAGE_PRESETS, BUILTIN_VIEWS, strict=True):
        assert view.builtin and view.window == "30d" and view.columns is None
        assert view.query == q(**preset.changes) and view.description == preset.name
        assert builtin_view(view.name) is view


def test_no_file_means_the_builtins(tmp_path):
    views = load_views(tmp_path / "missing" / "config.toml")
    assert list(views) == BUILTIN_NAMES
    with pytest.raises(UnknownView) as info:
        get_view(tmp_path / "config.toml", "nope")
    assert str(info.value) == f"unknown view 'nope' (known: {', '.join(BUILTIN_NAMES)})"


# ---------------------------------------------------------------- writing
def test_save_keeps_the_rest_of_the_file(config):
    view = View("billing.handoffs", q(has_handoff=True, tags="billing", search="it's \"x\""),
                window="90d", columns=("sel", "last", "id", "tags"), description="billing")
    save_view(config, view)
    text = config.read_text(encoding="utf-8")
    # everything that was there is still there, in order, with its comments
    lines = [line for line in USER_FILE.splitlines() if line]
    found = [line for line in text.splitlines() if line in lines]
    assert found == lines
    assert '[views."billing.handoffs"]' in text
    assert text.index("[views.old]") < text.index("billing.handoffs") < text.index("# key remaps")
    # the comment above [keymap] stays right above it
    assert "# key remaps\n[keymap]" in text
    assert get_view(config, "billing.handoffs") == view
    assert list(load_views(config)) == [*BUILTIN_NAMES, "old", "billing.handoffs"]
    settings = load_settings(env={"STUDIO_TUI_CONFIG_DIR": str(config.parent)})
    assert settings.token.reveal() == "sbs_secret_token_value"
    assert settings.project_id == "proj-1"


def test_save_then_delete_gives_back_the_same_bytes(config):
    for view in (View("a"), View("b", q(sentiment="positive"), columns=("id",))):
        save_view(config, view)
        delete_view(config, view.name)
        assert config.read_text(encoding="utf-8") == USER_FILE
    delete_view(config, "old")
    text = config.read_text(encoding="utf-8")
    assert "old" not in text and "# key remaps\n[keymap]" in text
    assert text.startswith(USER_FILE[:USER_FILE.index("[views.old]")])


@pytest.mark.parametrize("original", [
    "",
    "x = 1\n",
    "# only a comment\n",
    'x = 1\n\n[views.a]\nquery = ""\n\n[keymap]\nx = "y"\n',
    '[views.a]\nquery = ""\n# the end\n',
    '[keymap]\nx = "y"\n\n# at the end\n',
    '[views]\n[views.a]\nquery = ""\n',
    'a = 1\n[views.a]\nquery = ""\n\n\n\n[k]\n',
    USER_FILE,
])
def test_a_save_undone_by_a_delete_leaves_the_file_as_it_was(tmp_path, original):
    path = tmp_path / "config.toml"
    path.write_text(original, encoding="utf-8")
    save_view(path, View("new", window="7d"))
    assert "[views.new]" in path.read_text(encoding="utf-8")
    delete_view(path, "new")
    assert path.read_text(encoding="utf-8") == original


def test_overwrite_needs_asking_and_rewrites_in_place(config):
    with pytest.raises(ViewExists, match="'old'"):
        save_view(config, View("old", q(sentiment="positive")))
    assert config.read_text(encoding="utf-8") == USER_FILE
    save_view(config, View("old", q(sentiment="positive"), columns=("id",)), overwrite=True)
    text = config.read_text(encoding="utf-8")
    assert 'query = "sentiment:positive"' in text and "window" not in text
    assert text.index("[views.old]") < text.index("columns") < text.index("# key remaps")
    assert get_view(config, "old") == View("old", q(sentiment="positive"), columns=("id",))


def test_files_are_owner_only(tmp_path):
    path = tmp_path / "new" / "deeper" / "config.toml"
    save_view(path, View("a"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    loose = tmp_path / "loose"
    loose.mkdir()
    os.chmod(loose, 0o755)
    (loose / "config.toml").write_text("", encoding="utf-8")
    os.chmod(loose / "config.toml", 0o644)
    save_view(loose / "config.toml", View("a"))
    assert stat.S_IMODE((loose / "config.toml").stat().st_mode) == 0o600
    assert stat.S_IMODE(loose.stat().st_mode) == 0o700  # it holds tokens
    assert (loose / "config.toml").read_text(encoding="utf-8") == '[views.a]\nquery = ""\n'


def test_a_symlinked_config_stays_a_link(tmp_path):
    real = tmp_path / "dotfiles" / "studio.toml"
    real.parent.mkdir()
    real.write_text(USER_FILE, encoding="utf-8")
    link = tmp_path / "config" / "config.toml"
    link.parent.mkdir()
    link.symlink_to(real)
    save_view(link, View("a"))
    assert link.is_symlink() and "[views.a]" in real.read_text(encoding="utf-8")


def test_builtins_are_shadowed_not_deleted(config):
    with pytest.raises(ViewError, match="built in"):
        delete_view(config, "negative")
    mine = View("negative", q(sentiment="negative", has_handoff=True), window="7d")
    save_view(config, mine)  # no overwrite needed: the file had no such view
    views = load_views(config)
    assert list(views) == [*BUILTIN_NAMES, "old"]  # the built-in's place
    assert views["negative"] == mine and not views["negative"].builtin
    delete_view(config, "negative")
    assert load_views(config)["negative"] is builtin_view("negative")


def test_unknown_view_lists_the_names(config):
    for call in (lambda: get_view(config, "nope"), lambda: delete_view(config, "nope")):
        with pytest.raises(UnknownView) as info:
            call()
        assert str(info.value) == \
            f"unknown view 'nope' (known: {', '.join([*BUILTIN_NAMES, 'old'])})"
    assert config.read_text(encoding="utf-8") == USER_FILE


def test_views_between_other_tables(tmp_path):
    path = tmp_path / "config.toml"
    original = ('[views.a]\nquery = "handoff:yes"\n\n[keymap]\nx = "y"\n\n'
                '[views.b]\nquery = "risk:high"\n# the end\n')
    path.write_text(original, encoding="utf-8")
    save_view(path, View("c", window="24h"))
    assert list(load_views(path))[-3:] == ["a", "b", "c"]
    assert path.read_text(encoding="utf-8").endswith('[views.c]\nquery = ""\nwindow = "24h"\n'
                                                     "# the end\n")
    delete_view(path, "c")
    assert path.read_text(encoding="utf-8") == original
    delete_view(path, "a")
    assert path.read_text(encoding="utf-8") == \
        '[keymap]\nx = "y"\n\n[views.b]\nquery = "risk:high"\n# the end\n'


# ---------------------------------------------------------------- bad files
BROKEN = {
    "types": ('query = 3', "query must be a string"),
    "filter": ('query = "sentiment:furious"', "query: sentiment: unknown value 'furious'"),
    "window": ('window = "7x"', "window '7x'"),
    "both": ('query = "since:2026-01-01"\nwindow = "7d"', "cannot both be given"),
    "columns": ('columns = ["id", "colour"]', "unknown column 'colour'"),
    "typo": ('colums = ["id"]', "unknown key 'colums'"),
    "negative": ('query = "sentiment:nope"', "unknown value 'nope'"),  # shadows a built-in
}


def test_bad_tables_are_left_out_with_one_line_each(config):
    text = USER_FILE + "".join(f"\n[views.{name}]\n{body}\n"
                               for name, (body, _) in BROKEN.items())
    text += '\n[views."bad name"]\nquery = ""\n[views.good]\nquery = "handoff:no"\n'
    config.write_text(text, encoding="utf-8")
    found = read_views(config)
    assert list(found.views) == [n for n in BUILTIN_NAMES if n != "negative"] + ["old", "good"]
    assert set(found.broken) == {*BROKEN, "bad name"}
    for name, (_, message) in BROKEN.items():
        error = found.broken[name]
        assert isinstance(error, ConfigError)
        assert str(error).startswith(f"{config}: [views.{name}]: ")
        assert message in str(error) and "\n" not in str(error)
        with pytest.raises(ConfigError) as info:  # never the built-in in its place
            get_view(config, name)
        assert str(info.value) == str(error)
    assert "view name 'bad name'" in str(found.broken["bad name"])
    assert get_view(config, "good").query == q(has_handoff=False)


@pytest.mark.parametrize("text", ["views = 3\n", "[[views]]\nquery = 'x'\n"])
def test_views_not_a_table(tmp_path, text):
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="views must be"):
        load_views(path)
    with pytest.raises(ConfigError, match="views must be"):
        save_view(path, View("a"))
    assert path.read_text(encoding="utf-8") == text


def test_a_file_that_does_not_parse_is_never_rewritten(config):
    config.write_text(USER_FILE + "[views.x\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="cannot parse"):
        load_views(config)
    with pytest.raises(ConfigError, match="cannot parse") as info:
        save_view(config, View("a"))
    assert "\n" not in str(info.value)
    assert config.read_text(encoding="utf-8") == USER_FILE + "[views.x\n"


def test_a_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "config.toml"
    path.write_bytes(b'x = "\xff"\n')
    for call in (lambda: load_views(path), lambda: save_view(path, View("a"))):
        with pytest.raises(ConfigError, match="not UTF-8 text"):
            call()
    assert path.read_bytes() == b'x = "\xff"\n'


# ---------------------------------------------------------------- concurrency
SAVER = """
import sys
from pathlib import Path
from api.views import View, save_view
path, prefix, start = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3])
import time
time.sleep(max(0.0, start - time.time()))
for i in range(25):
    save_view(path, View(f"{prefix}{i}", window=f"{i + 1}d"))
"""


def test_two_processes_saving_at_once_lose_nothing(config):
    import time

    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root)}
    start = str(time.time() + 1.0)  # both begin together, once started
    procs = [subprocess.Popen([sys.executable, "-c", SAVER, str(config), prefix, start],
                              env=env, stderr=subprocess.PIPE, text=True)
             for prefix in ("a", "b")]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    views = load_views(config)
    saved = [name for name in views if name[0] in "ab" and name[1:].isdigit()]
    assert sorted(saved) == sorted(f"{p}{i}" for p in "ab" for i in range(25))
    assert views["b24"].window == "25d"
    text = config.read_text(encoding="utf-8")
    assert text.startswith(USER_FILE[:USER_FILE.index("[views.old]")])
    assert "# key remaps\n[keymap]" in text
