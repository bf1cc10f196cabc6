"""Every Analysis Recipe of the brief, run on the very API answers a screen received, prints
figures that the screen shows.

Each screen runs on the in-process demo with a recording client: every answer the screen gets
is kept with its path and params. The answers are saved under the file names the recipe reads,
the verbatim recipe (tests/recipes/) is executed there with stdout captured, and every number,
date and sparkline trend of its output must be found in the screen's text (widgets' content
and table cells). A number printed with d decimals matches a number on screen that rounds to
it at d decimals (e.g. the recipe's "93% success" and the screen's "93.2%").
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from analytics_harness import WINDOW, HarnessApp, demo_client, screen_text, settle

from api.query import ConversationQuery
from screens.analytics.conversions import ConversionsScreen
from screens.analytics.csat import CsatScreen
from screens.analytics.overview import OverviewScreen
from screens.analytics.resources import ResourcesScreen
from screens.analytics.signals import SignalsScreen

RECIPES = Path(__file__).parent / "recipes"
# the window the conversion funnel recipe hard-codes in its fetch commands
FUNNEL_WINDOW = ConversationQuery.build(
    start_date="2026-04-01T00:00:00Z", end_date="2026-05-01T00:00:00Z"
)
_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?"
)
_NUMBER = re.compile(r"(?<![\w.-])\d+(?:\.\d+)?(?![\w-])")  # not inside ids like 'd94d27b9-…'

_TREND = re.compile(r"\[([\d ]+)\]")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3})")


class Recorder:
    """Wraps a client's get/get_result/get_swr and keeps every (path, params, answer)."""

    def __init__(self, client) -> None:
        self.calls: list[tuple[str, dict, Any]] = []
        get, get_result, get_swr = client.get, client.get_result, client.get_swr

        async def rec_get(path, params=None, **kw):
            data = await get(path, params, **kw)
            self.calls.append((path, dict(params or {}), data))
            return data

        async def rec_result(path, params=None, **kw):
            result = await get_result(path, params, **kw)
            self.calls.append((path, dict(params or {}), result.data))
            return result

        async def rec_swr(path, params=None, **kw):
            async for result in get_swr(path, params, **kw):
                self.calls.append((path, dict(params or {}), result.data))
                yield result

        client.get, client.get_result, client.get_swr = rec_get, rec_result, rec_swr

    def answer(self, suffix: str, **params: Any) -> Any:
        """The last answer whose path ends with ``suffix`` and whose params include ``params``."""
        for path, got, data in reversed(self.calls):
            if path.endswith(suffix) and all(
                str(got.get(k)) == str(v) if v is not None else k not in got
                for k, v in params.items()
            ):
                return data
        raise AssertionError(f"the screen never asked {suffix} {params}")


async def run_screen(demo_db, screen_class, filters=WINDOW) -> tuple[str, Recorder, HarnessApp]:
    client = demo_client(demo_db)
    recorder = Recorder(client)
    app = HarnessApp(client, screen_class, filters)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        assert app.errors == []
        app.records = screen_records(app.screen)
        return screen_text(app.screen), recorder, app


def run_recipe(
    name: str, files: dict[str, Any], workdir: Path, monkeypatch, source_edit=lambda s: s
) -> str:
    for file_name, data in files.items():
        (workdir / file_name).write_text(json.dumps(data, indent=2, ensure_ascii=False))
    monkeypatch.chdir(workdir)
    source = source_edit((RECIPES / f"{name}.py").read_text(encoding="utf-8"))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(source, f"{name}.py", "exec"), {"__name__": "__main__"})  # noqa: S102
    return out.getvalue()


def _screen_numbers(text: str) -> list[float]:
    text = _DATETIME.sub(" ", _THOUSANDS.sub("", text))
    return [float(n) for n in _NUMBER.findall(text)]


def _when(stamp: str) -> str:
    """A recipe timestamp as the screens print it: 'YYYY-MM-DD HH:MM' (or the date)."""
    return stamp[:16].replace("T", " ")


_WORD = re.compile(r"[a-z][a-z_-]{2,}")
_NOT_LABELS = frozenset({"and", "the", "with", "for", "per", "from", "into", "not"})


def _label_words(line: str) -> set[str]:
    """The words that name a recipe line's figures (its label or row key), lower case."""
    words = _WORD.findall(_DATETIME.sub(" ", re.sub(r"\[[^\]]*\]", " ", line)).lower())
    return {w.strip("_-") for w in words} - _NOT_LABELS


# a recipe's word for a figure -> the screens' word for it
_ALIASES = {"rated": "ratings", "success": "successful"}


