"""Shell completion: ``studio-tui completion bash|zsh|fish`` and what each value completes to.

Click completes the commands and options; the callbacks here (``shell_complete=`` on the
options of tui/cli*.py) complete their values: label lists (``--sentiment negative,neu``),
the query's text form (``compare "handoff:yes sentiment:neg``), saved view names (built-ins
included), profiles, review statuses and verdicts, table columns, windows, themes.

The shell runs ``studio-tui`` with ``_STUDIO_TUI_COMPLETE=<shell>_complete`` (click's
protocol); the scripts are click's with three changes, in the classes registered below:

- bash splits words at ``:`` and ``=`` (``COMP_WORDBREAKS``), so ``sentiment:neg`` reaches
  a completion function as three words. Our script also sends the line up to the cursor
  (``COMP_LINE``) and the word breaks; the arguments come from the line, and each reply is
  cut to the part bash replaces (after the last break), as bash-completion's
  ``__ltrim_colon_completions`` does. Without ``COMP_LINE`` it is click's protocol.
- a value that asks for more (``sentiment:``, ``negative,``) gets no space after it (bash,
  zsh; fish adds none after ``:`` or ``,`` itself).
- fish splits a reply at its first comma only: label lists keep theirs.

A completion never fails: a broken config.toml (or anything else) gives no items, and no
traceback reaches the terminal. Nothing here imports more than click until a value is
completed, so ``studio-tui --help`` stays fast.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence

import click
from click.shell_completion import (
    BashComplete,
    CompletionItem,
    FishComplete,
    ShellComplete,
    ZshComplete,
    add_completion_class,
    get_completion_class,
    split_arg_string,
)

from tui.entry import COMPLETE_VAR  # click's name for the program: _<PROG>_COMPLETE

PROG_NAME = "studio-tui"
SHELLS = ("bash", "zsh", "fish")
MORE = (":", ",")  # a reply ending so asks for more: no space after it
WINDOWS = ("24h", "7d", "30d", "90d")  # `views save --window` (any <N>h/d/w is accepted)
HELP_CHARS = 60  # of a view's description shown next to its name

Completer = Callable[[click.Context, click.Parameter, str], list[CompletionItem]]


# ------------------------------------------------------------------------ the command
@click.command("completion")
@click.argument("shell", type=click.Choice(SHELLS), metavar="SHELL")
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print the completion script of SHELL: bash, zsh or fish.

    It completes commands, options, label values (--sentiment, the query text of compare),
    saved view names and profiles. To install it:

    \b
    bash: in ~/.bashrc
        eval "$(studio-tui completion bash)"
      or once (with bash-completion installed):
        studio-tui completion bash > ~/.local/share/bash-completion/completions/studio-tui
    zsh: in ~/.zshrc, after compinit
        eval "$(studio-tui completion zsh)"
    fish: once
        studio-tui completion fish > ~/.config/fish/completions/studio-tui.fish
    """
    cls = get_completion_class(shell)
    assert cls is not None  # registered below for every choice
    click.echo(cls(ctx.find_root().command, {}, PROG_NAME, COMPLETE_VAR).source(), nl=False)


# ------------------------------------------------------------------------ the shells
_SOURCE_BASH = """\
%(complete_func)s() {
    local IFS=$'\\n'
    local response completion type value

    response=$(env COMP_WORDS="${COMP_WORDS[*]}" COMP_CWORD=$COMP_CWORD \\
COMP_LINE="${COMP_LINE:0:COMP_POINT}" COMP_WORDBREAKS="$COMP_WORDBREAKS" \\
%(complete_var)s=bash_complete $1)

    for completion in $response; do
        IFS=',' read -r type value <<< "$completion"

        if [[ $type == 'dir' ]]; then
            COMPREPLY=()
            compopt -o dirnames
        elif [[ $type == 'file' ]]; then
            COMPREPLY=()
            compopt -o default
        elif [[ $type == 'plain' ]]; then
            COMPREPLY+=("$value")
        elif [[ $type == 'nospace' ]]; then
            COMPREPLY+=("$value")
            compopt -o nospace
        fi
    done

    return 0
}

%(complete_func)s_setup() {
    complete -o nosort -F %(complete_func)s %(prog_name)s
}

%(complete_func)s_setup;
"""

