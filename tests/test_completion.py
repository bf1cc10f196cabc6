"""Shell completion (tui/cli_completion.py): `studio-tui completion SHELL`, the values each
option and argument completes to, the bash, zsh and fish protocols in process, through the
installed console script, and through the scripts run by the shells themselves."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.shell_completion import ShellComplete, get_completion_class
from click.testing import CliRunner
from system_tools import require

from api.columns import TABLE_COLUMNS
from api.config import config_dir
from api.labels import LABEL_FIELDS, SENTIMENT
from api.query import TEXT_KEYS, ConversationQuery
from api.reviews import STATUSES
from api.views import BUILTIN_VIEWS, View, save_view
from tui.cli import main
from tui.cli_completion import COMPLETE_VAR

BUILTINS = [view.name for view in BUILTIN_VIEWS]
BREAKS = "\"'><=;|&(:"  # bash's default COMP_WORDBREAKS, blanks aside
SCRIPT = Path(sys.executable).with_name("studio-tui")  # the console script of this venv
COMP_ENV = ("COMP_WORDS", "COMP_CWORD", "COMP_LINE", "COMP_WORDBREAKS", COMPLETE_VAR)


@pytest.fixture
def config_file() -> Path:
    path = config_dir() / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def my_view(config_file) -> View:
    view = View("billing-esc", ConversationQuery.from_text("handoff:yes tags:billing"),
                window="7d", description="billing escalations")
    save_view(config_file, view)
    return view


@pytest.fixture
def comp(monkeypatch):
    """Completions in this process, as the shell's script asks for them: `comp(shell,
    **env)` -> the lines click prints (bash: `type,value`; zsh: type, value, help per
    item; fish: `type,value[<tab>help]`)."""
    def complete(shell: str, **env: str) -> list[str]:
        for name in COMP_ENV:
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        cls = get_completion_class(shell)
        assert cls is not None
        out = cls(main, {}, "studio-tui", COMPLETE_VAR).complete()
        return out.splitlines() if out else []
    return complete


def bash(comp, line: str) -> list[str]:
    """What our bash script gets for `line` (the cursor at its end)."""
    return comp("bash", COMP_LINE=line, COMP_WORDBREAKS=BREAKS)


def zsh(comp, line: str) -> list[tuple[str, str]]:
    words = line.split(" ")  # the tests' lines have no quotes
    lines = comp("zsh", COMP_WORDS=" ".join(words), COMP_CWORD=str(len(words) - 1))
    return [(lines[i], lines[i + 1]) for i in range(0, len(lines), 3)]


def values(lines: list[str]) -> list[str]:
    return [line.split(",", 1)[1].split("\t")[0] for line in lines]


# ------------------------------------------------------------------ the command
@pytest.mark.parametrize(("shell", "marks"), [
    ("bash", ["_studio_tui_completion()", "COMP_LINE=", "complete -o nosort -F "
              "_studio_tui_completion studio-tui", f"{COMPLETE_VAR}=bash_complete"]),
    ("zsh", ["#compdef studio-tui", f"{COMPLETE_VAR}=zsh_complete", "-S ''"]),
    ("fish", ["function _studio_tui_completion", f"{COMPLETE_VAR}=fish_complete",
              'string split -m 1 ","', "complete --no-files --command studio-tui"]),
])
def test_completion_prints_the_script_of_each_shell(shell, marks):
    result = CliRunner().invoke(main, ["completion", shell])
    assert result.exit_code == 0, result.stderr
    for mark in marks:
        assert mark in result.stdout


def test_an_unknown_shell_is_one_line_and_exit_2():
    result = CliRunner().invoke(main, ["completion", "tcsh"])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "'SHELL'" in lines[0] and "'tcsh'" in lines[0], lines
    assert "bash" in lines[0] and "fish" in lines[0], lines
    assert result.stdout == ""


def test_the_help_says_how_to_install_it():
    text = CliRunner().invoke(main, ["completion", "--help"]).stdout
    assert 'eval "$(studio-tui completion bash)"' in text
    assert 'eval "$(studio-tui completion zsh)"' in text
    assert "studio-tui completion fish > ~/.config/fish/completions/studio-tui.fish" in text


def test_version():
    from importlib.metadata import version

    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"studio-tui, version {version('studio-tui')}"


# ------------------------------------------------------------------ what completes
def test_subcommands_and_flags(comp):
    assert values(bash(comp, "studio-tui co")) == ["compare", "completion", "cost"]
    assert values(bash(comp, "studio-tui views ")) == ["delete", "list", "save", "show"]
    assert values(bash(comp, "studio-tui export --sentiment")) == ["--sentiment",
                                                                    "--sentiment-shift"]


@pytest.mark.parametrize("field", list(LABEL_FIELDS))
def test_label_flags_complete_their_values_as_a_list(comp, field):
    flag = "--" + field.replace("_", "-")
    allowed = LABEL_FIELDS[field]
    assert values(bash(comp, f"studio-tui export {flag} ")) == list(allowed)
    first = allowed[0]
    assert values(bash(comp, f"studio-tui views save v {flag} {first},")) == [
        f"{first},{value}" for value in allowed[1:]]


def test_other_query_flags(comp):
    from api.labels import SORT_BY, SORT_ORDER

    assert values(bash(comp, "studio-tui export --handoff ")) == ["true", "false"]
    assert values(bash(comp, "studio-tui export --sort-by ")) == list(SORT_BY)
    assert values(bash(comp, "studio-tui export --sort-order ")) == list(SORT_ORDER)
    assert values(bash(comp, "studio-tui reviews list --status ")) == list(STATUSES)
    assert values(bash(comp, "studio-tui views save v --columns id,")) == [
        f"id,{key}" for key in TABLE_COLUMNS if key != "id"]


def test_query_text_dimensions_then_values(comp):
    keys = [f"{key}:" for key in TEXT_KEYS.values()]
    names = bash(comp, "studio-tui compare ")
    assert values(names) == [*BUILTINS, *keys]
    # `dim:` asks for more: no space after it
    assert [line for line in names if line.endswith(":")] == [f"nospace,{k}" for k in keys]
    assert bash(comp, "studio-tui compare sentim") == ["nospace,sentiment:"]
    # bash splits at `:`: the reply is what comes after it
    assert bash(comp, "studio-tui compare sentiment:ne") == ["plain,negative", "plain,neutral"]
    assert bash(comp, "studio-tui compare negative handoff:") == ["plain,yes", "plain,no"]
    assert bash(comp, "studio-tui compare sentiment:negative,") == [
        f"plain,negative,{value}" for value in SENTIMENT if value != "negative"]
    # zsh and fish replace the whole word
    assert zsh(comp, "studio-tui compare sentiment:ne") == [
        ("plain", "sentiment:negative"), ("plain", "sentiment:neutral")]
    fish = comp("fish", COMP_WORDS="studio-tui compare shift:d", COMP_CWORD="shift:d")
    assert fish == ["plain,shift:degraded"]


def test_a_quoted_query_completes_its_last_token_without_the_used_ones(comp):
    line = "studio-tui compare 'sentiment:negative s"
    used = {"sentiment"}
    want = [f"sentiment:negative {key}:" for field, key in TEXT_KEYS.items()
            if key.startswith("s") and field not in used]
    assert values(bash(comp, line)) == want
    # after a closed quote bash replaces the whole word: the reply is quoted again
    assert bash(comp, "studio-tui compare 'handoff:yes sentiment:'neg") == [
        "plain,'handoff:yes sentiment:negative'"]


def test_option_equals_value(comp):
    assert bash(comp, "studio-tui export --view=frus") == ["plain,frustration"]
    assert zsh(comp, "studio-tui export --view=frus") == [("plain", "--view=frustration")]


def test_saved_views_where_views_are_named(comp, my_view):
    everything = [*BUILTINS, my_view.name]
    assert values(bash(comp, "studio-tui views show ")) == everything
    assert values(bash(comp, "studio-tui export --view ")) == everything
    assert values(bash(comp, "studio-tui reviews list --view bil")) == [my_view.name]
    assert values(bash(comp, "studio-tui compare negative bil")) == [my_view.name]
    # only the user's views can be deleted
    assert values(bash(comp, "studio-tui views delete ")) == [my_view.name]
    # zsh shows the description next to the name
    lines = comp("zsh", COMP_WORDS="studio-tui views show bil", COMP_CWORD="3")
    assert lines == ["plain", my_view.name, my_view.description]


def test_theme_names(comp):
    from tui.cli_theme import theme_darkness

    names = list(theme_darkness())
    assert values(bash(comp, "studio-tui theme ")) == names and "nord" in names
    rose = [name for name in names if name.startswith("rose")]
    assert len(rose) > 1 and values(bash(comp, "studio-tui theme rose")) == rose
    assert zsh(comp, "studio-tui theme ansi-") == [("plain", "ansi-dark"), ("plain", "ansi-light")]


def test_profiles_and_verdicts_from_the_config(comp, config_file):
    config_file.write_text('[profiles.prod]\napi_url = "https://x"\n[profiles.staging]\n'
                           '[reviews]\nverdicts = ["good", "bad", "gap"]\n')
    assert values(bash(comp, "studio-tui --profile ")) == ["prod", "staging"]
    assert values(bash(comp, "studio-tui reviews mark x --verdict g")) == ["good", "gap"]


def test_a_broken_config_completes_to_nothing(comp, config_file):
    config_file.write_text("[views.x\nnot toml")
    for line in ("studio-tui views show ", "studio-tui views delete ",
                 "studio-tui --profile ", "studio-tui reviews mark x --verdict "):
        assert bash(comp, line) == [], line
    # the query's dimensions need no config
    assert values(bash(comp, "studio-tui compare sentim")) == ["sentiment:"]


def test_a_failure_anywhere_completes_to_nothing(comp, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("api.views.read_views", broken)
    assert bash(comp, "studio-tui views show ") == []
    monkeypatch.setattr(ShellComplete, "get_completions", broken)
    for shell in ("zsh", "fish"):
        assert comp(shell, COMP_WORDS="studio-tui co", COMP_CWORD="1") == []
    assert bash(comp, "studio-tui co") == []


# ------------------------------------------------------------------ the console script
needs_script = pytest.mark.skipif(not SCRIPT.exists(), reason="no studio-tui console script")


def run_script(env: dict[str, str], **kw) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in COMP_ENV}
    return subprocess.run([str(SCRIPT)], env={**clean, **env}, capture_output=True, text=True,
                          timeout=60, **kw)


@needs_script
@pytest.mark.parametrize(("env", "want"), [
    # click's own protocol: bash's words (no `:` in them), the index of the current one
    ({"COMP_WORDS": "studio-tui views show fr", "COMP_CWORD": "3",
      COMPLETE_VAR: "bash_complete"}, ["plain,frustration"]),
    ({"COMP_WORDS": "studio-tui export --sentiment negative,p", "COMP_CWORD": "3",
      COMPLETE_VAR: "bash_complete"}, ["plain,negative,positive"]),
    # our bash script's: the line too
    ({"COMP_WORDS": "studio-tui\ncompare\nsentiment\n:\nneg", "COMP_CWORD": "4",
      "COMP_LINE": "studio-tui compare sentiment:neg", "COMP_WORDBREAKS": BREAKS,
      COMPLETE_VAR: "bash_complete"}, ["plain,negative"]),
    ({"COMP_WORDS": "studio-tui compare sentiment:neg", "COMP_CWORD": "2",
      COMPLETE_VAR: "zsh_complete"}, ["plain", "sentiment:negative", "_"]),
    ({"COMP_WORDS": "studio-tui compare sentiment:neg", "COMP_CWORD": "sentiment:neg",
      COMPLETE_VAR: "fish_complete"}, ["plain,sentiment:negative"]),
])
def test_the_installed_script_completes(env, want):
    result = run_script(env)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert result.stdout.splitlines() == want


@needs_script
def test_the_installed_script_never_prints_a_traceback(config_file):
    config_file.write_text("[views.x\nnot toml")
    result = run_script({"COMP_WORDS": "studio-tui views show ", "COMP_CWORD": "3",
                         COMPLETE_VAR: "bash_complete"})
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.strip() == ""


# ------------------------------------------------------------------ the shells themselves
def shell_env() -> dict[str, str]:
    path = f"{SCRIPT.parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return {**{k: v for k, v in os.environ.items() if k not in COMP_ENV}, "PATH": path}


def script(shell: str) -> str:
    return CliRunner().invoke(main, ["completion", shell]).stdout


@needs_script
@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
@pytest.mark.parametrize(("words", "line", "want", "nospace"), [
    # bash splits at `:` (COMP_WORDBREAKS): three words for sentiment:ne
    ("studio-tui compare sentiment : ne", "studio-tui compare sentiment:ne",
     ["negative", "neutral"], False),
    ("studio-tui compare sentim", "studio-tui compare sentim", ["sentiment:"], True),
    ("studio-tui export --view = frus", "studio-tui export --view=frus", ["frustration"], False),
    ("studio-tui export --sentiment negative,", "studio-tui export --sentiment negative,",
     ["negative,neutral", "negative,positive"], False),
])
def test_bash_runs_the_script(tmp_path, words, line, want, nospace):
    path = tmp_path / "completion.bash"
    path.write_text(script("bash"))
    program = f"""
        source {path}
        compopt() {{ echo "compopt $*" >> {tmp_path}/opts; }}  # outside a completion
        COMP_WORDS=({words}); COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
        COMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}
        _studio_tui_completion studio-tui "${{COMP_WORDS[COMP_CWORD]}}"
        printf '%s\\n' "${{COMPREPLY[@]}}"
    """
    result = subprocess.run(["bash", "--norc", "--noprofile", "-c", program],
                            env=shell_env(), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert result.stdout.splitlines() == want
    opts = tmp_path / "opts"
    assert (opts.exists() and "nospace" in opts.read_text()) is nospace


@needs_script
def test_zsh_runs_the_script(tmp_path):
    zsh = require("zsh", "apt-get install zsh")
    path = tmp_path / "completion.zsh"
    path.write_text(script("zsh"))
    # compadd and _describe work inside a completion widget only: they print what they get
    program = f"""
        compdef() {{ : }}
        compadd() {{ print -r -- "compadd $* = ${{(j:|:)${{(P)@[-1]}}}}" }}
        _describe() {{ print -r -- "_describe $* = ${{(j:|:)${{(P)3}}}}" }}
        source {path}
        words=(studio-tui compare sentim); CURRENT=3; _studio_tui_completion
        words=(studio-tui compare sentiment:ne); CURRENT=3; _studio_tui_completion
        words=(studio-tui views show frus); CURRENT=4; _studio_tui_completion
    """
    result = subprocess.run([zsh, "-f", "-c", program], env=shell_env(),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert result.stdout.splitlines() == [
        # `dim:` wants more: added with no suffix (-S ''); a colon of a value is escaped
        r"_describe -V unsorted nospace_with_descriptions -U -S  = sentiment\::"
        + ", ".join(SENTIMENT),
        "compadd -U -V unsorted -a completions = sentiment:negative|sentiment:neutral",
        "_describe -V unsorted completions_with_descriptions -U = frustration:"
        + next(v.description for v in BUILTIN_VIEWS if v.name == "frustration"),
    ]


@needs_script
@pytest.mark.parametrize(("line", "want"), [
    ("studio-tui compare sentiment:ne", ["sentiment:negative", "sentiment:neutral"]),
    ("studio-tui export --sentiment negative,", ["negative,neutral", "negative,positive"]),
    ("studio-tui views show frus", ["frustration\tfrustration handoffs"]),
    ("studio-tui compl",
     [f"completion\t{main.commands['completion'].get_short_help_str()}"]),
])
def test_fish_runs_the_script(tmp_path, line, want):
    fish = require("fish", "apt-get install fish")
    path = tmp_path / "completion.fish"
    path.write_text(script("fish"))
    result = subprocess.run([fish, "--no-config", "-c", f"source {path}; complete -C '{line}'"],
                            env=shell_env(), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert result.stdout.splitlines() == want


def test_screen_names(comp):
    assert values(bash(comp, "studio-tui --screen c")) == ["csat", "conversions",
                                                             "configuration"]