def _plain(cell: Any) -> str:
    return cell.plain if hasattr(cell, "plain") else str(cell)


def screen_records(screen) -> list[tuple[str, str]]:
    """The screen's figures with their labels, one record per table row (its cells, with the
    column names as labels), line of a text widget, or strip of KPI tiles: (text, labels)."""
    from textual.widgets import DataTable, Static

    from widgets.charts import Kpis

    records: list[tuple[str, str]] = []
    for widget in screen.query("*"):
        if isinstance(widget, Kpis):
            records.append((widget.text, ""))
        elif isinstance(widget, Static):
            records += [(line, "") for line in _plain(widget.content).splitlines()]
        elif isinstance(widget, DataTable):
            columns = " ".join(_plain(c.label) for c in widget.ordered_columns)
            for i in range(widget.row_count):
                cells = " | ".join(_plain(c) for c in widget.get_row_at(i))
                records.append((cells, columns))
    return records


class Record:
    def __init__(self, line: str, labels: str = "") -> None:
        self.flat = _THOUSANDS.sub("", line)
        words = f"{line} {labels}".lower()
        self.words = set(_WORD.findall(words)) | set(_WORD.findall(words.replace(" ", "_")))
        self.numbers = _screen_numbers(line)


def _near(line: str, records: list[Record]) -> list[Record]:
    """The records that carry the label of a recipe line: one of its words, or the date that
    starts it (a time series row)."""
    labels = _label_words(line)
    labels |= {_ALIASES[w] for w in labels if w in _ALIASES}
    start = _DATETIME.match(line.strip())
    if start is not None:
        return [r for r in records if r.flat.startswith(_when(start.group()))]
    near = [r for r in records if labels & r.words] if labels else records
    assert near, f"no line on screen carries a label of {line!r} ({sorted(labels)})"
    return near


def assert_on_screen(
    output: str, text: str | list[tuple[str, str]], *, skip: tuple[str, ...] = ()
) -> int:
    """Every figure of the recipe's output is on the screen in a record (a line, a table row,
    a KPI tile) that also carries one of the words labelling it in the recipe's line;
    returns how many figures were checked."""
    lines = [(line, "") for line in text.splitlines()] if isinstance(text, str) else text
    records = [Record(line, labels) for line, labels in lines if line.strip()]
    checked = 0
    section_skipped = False
    for line in output.splitlines():
        if not line.strip():
            section_skipped = False
            continue
        if any(line.strip().startswith(s) for s in skip):
            section_skipped = not line.startswith(" ")  # a skipped heading skips its section
            continue
        if section_skipped and line.startswith(" "):
            continue
        if not re.search(r"\d", line):
            continue  # a heading
        near = _near(line, records)
        for trend in _TREND.findall(line):
            assert any(trend.strip() in r.flat for r in near), (
                f"trend [{trend}] of {line!r} not beside its label on screen"
            )
            checked += 1
        for stamp in _DATETIME.findall(line):
            assert any(_when(stamp) in r.flat for r in near), (
                f"{stamp} of {line!r} not beside its label on screen"
            )
            checked += 1
        rest = _TREND.sub(" ", _DATETIME.sub(" ", re.sub(r"(\d)ms\b", r"\1 ms", line)))
        rest = rest.replace("–", "-")  # '1–2 ★' is part of a label, as the screen's '1-2★'

        rest = re.sub(r"\[[^\]]*\]", " ", rest)  # conversation ids in brackets: checked as text
        for token in _NUMBER.findall(rest):
            digits = len(token.split(".")[1]) if "." in token else 0
            value = float(token)
            assert any(round(n, digits) == value for r in near for n in r.numbers), (
                f"{token} of {line!r} not beside its label on screen"
            )
            checked += 1
        for cid in re.findall(r"\[(\w+)\]", line):
            assert any(cid in r.flat for r in records), f"{cid} of {line!r} not on screen"
    return checked


def assert_names(output: str, text: str, pattern: str) -> None:
    names = re.findall(pattern, output, flags=re.M)
    assert names, f"no name matched {pattern}"
    for name in names:
        assert name.strip() in text, f"{name!r} not on screen"


# -------------------------------------------------------------------- overview
async def test_deflection_rate_recipe(demo_db, tmp_path, monkeypatch):
    text, rec, app = await run_screen(demo_db, OverviewScreen)
    analytics = rec.answer("/conversations/analytics")
    out = run_recipe("deflection_rate", {"analytics.json": analytics}, tmp_path, monkeypatch)
    assert assert_on_screen(out, app.records) >= 6
    assert_names(out, text, r"^ (.+): [\d.]+% deflection")