_SOURCE_ZSH = """\
#compdef %(prog_name)s

%(complete_func)s() {
    local -a completions completions_with_descriptions
    local -a nospace nospace_with_descriptions
    local -a response
    (( ! $+commands[%(prog_name)s] )) && return 1

    response=("${(@f)$(env COMP_WORDS="${words[*]}" COMP_CWORD=$((CURRENT-1)) \\
%(complete_var)s=zsh_complete %(prog_name)s)}")

    for type key descr in ${response}; do
        if [[ "$type" == "plain" && "$descr" == "_" ]]; then
            completions+=("$key")
        elif [[ "$type" == "plain" ]]; then
            completions_with_descriptions+=("$key":"$descr")
        elif [[ "$type" == "nospace" && "$descr" == "_" ]]; then
            nospace+=("$key")
        elif [[ "$type" == "nospace" ]]; then
            nospace_with_descriptions+=("$key":"$descr")
        elif [[ "$type" == "dir" ]]; then
            _path_files -/
        elif [[ "$type" == "file" ]]; then
            _path_files -f
        fi
    done

    if [ -n "$completions_with_descriptions" ]; then
        _describe -V unsorted completions_with_descriptions -U
    fi
    if [ -n "$completions" ]; then
        compadd -U -V unsorted -a completions
    fi
    if [ -n "$nospace_with_descriptions" ]; then
        _describe -V unsorted nospace_with_descriptions -U -S ''
    fi
    if [ -n "$nospace" ]; then
        compadd -U -S '' -V unsorted -a nospace
    fi
}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    # autoload from fpath, call function directly
    %(complete_func)s "$@"
else
    # eval/source/. command, register function for later
    compdef %(complete_func)s %(prog_name)s
fi
"""

_SOURCE_FISH = """\
function %(complete_func)s;
    set -l response (env %(complete_var)s=fish_complete COMP_WORDS=(commandline -cp) \\
COMP_CWORD=(commandline -t) %(prog_name)s);

    for completion in $response;
        set -l metadata (string split -m 1 "," -- $completion);

        if test $metadata[1] = "dir";
            __fish_complete_directories $metadata[2];
        else if test $metadata[1] = "file";
            __fish_complete_path $metadata[2];
        else if test $metadata[1] = "plain";
            echo $metadata[2];
        end;
    end;
end;

complete --no-files --command %(prog_name)s --arguments \\
"(%(complete_func)s)";
"""


def _option_value(incomplete: str) -> str:
    """The part of ``incomplete`` click completes: after ``=`` in ``--opt=val``."""
    if incomplete.startswith("-") and "=" in incomplete:
        return incomplete.partition("=")[2]
    return incomplete


def _replies(shell: ShellComplete, args: list[str], incomplete: str, replaced: str,
             quote: Callable[[str], str] = str) -> list[CompletionItem]:
    """The completions of ``incomplete`` as the shell must insert them in place of
    ``replaced``, the end of it the shell replaces (all of it but in bash), each passed
    through ``quote``."""
    items = shell.get_completions(args, incomplete)
    value = _option_value(incomplete)
    out = []
    for item in items:
        text = str(item.value)
        if item.type == "plain":
            if len(replaced) >= len(value):  # put back what click cut off (`--view=`)
                text = replaced[:len(replaced) - len(value)] + text
            else:  # bash replaces less than click completed: cut the reply alike
                cut = len(value) - len(replaced)
                if text[:cut] != value[:cut]:
                    continue
                text = text[cut:]
        kind = item.type
        if kind == "plain":
            kind = "nospace" if text.endswith(MORE) else kind
            text = quote(text)
        out.append(CompletionItem(text, type=kind, help=item.help))
    return out


def _bash_word(line: str, breaks: str) -> tuple[str, bool]:
    """The end of ``line`` that bash replaces with a completion, unquoted, and whether a
    reply must be quoted: after a quote still open, the text after it (bash closes the quote
    itself); else the word after the last unquoted word break, quoted when it was."""
    start = quote_start = 0
    quote = ""
    i = 0
    while i < len(line):
        char = line[i]
        if char == "\\" and quote != "'":
            i += 2
            continue
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote, quote_start = char, i + 1
        elif char in breaks:
            start = i + 1
        i += 1
    if quote:
        return line[quote_start:], False
    word = line[start:]
    unquoted = "".join(split_arg_string(word)) if word else ""
    return unquoted, unquoted != word


