"""Markdown transcripts (api.transcript): golden files from the pinned demo and from hostile
text, and the document's structure checked with a real CommonMark parser (markdown-it)."""
from __future__ import annotations

import json
import os
from datetime import UTC
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from markdown_it import MarkdownIt
from mdit_py_plugins.footnote import footnote_plugin

from api.lookups import Assistant, Lookups
from api.models import ConversationDetail
from api.transcript import (
    MD_SEPARATOR,
    citation_numbers,
    conversations_markdown,
    export_preamble,
    transcript_markdown,
)

GOLDEN = Path(__file__).parent / "golden"
DEMO_SOURCE = GOLDEN / "transcript_demo_source.json"
# a frustration handoff citing its source inline, with an attachment; a call that failed and a
# citation no message marks
DEMO_IDS = ["21014882", "21014896"]
HUGE = ("This is a very long complaint. " * 1700)[:50_000]


def parse(markdown: str) -> list:
    return MarkdownIt("commonmark").use(footnote_plugin).enable("table").parse(markdown)


def golden_check(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{path} differs (UPDATE_GOLDEN=1 rewrites)"


# ---------------------------------------------------------------- the pinned demo
def demo_names(data: dict) -> Lookups:
    return Lookups(
        assistants=[Assistant(a["base_id"], a["name"], tuple(map(tuple, a["versions"])))
                    for a in data["assistants"]],
        inboxes=[tuple(pair) for pair in data["inboxes"]],
        kbs=data["kbs"],
        kb_items={(kb, item): title for kb, item, title in data["kb_items"]},
        loaded=True)


@pytest.fixture
async def demo_client(demo_db):
    from api.client import StudioClient
    from api.config import load_settings

    async with StudioClient.from_settings(load_settings(), cache=False) as client:
        yield client


async def test_demo_source_is_the_pinned_demo(demo_client):
    """The recorded conversations are the pinned demo's (UPDATE_GOLDEN=1 records them again,
    with the names the app would resolve for them)."""
    from datetime import datetime

    from api.lookups import load_lookups, resolve_kb_items

    answer = await demo_client.post(f"/projects/{demo_client.project_id}/conversations/batch",
                                    {"conversation_ids": DEMO_IDS})
    conversations = sorted(answer["conversations"],
                           key=lambda c: DEMO_IDS.index(c["conversation_id"]))
    if os.environ.get("UPDATE_GOLDEN"):
        names = await load_lookups(demo_client, datetime(2026, 6, 15, tzinfo=UTC))
        pairs = {(c["kb_id"], c["item_id"]) for conv in conversations
                 for c in conv["citations"]}
        await resolve_kb_items(demo_client, names, pairs)
        DEMO_SOURCE.write_text(json.dumps({
            "conversations": conversations,
            "names": {
                "assistants": [[a.base_id, a.name, a.versions] for a in names.assistants],
                "inboxes": names.inboxes,
                "kbs": names.kbs,
                "kb_items": [[kb, item, title] for (kb, item), title in names.kb_items.items()
                             if (kb, item) in pairs],
            }}, indent=1, ensure_ascii=False), encoding="utf-8")
    recorded = json.loads(DEMO_SOURCE.read_text(encoding="utf-8"))
    assert recorded["conversations"] == conversations


def load_demo() -> tuple[list[ConversationDetail], Lookups]:
    data = json.loads(DEMO_SOURCE.read_text(encoding="utf-8"))
    raw = data["names"]
    names = demo_names({
        "assistants": [{"base_id": b, "name": n, "versions": v} for b, n, v in raw["assistants"]],
        "inboxes": raw["inboxes"], "kbs": raw["kbs"], "kb_items": raw["kb_items"]})
    return [ConversationDetail.model_validate(c) for c in data["conversations"]], names


def test_demo_golden():
    details, names = load_demo()
    text = conversations_markdown(details, names=names, tz=ZoneInfo("Europe/Madrid"))
    golden_check("transcript_demo.md", text)


def test_demo_structure_matches_the_conversations():
    details, names = load_demo()
    text = conversations_markdown(details, names=names)
    tokens = parse(text)
    assert text.startswith("# Conversations (2)\n")
    assert [t.content for t in tokens if t.type == "inline" and t.content.startswith(
        "Conversation ")] == [f"Conversation {cid}" for cid in DEMO_IDS]
    assert sum(t.type == "hr" for t in tokens) == 2  # one rule before each conversation
    calls = sum(len(m.tool_calls) for d in details for m in d.messages)
    assert text.count("<details><summary>🔧 ") == calls == text.count("</details>")
    assert sum(t.type == "fence" for t in tokens) >= calls  # arguments, result or error each
    # every citation is a footnote that renders (referenced), labels unique per conversation
    footnotes = [t for t in tokens if t.type == "footnote_open"]
    assert len(footnotes) == sum(len(d.citations) for d in details)
    assert "[^1-1]" in text and "[^2-1]" in text
    assert "Sources not marked in the text: [^2-1]" in text  # its message does not mark it
    # names resolved as the app does: KB titles instead of ids
    citation = details[0].citations[0]
    title = names.kb_items[(citation.kb_id, citation.item_id)]
    assert f"[^1-1]: **{names.kbs[citation.kb_id]} › {title}** — “" in text


def test_citation_markers_become_footnotes_in_the_apps_numbering():
    detail = ConversationDetail.model_validate({
        "conversation_id": "c-1",
        "messages": [
            {"role": "assistant", "content": "First [[cit-0002-b]] then [[cit-0001-a]]."},
            {"role": "assistant", "content": "Again [[cit-0002-b]]: and [[cit-9999-x]] [[b]]"},
        ],
        "citations": [{"citation_id": "cit-0001-a", "kb_id": "kb", "content": "A"},
                      {"citation_id": "cit-0002-b", "kb_id": "kb", "content": "B"},
                      {"citation_id": "cit-0003-c", "kb_id": "kb", "content": "C"},
                      {"kb_id": "kb", "content": "no id"}]})
    numbers = citation_numbers([m.content or "" for m in detail.messages], detail.citations)
    assert numbers == {"cit-0002-b": 1, "cit-0001-a": 2, "cit-0003-c": 3}
    text = transcript_markdown(detail)
    assert "First [^1] then [^2]." in text
    assert "Again [^1]\\: and \\[?\\] [[b]]" in text  # an unknown id; not an id: as written
    assert "Sources not marked in the text: [^3] [^4]" in text
    footnotes = [t for t in parse(text) if t.type == "footnote_open"]
    assert len(footnotes) == 4
    assert "[^1]: **kb › item** — “B”" in text


# ---------------------------------------------------------------- hostile text
def hostile_detail() -> ConversationDetail:
    return ConversationDetail.model_validate({
        "conversation_id": "hostile-1",
        "playbook_name": "[b]Bot[/b] </details> <img src=x onerror=alert(1)>",
        "summary": "line one\n# not a heading\x1b[2J [^1] &copy;",
        "sentiment_label": "negative",
        "sentiment_reason": "\x1b]52;c;ZXZpbA==\x07angry `code` <script>",
        "first_message_at": "2026-06-15T10:00:00Z",
        "last_message_at": "not a date",
        "tags": ["vip", "</summary>"],
        "messages": [
            {"role": "user", "created_at": "2026-06-15T10:00:00Z", "content": "[b]x[/b] [bold red]markup[/] \x1b[31mRED\x1b[0m\r\n"
                                         "# fake heading\n> quote\n- item\n---\n===\n"
                                         "```\nunclosed fence\n~~~\n[^1]: forged footnote\n"
                                         "[ref]: http://evil.example\n</details>\n"
                                         "<details open><summary>x</summary>\n&amp; ok & fine"},
            {"role": "assistant", "content": "أريد استرداد المبلغ — אני רוצה החזר 😡📦 "
                                              "\u202eevil\u202c 注文番号"},
            {"content": None, "tool_calls": [
                {"name": "run</summary></details>`x`", "arguments": '{"q": "```` and `````"}',
                 "result": "````\nnot json </details> \x1b[2J"},
                {"arguments": "not json", "error": {"code": 500, "detail": "<b>boom</b>"}},
                {}]},
            {"role": "assistant\n## injected", "created_at": "yesterday", "content": "",
             "is_winback": True, "attachments": [{"file_name": "<x>.png"}, "junk"]},
        ],
        "citations": [{"citation_id": "c-1", "content": "cited `text` [^9] </details>\n# h"},
                      {}],
    })


def test_hostile_golden():
    golden_check("transcript_hostile.md", transcript_markdown(hostile_detail()))


def test_hostile_text_cannot_change_the_structure():
    text = transcript_markdown(hostile_detail())
    tokens = parse(text)
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert headings == ["Conversation hostile-1", "Messages", "user · 06-15 10:00",
                        "assistant · –", "? · –", "assistant ## injected · yesterday · ↻ winback"]
    kinds = [t.type for t in _all(tokens)]
    assert kinds.count("bullet_list_open") == 1  # the header's facts, nothing else
    assert not {"blockquote_open", "hr", "code_block", "ordered_list_open"} & set(kinds)
    html = [t.content for t in tokens if t.type == "html_block"]
    assert all(block.startswith(("<details><summary>🔧 ", "</details>")) for block in html)
    # a summary holds no tag of its own: <details>, <summary>, </summary> are ours
    assert all(block.count("<") == 3 for block in html if block.startswith("<details>"))
    assert len(html) == 6 and not any(t.type == "html_inline" for t in _all(tokens))
    fences = [t for t in tokens if t.type == "fence"]
    assert len(fences) == 4  # arguments and result, arguments and error: nothing escaped them
    assert "```` and `````" in fences[0].content and "</details>" in fences[1].content
    assert [t for t in tokens if t.type == "footnote_open"].__len__() == 2  # no forged one
    assert "\x1b" not in text and "\u202e" not in text and "\r" not in text
    assert "أريد استرداد المبلغ — אני רוצה החזר 😡📦 evil 注文番号" in text  # kept as written
    assert "[b]x[/b] [bold red]markup[/] RED" in text  # markup is plain text here


def _all(tokens: list) -> list:
    out = []
    for token in tokens:
        out.append(token)
        out += _all(token.children or [])
    return out


def test_a_50_kb_message_is_kept_whole():
    detail = ConversationDetail.model_validate({
        "conversation_id": "big", "messages": [{"role": "user", "content": HUGE}]})
    text = transcript_markdown(detail)
    assert HUGE in text and len(text) < len(HUGE) + 200


def test_every_field_missing():
    text = transcript_markdown(ConversationDetail.model_validate({}))
    assert text == ("# Conversation (no id)\n\n- **Signals:** not scored\n\n## Messages\n\n"
                    "_(messages not available)_\n")
    empty = transcript_markdown(ConversationDetail.model_validate({"messages": []}))
    assert "_(no messages)_" in empty


def test_times_in_the_zone_asked_for():
    detail = ConversationDetail.model_validate({
        "first_message_at": "2026-06-15T21:30:00Z", "last_message_at": "2026-06-15T22:30:00Z",
        "messages": [{"role": "user", "content": "hi", "created_at": "2026-06-15T22:30:00Z"}]})
    assert "- **Time:** 2026-06-15 21:30 → 22:30 (UTC)" in transcript_markdown(detail)
    madrid = transcript_markdown(detail, tz=ZoneInfo("Europe/Madrid"))
    assert "- **Time:** 2026-06-15 23:30 → 2026-06-16 00:30 (Europe/Madrid)" in madrid
    assert "### user · 06-16 00:30" in madrid


def test_redaction_masks_text_but_not_the_id():
    detail = ConversationDetail.model_validate({
        "conversation_id": "0612345678",
        "summary": "Customer jane@example.com wants a call on +44 20 7946 0958",
        "messages": [{"role": "user", "content": "card 4111 1111 1111 1111, mail jane@example.com",
                      "tool_calls": [{"name": "lookup", "arguments": '{"email": "jane@example.com"}',
                                      "result": '{"phone": "(415) 555-2671"}'}]}],
        "citations": [{"citation_id": "c1", "content": "write to help@example.com"}]})
    plain = transcript_markdown(detail)
    masked = transcript_markdown(detail, redact=True)
    assert "jane@example.com" in plain
    for secret in ("jane@example.com", "7946", "4111", "555-2671", "help@example.com"):
        assert secret not in masked
    assert masked.count("[email]") == 5 and "[card]" in masked and masked.count("[phone]") == 2
    assert "# Conversation 0612345678" in masked


def test_conversations_markdown_and_export_preamble():
    one = ConversationDetail.model_validate({"conversation_id": "a", "messages": []})
    two = ConversationDetail.model_validate({"conversation_id": "b", "messages": []})
    text = conversations_markdown([one, two], redact=True)
    assert text.startswith("# Conversations (2)\n\n_Redacted: emails, phone numbers and "
                           "card-like numbers are masked._\n" + MD_SEPARATOR + "## Conversation a")
    assert text.count(MD_SEPARATOR) == 2
    top = export_preamble(exported_at="2026-06-15T12:00:00Z", total_matched=5, total_exported=3,
                          failed_ids=["x1", "x`2"], missing_ids=["ghost"])
    lines = top.splitlines()
    assert lines[0] == "# Studio Chat conversations (incomplete)"
    assert lines[2] == "> **⚠ Incomplete export.**"
    assert lines[3] == "> 2 conversations left out, their details failed: `x1`, ``x`2``"
    assert lines[4] == "> 1 conversation not found by the API: `ghost`"
    assert "- **Conversations:** 3 exported of 5 matching" in lines
    complete = export_preamble(exported_at="t", total_matched=None, total_exported=0)
    assert "incomplete" not in complete.lower() and "_(no conversations)_" in complete
