"""`studio-tui kb-health` (issue 14, api/kb_health.py): every figure recomputed by brute force
from the demo's stored conversations -- the citations read from the stored messages (each
one cited by a kb_search call of an assistant message, a second before it), the labels
from the conversations table -- through both ways of reading labels (list pages, batch), the
cap, one knowledge base, and the errors a user can cause."""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime

import pytest
from click.testing import CliRunner

from api.demo import demo_info
from api.demo.content import decode_extra
from tui.cli import main

START, END = "2026-05-17T00:00:00Z", "2026-06-16T00:00:00Z"  # the demo's 30d window


def _ts(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


@dataclass(frozen=True)
class Citation:
    cid: str  # citation id
    ts: int
    kb_id: str
    item_id: str | None
    conversation_id: str


@dataclass(frozen=True)
class Conv:
    ts: int
    handoff: bool
    sentiment: str | None
    resources: str | None


@pytest.fixture(scope="module")
def stored(demo_db):
    """(conversations by id, every citation) of the demo's main project."""
    project = demo_info(demo_db).project_id
    conn = sqlite3.connect(f"file:{demo_db}?mode=ro", uri=True)
    try:
        convs, cites = {}, []
        for seq, cid, ts, handoff, sentiment, resources in conn.execute(
                "SELECT seq, conversation_id, last_ts, has_handoff, sentiment, resources "
                "FROM conversations WHERE project_id = ?", (project,)).fetchall():
            convs[cid] = Conv(ts, bool(handoff), sentiment, resources)
            body = conn.execute("SELECT body FROM conv_messages WHERE seq = ?",
                                (seq,)).fetchone()
            extra = json.loads(decode_extra(body[0]))
            # a citation belongs to the kb_search call it came from: the call's id is
            # "call_" + the first 24 hex digits of the citation's id
            by_call: dict[str, list] = {}
            for c in extra["citations"]:
                by_call.setdefault(c["citation_id"].replace("-", "")[:24], []).append(c)
            for message in extra["messages"]:
                for call in message["tool_calls"]:
                    if call["tool_type"] != "kb_search":
                        continue
                    for c in by_call.pop(call["id"].removeprefix("call_"), []):
                        cites.append(Citation(c["citation_id"],
                                              _ts(message["created_at"]) - 1, c["kb_id"],
                                              c["item_id"], cid))
            assert not by_call, (cid, by_call)  # every citation found its call
    finally:
        conn.close()
    return convs, cites


@pytest.fixture
def run(demo_db):
    def invoke(*args):
        return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)

    return invoke


def expected(stored, kb_id=None, cap=None, start=START, end=END):
    """The JSON's figures, computed from the stored data: base counts, and per item
    (kb, item) -> citations, conversations and the three (count, base)."""
    convs, cites = stored
    # citation days 05-17 .. 06-15 (the end date is midnight: the day before is the last)
    window = [c for c in cites if _ts(start) <= c.ts < _ts(end)
              and (kb_id is None or c.kb_id == kb_id)]
    window.sort(key=lambda c: (c.ts, c.cid), reverse=True)  # most recent first
    read = window[:cap] if cap else window
    in_window = [c for c in convs.values() if _ts(start) <= c.ts <= _ts(end)]
    scored = [c for c in in_window if c.sentiment is not None]
    rated = [c for c in in_window if c.resources is not None]
    base = {
        "conversations": len(in_window),
        "negative": (sum(c.sentiment == "negative" for c in scored), len(scored)),
        "handoff": (sum(c.handoff for c in in_window), len(in_window)),
        "irrelevant_resources": (sum(c.resources == "irrelevant" for c in rated), len(rated)),
    }
    items = {}
    for key in {(c.kb_id, c.item_id) for c in read}:
        mine = [c for c in read if (c.kb_id, c.item_id) == key]
        rows = [convs[cid] for cid in {c.conversation_id for c in mine}]
        s = [r for r in rows if r.sentiment is not None]
        r_ = [r for r in rows if r.resources is not None]
        items[key] = {
            "citations": len(mine), "conversations": len(rows),
            "negative": (sum(r.sentiment == "negative" for r in s), len(s)),
            "handoff": (sum(r.handoff for r in rows), len(rows)),
            "irrelevant_resources": (sum(r.resources == "irrelevant" for r in r_), len(r_)),
        }
    return base, items, len(window), len(read)