class _Bash(BashComplete):
    source_template = _SOURCE_BASH

    def get_completion_args(self) -> tuple[list[str], str]:
        line = os.environ.get("COMP_LINE")
        if line is None:  # click's protocol (COMP_WORDS, COMP_CWORD)
            return super().get_completion_args()
        words = split_arg_string(line)
        while words and _is_assignment(words[0]):  # `VAR=x studio-tui ...`
            words.pop(0)
        # a new, empty word starts at the cursor when the line ends between words
        fresh = split_arg_string(line + "x")[-1:] == ["x"]
        incomplete = "" if fresh or len(words) < 2 else words.pop()
        return words[1:], incomplete

    def complete(self) -> str:
        return _complete(self, _bash_replaced)


class _Zsh(ZshComplete):
    source_template = _SOURCE_ZSH

    def complete(self) -> str:
        return _complete(self)


class _Fish(FishComplete):
    source_template = _SOURCE_FISH

    def complete(self) -> str:
        return _complete(self)

    def format_completion(self, item: CompletionItem) -> str:
        # fish adds no space after `:` or `,` itself; its script knows `plain` only
        return super().format_completion(CompletionItem(
            item.value, type="plain" if item.type == "nospace" else item.type,
            help=item.help))


def _whole_word(incomplete: str) -> tuple[str, Callable[[str], str]]:
    return incomplete, str


def _bash_replaced(incomplete: str) -> tuple[str, Callable[[str], str]]:
    line = os.environ.get("COMP_LINE")
    if line is None:  # COMP_WORDS: the word as bash split it
        return incomplete, str
    breaks = os.environ.get("COMP_WORDBREAKS", "\"'><=;|&(:") + " \t\n"
    replaced, quoted = _bash_word(line, breaks)
    return replaced, _shell_quote if quoted else str


def _complete(shell: ShellComplete,
              replaced: Callable[[str], tuple[str, Callable[[str], str]]] = _whole_word) -> str:
    """The replies to the line, one a line: ``replaced(incomplete)`` is the end of the word
    the shell replaces and how a reply is quoted (see ``_replies``). Any failure gives no
    replies rather than a traceback."""
    try:
        args, incomplete = shell.get_completion_args()
        items = _replies(shell, args, incomplete, *replaced(incomplete))
        return "\n".join(shell.format_completion(item) for item in items)
    except Exception:  # noqa: BLE001 - a completion offers nothing rather than a traceback
        return ""


for _shell in (_Bash, _Zsh, _Fish):
    add_completion_class(_shell)


def _shell_quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def _is_assignment(word: str) -> bool:
    name, sep, _ = word.partition("=")
    return bool(sep) and name.isidentifier()


# ------------------------------------------------------------------------ the values
def _safe(complete: Callable[[str], Iterable[CompletionItem]]) -> Completer:
    """A ``shell_complete=`` callback of ``complete(incomplete)``: any failure (a broken
    config.toml...) completes to nothing."""
    def callback(ctx: click.Context, param: click.Parameter,
                 incomplete: str) -> list[CompletionItem]:
        try:
            return list(complete(incomplete))
        except Exception:  # noqa: BLE001 - a completion offers nothing rather than a traceback
            return []
    return callback


def _one_of(values: Sequence[str], incomplete: str) -> list[CompletionItem]:
    return [CompletionItem(value) for value in values if value.startswith(incomplete)]


def _list_of(values: Sequence[str], incomplete: str) -> list[CompletionItem]:
    """``a,b,c`` lists: the values not given yet, after the last comma."""
    head, comma, current = incomplete.rpartition(",")
    given = {part.strip().lower() for part in head.split(",")} if comma else set()
    prefix = head + comma
    return [CompletionItem(prefix + value) for value in values
            if value.startswith(current.strip().lower()) and value not in given]


def choices(values: Sequence[str]) -> Completer:
    """One of ``values``."""
    return _safe(lambda incomplete: _one_of(values, incomplete))


def label_list(field: str) -> Completer:
    """The labels of query field ``field`` (api/labels.py), comma-separated."""
    def complete(incomplete: str) -> list[CompletionItem]:
        from api.labels import LABEL_FIELDS

        return _list_of(LABEL_FIELDS[field], incomplete)
    return _safe(complete)


BOOLEANS = choices(("true", "false"))
WINDOW = choices(WINDOWS)


def _statuses(incomplete: str) -> list[CompletionItem]:
    from api.reviews import STATUSES

    return _one_of(STATUSES, incomplete)


STATUSES = _safe(_statuses)