# -------------------------------------------------------------------- quality signals
# The recipe prints deflection quality and handoff reasons as % of every scored conversation;
# the screen puts each over the conversations it applies to, as its title says (issue 11):
# their counts must be on screen, their percentages are checked against that base.
OWN_BASE = {"Deflection Quality:": "deflection_quality", "Handoff Reasons:": "handoff_reason"}


def own_base_lines(out: str) -> tuple[str, dict[str, dict[str, int]]]:
    """The output without the percentages of the OWN_BASE sections, and their counts."""
    kept, counts, section = [], {}, None
    for line in out.splitlines():
        if not line.startswith(" "):
            section = OWN_BASE.get(line.strip())
        elif section is not None:
            label, count = re.match(r" (\w+): (\d+)", line).groups()
            counts.setdefault(section, {})[label] = int(count)
            line = re.sub(r" \([\d.]+%\)", "", line)
        kept.append(line)
    return "\n".join(kept), counts


@pytest.mark.parametrize("recipe", ["sentiment_deep_dive", "signal_analysis"])
async def test_signal_recipes(demo_db, tmp_path, monkeypatch, recipe):
    text, rec, app = await run_screen(demo_db, SignalsScreen)
    agg = rec.answer("/conversations/metrics/aggregate")
    out = run_recipe(recipe, {"metrics_agg.json": agg}, tmp_path, monkeypatch)
    out, own = own_base_lines(out)
    assert assert_on_screen(out, app.records) >= 8
    assert_names(out, text, r"^ (\w+): \d+")
    for field, counts in own.items():
        base = sum(agg[f"{field}_distribution"].values())
        for label, count in counts.items():
            assert f"{label} | {count:,} | {count / base * 100:.1f}%" in text


async def test_conversation_metadata_recipe(demo_db, tmp_path, monkeypatch):
    """The export's inline labels agree with the aggregate the signals screen shows."""
    text, rec, app = await run_screen(demo_db, SignalsScreen)
    client = demo_client(demo_db)
    conversations, offset, params = [], 0, WINDOW.to_params()
    async with client:
        while True:
            page = await client.get(
                f"/projects/{client.project_id}/conversations",
                {**params, "limit": 100, "offset": offset},
            )
            conversations += page["conversations"]
            if len(page["conversations"]) < 100:
                break
            offset += 100
    export = {"total_matched": page["total"], "conversations": conversations}
    out = run_recipe(
        "conversation_metadata", {"all_conversations.json": export}, tmp_path, monkeypatch
    )
    # not on the signals screen: skills per conversation (the resources screen counts loads)
    # and the conversation lists printed after the counts
    checked = assert_on_screen(
        out, app.records, skip=("Skills loaded", "Negative handoffs", "High recontact risk", "[")
    )
    assert checked >= 12
    high = sum(1 for c in conversations if c.get("recontact_risk") == "high")
    assert f"high | {high:,}" in text


# -------------------------------------------------------------------- resources
async def test_resource_recipes(demo_db, tmp_path, monkeypatch):
    text, rec, app = await run_screen(demo_db, ResourcesScreen)
    kb_id = next(p.split("/")[-2] for p, _, _ in rec.calls if p.endswith("/items"))
    files = {
        "api_tool_usage.json": rec.answer("/analytics/api-tools"),
        "toolkit_usage.json": rec.answer("/analytics/toolkits"),
        "skill_usage.json": rec.answer("/analytics/skills"),
        "kbs.json": rec.answer("/knowledgebases"),
        "kb_item_traffic.json": rec.answer(f"/analytics/kbs/{kb_id}/items"),
        "top_intercom_items.json": rec.answer(f"/analytics/kbs/{kb_id}/items"),
        "intercom_kb.json": rec.answer(f"/knowledgebases/{kb_id}"),
        "api_tool_sparklines.json": rec.answer("/api-tools/sparklines", days=14),
        "toolkit_sparklines.json": rec.answer("/toolkit-calls/sparklines", days=14),
        "skill_sparklines.json": rec.answer("/skills/sparklines", days=14),
    }
    for recipe, minimum in [
        ("api_tool_usage", 20),
        ("toolkit_actions", 6),
        ("skill_usage", 20),
        ("kb_citation_items", 5),
        ("top_intercom_articles", 10),
        ("sparkline_overview", 10),
    ]:
        out = run_recipe(recipe, files, tmp_path, monkeypatch)
        assert assert_on_screen(out, app.records) >= minimum, recipe
    toolkit = run_recipe("toolkit_actions", files, tmp_path, monkeypatch)
    assert_names(toolkit, text, r"^ (\w+): \d+ calls")
    top = run_recipe("top_intercom_articles", files, tmp_path, monkeypatch)
    assert_names(top, text, r"^ \d+\. (.+) — \d+ citations$")


