"""`studio-tui export --format md` and `--redact` against the in-process demo backend."""
from __future__ import annotations

import json
import re
import stat

from markdown_it import MarkdownIt
from mdit_py_plugins.footnote import footnote_plugin
from test_cli import END, flaky, run  # noqa: F401 (fixtures)

from api.redact import redact

START = "2026-06-13"
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")


def _export(run, out, *extra):  # noqa: F811 (the fixture, passed in)
    result = run("export", "--start", START, "--end", END, "--concurrency", "2", "-o", out,
                 *extra)
    return result


def _conversations(path):
    return json.loads(path.read_text(encoding="utf-8"))["conversations"]


def _without_stamp(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.startswith("- **Exported"))


def test_md_has_every_conversation_with_its_messages(run, tmp_path):  # noqa: F811
    reference = tmp_path / "ref.json"
    assert _export(run, reference, "--messages").exit_code == 0
    conversations = _conversations(reference)
    out = tmp_path / "out.md"
    result = _export(run, out, "--format", "md")  # no --messages: md implies it
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.md", "ref.json"]  # no leftovers
    text = out.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0] == "# Studio Chat conversations"
    n = len(conversations)
    assert f"- **Conversations:** {n} exported of {n} matching" in lines
    tokens = MarkdownIt("commonmark").use(footnote_plugin).parse(text)
    assert sum(t.type == "hr" for t in tokens) == n
    titles = [tokens[i + 1].content for i, t in enumerate(tokens)
              if t.type == "heading_open" and t.tag == "h2"]
    assert titles == [f"Conversation {c['conversation_id']}" for c in conversations]
    messages = sum(t.type == "heading_open" and t.tag == "h4" for t in tokens)
    assert messages == sum(len(c["messages"]) for c in conversations) > n
    footnotes = sum(t.type == "footnote_open" for t in tokens)
    assert footnotes == sum(len(c["citations"]) for c in conversations) > 0


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def test_redact_json_masks_every_text_and_says_so(run, tmp_path):  # noqa: F811
    plain, masked = tmp_path / "plain.json", tmp_path / "masked.json"
    assert _export(run, plain, "--messages").exit_code == 0
    result = _export(run, masked, "--messages", "--redact")
    assert result.exit_code == 0, result.stderr
    original = json.loads(plain.read_text(encoding="utf-8"))
    redacted = json.loads(masked.read_text(encoding="utf-8"))
    assert "redacted" not in original  # without --redact: the brief's bytes, unchanged
    assert list(redacted) == ["exported_at", "total_matched", "total_exported", "redacted",
                              "conversations"]
    assert redacted["redacted"] is True
    assert EMAIL.search(plain.read_text(encoding="utf-8"))  # the demo has emails to mask
    assert not EMAIL.search(masked.read_text(encoding="utf-8"))
    assert list(_strings(redacted["conversations"])) == [
        redact(s) for s in _strings(original["conversations"])]
    assert redacted["conversations"][0]["message_count"] == \
        original["conversations"][0]["message_count"]


def test_redact_csv_jsonl_and_md(run, tmp_path):  # noqa: F811
    for fmt, extra in (("csv", ("--columns", "full")), ("jsonl", ("--messages",)), ("md", ())):
        plain, masked = tmp_path / f"plain.{fmt}", tmp_path / f"masked.{fmt}"
        assert _export(run, plain, "--format", fmt, *extra).exit_code == 0
        assert _export(run, masked, "--format", fmt, "--redact", *extra).exit_code == 0
        assert EMAIL.search(plain.read_text(encoding="utf-8")), fmt
        assert not EMAIL.search(masked.read_text(encoding="utf-8")), fmt
    md = (tmp_path / "masked.md").read_text(encoding="utf-8")
    assert "- **Redacted:** emails, phone numbers and card-like numbers are masked" in md
    assert "[email]" in md


def test_partial_md_says_at_its_top_what_is_missing(run, tmp_path, flaky):  # noqa: F811
    reference = tmp_path / "ref.jsonl"
    assert _export(run, reference, "--format", "jsonl").exit_code == 0
    ids = [json.loads(line)["conversation_id"]
           for line in reference.read_text(encoding="utf-8").splitlines()]
    flaky.first_id, flaky.budget = ids[0], 99
    out = tmp_path / "out.md"
    result = _export(run, out, "--format", "md", "--allow-partial")
    assert result.exit_code == 0, result.stderr
    lines = out.read_text(encoding="utf-8").splitlines()
    failed = ids[:50]  # the whole first batch
    assert lines[0] == "# Studio Chat conversations (incomplete)"
    assert lines[2] == "> **⚠ Incomplete export.**"
    assert lines[3] == (f"> {len(failed)} conversations left out, their details failed: "
                        + ", ".join(f"`{cid}`" for cid in failed))
    assert (f"- **Conversations:** {len(ids) - len(failed)} exported of {len(ids)} matching"
            in lines)


def test_md_resumes_after_a_failure(run, tmp_path, flaky):  # noqa: F811
    reference = tmp_path / "ref.md"
    assert _export(run, reference, "--format", "md").exit_code == 0
    ids = re.findall(r"^## Conversation (\S+)$", reference.read_text(encoding="utf-8"), re.M)
    assert len(ids) > 60
    flaky.first_id, flaky.budget = ids[50], 3  # the second batch fails after its retries
    out = tmp_path / "out.md"
    result = _export(run, out, "--format", "md", "--concurrency", "1")
    assert result.exit_code == 1 and not out.exists()
    assert (tmp_path / "out.md.partial").exists() and "--resume" in result.stderr
    result = _export(run, out, "--format", "md", "--concurrency", "1", "--resume")
    assert result.exit_code == 0, result.stderr
    assert "resumed after 50" in result.stderr
    assert _without_stamp(out.read_text(encoding="utf-8")) == \
        _without_stamp(reference.read_text(encoding="utf-8"))


def test_resume_keeps_the_redaction_choice(run, tmp_path, flaky):  # noqa: F811
    reference = tmp_path / "ref.jsonl"
    assert _export(run, reference, "--format", "jsonl").exit_code == 0
    ids = [json.loads(line)["conversation_id"]
           for line in reference.read_text(encoding="utf-8").splitlines()]
    flaky.first_id, flaky.budget = ids[50], 3
    out = tmp_path / "out.jsonl"
    args = ("--format", "jsonl", "--messages", "--concurrency", "1")
    assert _export(run, out, *args, "--redact").exit_code == 1
    result = _export(run, out, *args, "--resume")
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert result.exit_code == 1 and len(errors) == 1
    assert "other options (redact: True then, None now)" in errors[0]
    result = _export(run, out, *args, "--redact", "--resume")
    assert result.exit_code == 0, result.stderr
    assert not EMAIL.search(out.read_text(encoding="utf-8"))