def check(data, stored, kb_id=None, cap=None, start=START, end=END):
    base, items, total, read = expected(stored, kb_id, cap, start, end)
    rates = data["base_rates"]
    assert rates["conversations"] == base["conversations"]
    for name in ("negative", "handoff", "irrelevant_resources"):
        assert (rates[name]["count"], rates[name]["base"]) == base[name], name
    assert data["citations"]["total"] == total
    assert data["citations"]["read"] == read
    assert data["conversations"]["unlabelled"] == 0
    got = {(i["kb_id"], i["item_id"]): i for i in data["items"]}
    assert set(got) == set(items)
    for key, want in items.items():
        item = got[key]
        assert (item["citations"], item["conversations"]) == \
            (want["citations"], want["conversations"]), key
        for name in ("negative", "handoff", "irrelevant_resources"):
            figure, (count, n) = item[name], want[name]
            assert (figure["count"], figure["base"]) == (count, n), (key, name)
            c_all, b_all = base[name]
            expected_count = c_all / b_all * n
            assert figure["expected"] == pytest.approx(expected_count, abs=0.006)
            assert figure["excess"] == pytest.approx(count - expected_count, abs=0.006)
            if n and c_all:
                assert figure["lift"] == pytest.approx((count / n) / (c_all / b_all),
                                                       abs=0.006)
                assert figure["pct"] == pytest.approx(100 * count / n, abs=0.006)
    excess = [i["negative"]["excess"] for i in data["items"]]
    assert excess == sorted(excess, reverse=True)  # ranked by excess negatives
    return got


def test_every_item_of_30_days_matches_the_stored_conversations(run, stored):
    result = run("kb-health", "--start", START, "--end", END, "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["conversations"]["labels_from"] == "list"
    assert data["citations"]["capped"] is False and data["citations"]["note"] is None
    got = check(data, stored)
    assert len(got) > 20
    # titles resolved: every item with an id has its title from the item endpoint
    assert all(i["title"] for i in data["items"] if i["item_id"] is not None)
    assert any(i["url"] for i in data["items"])
    # progress lines on stderr, the last of each stage complete
    assert "read citations" in result.stderr and "resolved titles" in result.stderr


def test_a_citation_whose_conversation_ends_after_the_window(run, stored):
    """Its labels are not on the window's list pages: they come from the batch endpoint."""
    start, end = "2026-05-01T00:00:00Z", "2026-06-01T00:00:00Z"
    convs, cites = stored
    late = {c.conversation_id for c in cites if _ts(start) <= c.ts < _ts(end)
            and convs[c.conversation_id].ts > _ts(end)}
    assert late  # the case under test exists in the demo data
    result = run("kb-health", "--start", start, "--end", end, "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["conversations"]["labels_from"] == "list"
    check(data, stored, start=start, end=end)


def test_the_cap_reads_the_most_recent_citations_and_says_so(run, stored):
    result = run("kb-health", "--start", START, "--end", END, "--cap", 120,
                 "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["citations"]["cap"] == 120 and data["citations"]["capped"] is True
    assert "--cap" in data["citations"]["note"]
    # few cited conversations: the batch endpoint is cheaper than the window's list pages
    assert data["conversations"]["labels_from"] == "batch"
    check(data, stored, cap=120)
    table = run("kb-health", "--start", START, "--end", END, "--cap", 120)
    assert table.exit_code == 0, table.stderr
    assert any(line.startswith("cap reached: read the 120 most recent of")
               for line in table.stdout.splitlines())


def test_one_knowledge_base(run, stored):
    _, cites = stored
    kb_id = max({c.kb_id for c in cites}, key=lambda k: sum(c.kb_id == k for c in cites))
    result = run("kb-health", "--start", START, "--end", END, "--kb", kb_id,
                 "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["kb"]["id"] == kb_id and data["kb"]["title"]
    got = check(data, stored, kb_id=kb_id)
    assert {kb for kb, _ in got} == {kb_id}


def test_the_table_fits_80_columns(run):
    result = run("kb-health", "--start", START, "--end", END)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert any(line.startswith("ITEM ") for line in lines)
    assert any(line.startswith("base rates: negative ") for line in lines)


@pytest.mark.parametrize(("args", "needle"), [
    (("--kb", "no-such-kb"), "--kb: no knowledge base 'no-such-kb'"),
    (("--end", "2026-04-01"), "--end"),
    (("--start", "yesterday-ish"), "--start"),
])
def test_bad_input_is_one_line_and_exit_2(run, args, needle):
    flags = {"--start": START, "--end": END}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        flags[flag] = value
    result = run("kb-health", *[x for pair in flags.items() for x in pair])
    assert result.exit_code == 2, (result.stdout, result.stderr)
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("studio-tui: error: ") and needle in last, last
    assert result.stdout == ""


def test_cap_below_one_is_refused(run):
    result = run("kb-health", "--start", START, "--end", END, "--cap", 0)
    assert result.exit_code == 2
    assert "--cap" in result.stderr