# -------------------------------------------------------------------- CSAT
async def test_csat_recipes(demo_db, tmp_path, monkeypatch):
    text, rec, app = await run_screen(demo_db, CsatScreen)
    files = {
        "csat.json": rec.answer("/csat/analytics", ratings_offset=0, max_rating=None),
        "csat_dsat_table.json": rec.answer("/csat/analytics", max_rating=2, ratings_limit=50),
    }
    score = run_recipe("csat_score", files, tmp_path, monkeypatch)
    assert assert_on_screen(score, app.records) >= 25
    dsat = run_recipe("dsat_drilldown", files, tmp_path, monkeypatch)
    # "Showing 50 of 271 low-rating reviews" is the recipe's sample size, not a figure
    assert assert_on_screen(dsat, app.records, skip=("Showing",)) >= 5
    assert_names(dsat, text, r"^ ([\w-]+): \d+$")


# -------------------------------------------------------------------- conversions
async def test_conversion_topline_recipe(demo_db, tmp_path, monkeypatch):
    text, rec, app = await run_screen(demo_db, ConversionsScreen, FUNNEL_WINDOW)
    metric = rec.answer(
        "/conversion-metrics/venta/analytics", playbook_base_id=None, events_offset=0
    )
    out = run_recipe("conversion_topline", {"metric_analytics.json": metric}, tmp_path, monkeypatch)
    assert assert_on_screen(out, app.records) >= 12


async def test_conversion_funnel_recipe(demo_db, tmp_path, monkeypatch):
    text, rec, app = await run_screen(demo_db, ConversionsScreen, FUNNEL_WINDOW)
    project = app.client.project_id
    monkeypatch.setenv("STUDIO_PROJECT_ID", project)

    def fetch(args, check=False, **kw):  # the recipe's `python3 scripts/fetch.py ... -o out`
        params = dict(p.split("=", 1) for p in args[args.index("--params") + 1 : args.index("-o")])
        assert params["start_date"] == FUNNEL_WINDOW.start_date
        answer = rec.answer(
            "/conversion-metrics/venta/analytics",
            playbook_base_id=params["playbook_base_id"],
            start_date=params["start_date"],
            end_date=params["end_date"],
        )
        Path(args[args.index("-o") + 1]).write_text(json.dumps(answer))
        return subprocess.CompletedProcess(args, 0)

    monkeypatch.setattr(subprocess, "run", fetch)
    out = run_recipe(
        "conversion_funnel",
        {"playbooks.json": rec.answer("/playbooks")},
        tmp_path,
        monkeypatch,
        lambda s: s.replace("SLUG", "venta"),
    )
    assert assert_on_screen(out, app.records) >= 4
    assert_names(out, text, r"^(\S.*?)\s{2,}\d+\s+\d+\s+[\d.]+%")


def test_matcher_is_strict():
    screen = "CSAT 64.4% · 1,312 conversations · 2026-06-15 23:26 · trend 9 11 14"
    assert assert_on_screen(" CSAT: 64.4% of 1312 [9 11 14] at 2026-06-15T23:26:01Z", screen) == 4
    assert assert_on_screen(" CSAT: 64% (rounded)", screen) == 1
    for wrong in (" CSAT: 64.5%", " total 1313", " at 2026-06-15T23:27:00Z", " [9 11 15]"):
        with pytest.raises(AssertionError):
            assert_on_screen(wrong, screen)


def test_a_figure_counts_only_beside_its_label():
    """A recipe's figure must sit in the row/line carrying its label: a number elsewhere on
    the screen (another row, another chart) does not count."""
    records = [("positive | 10 | 25.0%", "label count %"), ("negative | 30 | 75.0%", "")]
    assert assert_on_screen(" positive: 10 (25.0%)", records) == 2
    for wrong in (" positive: 30 (75.0%)", " negative: 10", " neutral: 10"):
        with pytest.raises(AssertionError):
            assert_on_screen(wrong, records)
    screen = "Deflection rate: 45.2%\nHandoffs: 12\n2026-06-14 | 16 | 14"
    assert assert_on_screen("Deflection rate: 45%\n 2026-06-14: 16 calls (14 ok)", screen) == 4
    for wrong in ("Handoffs: 45", "Deflection rate: 12%", " 2026-06-14: 12 calls"):
        with pytest.raises(AssertionError):
            assert_on_screen(wrong, screen)