def _sort_by(incomplete: str) -> list[CompletionItem]:
    from api.labels import SORT_BY

    return _one_of(SORT_BY, incomplete)


def _sort_order(incomplete: str) -> list[CompletionItem]:
    from api.labels import SORT_ORDER

    return _one_of(SORT_ORDER, incomplete)


SORT_BY = _safe(_sort_by)
SORT_ORDER = _safe(_sort_order)


def _columns(incomplete: str) -> list[CompletionItem]:
    from api.columns import TABLE_COLUMNS

    return _list_of(tuple(TABLE_COLUMNS), incomplete)


COLUMNS = _safe(_columns)


def _verdicts(incomplete: str) -> list[CompletionItem]:
    from api.reviews import review_settings
    from tui.cli_views import _config_file

    verdicts, _who = review_settings(_config_file())
    return _one_of(verdicts, incomplete)


VERDICTS = _safe(_verdicts)


def _profiles(incomplete: str) -> list[CompletionItem]:
    from api.config import read_config
    from tui.cli_views import _config_file

    profiles = read_config(_config_file()).get("profiles")
    if not isinstance(profiles, dict):
        return []
    return _one_of([name for name in profiles if isinstance(name, str)], incomplete)


PROFILES = _safe(_profiles)


def _view_items(incomplete: str, *, own: bool = False) -> list[CompletionItem]:
    """The saved views whose name starts with ``incomplete`` (``own``: the user's only, the
    ones that can be deleted, unreadable ones included), their description as help."""
    from api.text import one_line
    from api.views import read_views
    from tui.cli_views import _config_file

    found = read_views(_config_file())
    views = [v for v in found.views.values() if not (own and v.builtin)]
    items = [CompletionItem(v.name, help=one_line(v.description, HELP_CHARS) or None)
             for v in views if v.name.startswith(incomplete)]
    if own:
        items += [CompletionItem(name, help="cannot be read") for name in found.broken
                  if name.startswith(incomplete)]
    return items


VIEWS = _safe(_view_items)
OWN_VIEWS = _safe(lambda incomplete: _view_items(incomplete, own=True))


def _themes(incomplete: str) -> list[CompletionItem]:
    from tui.cli_theme import theme_darkness

    return _one_of(list(theme_darkness()), incomplete)


THEMES = _safe(_themes)


def query_items(incomplete: str) -> list[CompletionItem]:
    """The query's text form (api/query.py): ``dim:`` names not used yet, then the values
    of ``dim:`` where they are known (labels as comma lists, yes/no, sort fields)."""
    from api.labels import LABEL_FIELDS, SORT_BY, SORT_ORDER
    from api.query import TEXT_KEYS

    cut = max(incomplete.rfind(" "), incomplete.rfind("\t")) + 1
    head, last = incomplete[:cut], incomplete[cut:]
    by_key = {**{key: field for field, key in TEXT_KEYS.items()}, **{f: f for f in TEXT_KEYS}}
    key, colon, value = last.partition(":")
    if not colon:
        used = {by_key.get(token.partition(":")[0].lower()) for token in head.split()}
        return [CompletionItem(f"{head}{short}:", help=_field_help(field))
                for field, short in TEXT_KEYS.items()
                if short.startswith(last.lower()) and field not in used]
    field = by_key.get(key.lower())
    if field in LABEL_FIELDS:
        found = _list_of(LABEL_FIELDS[field], value)
    else:
        values = {"has_handoff": ("yes", "no"), "has_winback": ("yes", "no"),
                  "sort_by": SORT_BY, "sort_order": SORT_ORDER}.get(field or "", ())
        found = _one_of(values, value.lower())
    return [CompletionItem(f"{head}{key}:{item.value}") for item in found]


def _field_help(field: str) -> str:
    from api.labels import LABEL_FIELDS

    if field in LABEL_FIELDS:
        return ", ".join(LABEL_FIELDS[field])
    if field in ("has_handoff", "has_winback"):
        return "yes, no"
    return field.replace("_", " ")


def _cohort(incomplete: str) -> list[CompletionItem]:
    """A saved view or a query (``compare A B``)."""
    views: list[CompletionItem] = []
    if not any(char in incomplete for char in ": \t"):
        try:
            views = _view_items(incomplete)
        except Exception:  # noqa: BLE001 - a broken config.toml: the query keys still help
            views = []
    return views + query_items(incomplete)


COHORT = _safe(_cohort)
QUERY = _safe(query_items)
