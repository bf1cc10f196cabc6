"""StudioClient against httpx.MockTransport: auth, retries, backoff, Retry-After, typed errors."""
from __future__ import annotations

import copy
import json
import logging
import pickle
import traceback
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from api import errors
from api.cache import ResponseCache
from api.client import StudioClient, auth_headers
from api.config import Secret, load_settings
from api.endpoints import configuration, conversations, path, quote_segment, resources
from api.query import ConversationQuery

TOKEN = "sbs_supersecret_token_123"


def settings_for(token: str = TOKEN, **kw):
    env = {"STUDIO_API_TOKEN": token, "STUDIO_PROJECT_ID": "proj-1",
           "STUDIO_API_URL": "https://api.example.test"}
    return load_settings(env=env, **kw)


class Recorder:
    """A MockTransport handler answering from a script of responses (or exceptions)."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            return answer(request)
        return answer


class FakeSleep:
    def __init__(self):
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def make_client(*answers, token=TOKEN, cache=None, offline=False, **kw):
    rec = Recorder(*answers)
    sleep = FakeSleep()
    client = StudioClient(
        settings_for(token, offline=offline), transport=httpx.MockTransport(rec), cache=cache,
        sleep=sleep, rand=lambda: 1.0, **kw,
    )
    return client, rec, sleep


def ok(data, status=200, **headers):
    return httpx.Response(status, json=data, headers=headers)


# -- auth -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token, header, value",
    [
        ("sbs_abc", "X-API-Key", "sbs_abc"),
        ("kps_abc", "X-API-Key", "kps_abc"),
        ("eyJhbGciOi.jwt", "Authorization", "Bearer eyJhbGciOi.jwt"),
    ],
)
async def test_auth_header_follows_contract(token, header, value):
    client, rec, _ = make_client(ok({"x": 1}), token=token)
    async with client:
        assert await client.get("/projects") == {"x": 1}
    sent = rec.requests[0].headers
    assert sent[header] == value
    other = "Authorization" if header == "X-API-Key" else "X-API-Key"
    assert other not in sent
    assert auth_headers(Secret(token)) == {header: value}


async def test_params_and_body_are_sent():
    client, rec, _ = make_client(ok({"conversations": []}))
    async with client:
        await client.get("/p", {"has_handoff": True, "tags": ["a", "b"], "none": None, "n": 3})
        await client.post("/p/batch", {"conversation_ids": ["x"]})
    q = rec.requests[0].url.params
    assert q["has_handoff"] == "true" and q["tags"] == "a,b" and q["n"] == "3"
    assert "none" not in q
    assert json.loads(rec.requests[1].content) == {"conversation_ids": ["x"]}
    assert rec.requests[1].method == "POST"


# -- retries ----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 502, 503, 504])
async def test_retries_on_retryable_status_then_succeeds(status):
    client, rec, sleep = make_client(ok({"detail": "busy"}, status), ok({"detail": "busy"}, status),
                                     ok({"fine": True}))
    async with client:
        assert await client.get("/x") == {"fine": True}
    assert len(rec.requests) == 3
    assert len(sleep.delays) == 2


async def test_backoff_is_exponential_with_full_jitter_and_capped():
    client, rec, sleep = make_client(ok({}, 502), max_tries=6, backoff_base=0.5, backoff_cap=3.0)
    async with client:
        with pytest.raises(errors.ServerError):
            await client.get("/x")
    assert len(rec.requests) == 6
    # rand() pinned to 1.0: the upper bound of each jitter window
    assert sleep.delays == [0.5, 1.0, 2.0, 3.0, 3.0]


async def test_jitter_draws_within_window():
    draws = iter([0.0, 0.25, 0.5])
    client = StudioClient(settings_for(), transport=httpx.MockTransport(Recorder(ok({}, 503))),
                          sleep=FakeSleep(), rand=lambda: next(draws), max_tries=4,
                          backoff_base=1.0)
    assert [client._backoff(a) for a in range(3)] == [0.0, 0.5, 2.0]
    await client.aclose()


async def test_retry_after_seconds_is_honoured_and_capped():
    client, rec, sleep = make_client(
        ok({"detail": "slow down"}, 429, **{"Retry-After": "7"}),
        ok({"detail": "slow down"}, 429, **{"Retry-After": "9999"}),
        ok([1]), retry_after_cap=30.0,
    )
    async with client:
        assert await client.get("/x") == [1]
    assert sleep.delays == [7.0, 30.0]


async def test_retry_after_http_date():
    when = datetime.now(UTC) + timedelta(seconds=20)
    client, _, sleep = make_client(
        ok({}, 503, **{"Retry-After": format_datetime(when, usegmt=True)}), ok({"a": 1}))
    async with client:
        await client.get("/x")
    assert 15 <= sleep.delays[0] <= 21


async def test_rate_limit_exhausted_gives_typed_error_with_retry_after():
    client, rec, _ = make_client(ok({"detail": "too many"}, 429, **{"Retry-After": "3"}),
                                 max_tries=2)
    async with client:
        with pytest.raises(errors.RateLimitedError) as info:
            await client.get("/projects/p/conversations")
    assert info.value.retry_after == 3.0
    assert info.value.status == 429
    assert "HTTP 429" in str(info.value) and "too many" in str(info.value)
    assert len(rec.requests) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
async def test_no_retry_on_other_statuses(status):
    client, rec, sleep = make_client(ok({"detail": "nope"}, status))
    async with client:
        with pytest.raises(errors.StudioError) as info:
            await client.get("/x")
    assert len(rec.requests) == 1 and sleep.delays == []
    assert info.value.status == status


async def test_connect_errors_and_timeouts_are_retried():
    client, rec, sleep = make_client(
        httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), ok({"ok": 1}))
    async with client:
        assert await client.get("/x") == {"ok": 1}
    assert len(rec.requests) == 3 and len(sleep.delays) == 2


@pytest.mark.parametrize(
    "exc, kind, words",
    [
        (httpx.ReadTimeout("slow"), "timeout", "timed out waiting for an answer to GET"),
        (httpx.ConnectTimeout("slow"), "connect-timeout", "timed out connecting to GET"),
        (httpx.ConnectError("[Errno 111] Connection refused"), "connect",
         "cannot connect to GET https://api.example.test/projects/p/conversations: [Errno 111]"),
        (httpx.RemoteProtocolError("peer closed"), "network", "connection lost during GET"),
    ],
)
async def test_unreachable_exhausted_says_which(exc, kind, words):
    client, rec, _ = make_client(exc, max_tries=3)
    async with client:
        with pytest.raises(errors.UnreachableError) as info:
            await client.get("/projects/p/conversations")
    assert info.value.kind == kind and len(rec.requests) == 3
    assert words in str(info.value) and "/projects/p/conversations" in str(info.value)


async def test_non_idempotent_post_not_repeated_after_read_timeout():
    client, rec, _ = make_client(httpx.ReadTimeout("slow"), ok({"job_id": "j"}))
    async with client:
        with pytest.raises(errors.UnreachableError):
            await client.post("/generate", {}, idempotent=False)
    assert len(rec.requests) == 1


async def test_non_idempotent_post_retried_on_503_and_connect_error():
    client, rec, _ = make_client(ok({}, 503), httpx.ConnectError("x"), ok({"job_id": "j"}))
    async with client:
        assert await client.post("/generate", {}, idempotent=False) == {"job_id": "j"}
    assert len(rec.requests) == 3


async def test_concurrency_limit_is_respected():
    import asyncio

    active = 0
    peak = 0

    async def handler(request):
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        active -= 1
        return httpx.Response(200, json={})

    client = StudioClient(settings_for(), transport=httpx.MockTransport(handler), concurrency=3)
    async with client:
        await asyncio.gather(*(client.get(f"/x/{i}") for i in range(20)))
    assert peak == 3


# -- errors -----------------------------------------------------------------------------------


async def test_malformed_json_is_bad_response():
    client, _, _ = make_client(httpx.Response(200, content=b"{not json", headers={
        "content-type": "application/json"}))
    async with client:
        with pytest.raises(errors.BadResponseError) as info:
            await client.get("/projects/p/schedule")
    assert "malformed JSON" in str(info.value) and "/projects/p/schedule" in str(info.value)


async def test_validation_detail_list_rendered_as_field_messages():
    detail = [{"loc": ["query", "start_date"], "msg": "invalid datetime", "type": "x"},
              {"loc": ["query", "limit"], "msg": "must be <= 100", "type": "y"}]
    client, _, _ = make_client(ok({"detail": detail}, 422))
    async with client:
        with pytest.raises(errors.ValidationError) as info:
            await client.get("/x")
    msg = str(info.value)
    assert msg.startswith("HTTP 422: start_date: invalid datetime; limit: must be <= 100")
    assert info.value.fields == [("start_date", "invalid datetime"), ("limit", "must be <= 100")]


@pytest.mark.parametrize(
    "status, cls, words",
    [
        (400, errors.ValidationError, "end_date before start_date"),
        (401, errors.AuthError, "not authenticated"),
        (403, errors.AuthError, "forbidden"),
        (404, errors.NotFoundError, "end_date before start_date"),
        (409, errors.ConflictError, "end_date before start_date"),
        (500, errors.ServerError, "HTTP 500"),
        (503, errors.ServerError, "HTTP 503"),
    ],
)
async def test_each_status_maps_to_its_error(status, cls, words):
    client, _, _ = make_client(ok({"detail": "end_date before start_date"}, status), max_tries=1)
    async with client:
        with pytest.raises(cls) as info:
            await client.get("/projects/p/conversations")
    msg = str(info.value)
    assert words in msg and "\n" not in msg
    assert "(GET /projects/p/conversations)" in msg


async def test_error_body_text_is_sanitized_and_one_line():
    body = "Bad \x1b[31mthing\x1b[0m\nsecond line \x1b]0;pwned\x07" + "x" * 1000
    client, _, _ = make_client(httpx.Response(404, text=body), max_tries=1)
    async with client:
        with pytest.raises(errors.NotFoundError) as info:
            await client.get("/x")
    msg = str(info.value)
    assert "\x1b" not in msg and "\n" not in msg and "pwned" not in msg
    assert msg.startswith("HTTP 404: Bad thing second line")
    assert len(msg) <= 500


# -- the token never leaks -----------------------------------------------------------------------


async def test_token_never_in_errors_logs_reprs_or_tracebacks(caplog):
    echo = ok({"detail": f"bad key {TOKEN}"}, 401)
    client, _, _ = make_client(httpx.ConnectError(f"proxy said {TOKEN}"), echo)
    caplog.set_level(logging.DEBUG)
    texts = [repr(client), repr(client.settings), str(client.settings), repr(client.settings.token),
             f"{client.settings.token}", client.settings.describe()]
    async with client:
        with pytest.raises(errors.AuthError) as info:
            await client.get("/x")
    exc = info.value
    tb = "".join(traceback.TracebackException.from_exception(exc, capture_locals=True).format())
    texts += [str(exc), repr(exc), tb, caplog.text]
    for text in texts:
        assert TOKEN not in text
    assert "****" in str(exc)


def test_secret_hides_itself():
    s = Secret(TOKEN)
    assert TOKEN not in f"{s} {s!r} {s!s} {s:>40}"
    assert s.reveal() == TOKEN
    assert s == Secret(TOKEN) and s != Secret("other")
    with pytest.raises(TypeError):
        pickle.dumps(s)
    settings = settings_for()
    assert copy.deepcopy(settings) == settings  # deep-copying Settings still works


# -- endpoints (api.endpoints) through the client ------------------------------------------------


async def test_batch_is_one_call_of_at_most_50_ids():
    def handler(request):
        ids = json.loads(request.content)["conversation_ids"]
        assert request.method == "POST" and len(ids) <= 50
        return httpx.Response(200, json={"conversations": [{"conversation_id": i} for i in ids]
                                         + ["junk"]})

    client = StudioClient(settings_for(), transport=httpx.MockTransport(handler))
    ids = [f"c{i}" for i in range(50)]
    async with client:
        details = await conversations.batch(client, "proj-1", ids)
        assert await conversations.batch(client, "proj-1", []) == []
        with pytest.raises(ValueError, match="at most 50"):
            await conversations.batch(client, "proj-1", ids + ["c50"])
    assert [d.conversation_id for d in details] == ids


async def test_path_ids_are_quoted():
    client, rec, _ = make_client(ok({"conversation_id": "a/b"}))
    async with client:
        detail = await client.load(conversations.detail("proj-1", "a/b?c"))
    assert detail.conversation_id == "a/b"
    assert rec.requests[0].url.raw_path == b"/projects/proj-1/conversations/a%2Fb%3Fc"


async def test_conversation_page_sends_the_query_and_the_window():
    query = ConversationQuery.build(sentiment="negative", has_handoff=True)
    client, rec, _ = make_client(ok({"conversations": [{"conversation_id": "1"}], "total": 1}))
    async with client:
        page = await client.load(conversations.page("proj-1", query, limit=20, offset=40))
    q = rec.requests[0].url.params
    assert (q["sentiment"], q["has_handoff"], q["limit"], q["offset"]) == (
        "negative", "true", "20", "40")
    assert page.total == 1 and page.conversations[0].conversation_id == "1"


async def test_wrong_shape_is_bad_response():
    client, _, _ = make_client(ok(["not", "an", "object"]))
    async with client:
        with pytest.raises(errors.BadResponseError):
            await client.load(configuration.schedule("proj-1"))


async def test_sparklines_and_playbook_settings_null():
    client, rec, _ = make_client(
        ok({"t1": {"total": 3, "series": [{"date": "2026-06-01", "count": 3}]}, "junk": 5}),
        ok(None))
    async with client:
        sp = await client.load(resources.sparklines("proj-1", "kbs", 30))
        settings = await client.load(configuration.playbook_settings("pb"))
    assert [p.count for p in sp["t1"].series] == [3] and "junk" not in sp
    assert settings.is_disabled is None and settings.winback is None  # null: no settings
    assert rec.requests[0].url.path.endswith("/analytics/kbs/sparklines")
    assert rec.requests[0].url.params["days"] == "30"


async def test_client_uses_cache_for_gets_only(tmp_path):
    cache = ResponseCache(tmp_path / "c")
    client, rec, _ = make_client(ok({"n": 1}), cache=cache)
    async with client:
        assert await client.get("/projects/proj-1/schedule") == {"n": 1}
        assert await client.get("/projects/proj-1/schedule") == {"n": 1}
        await client.post("/projects/proj-1/conversations/batch", {"conversation_ids": []})
        await client.post("/projects/proj-1/conversations/batch", {"conversation_ids": []})
    assert [r.method for r in rec.requests] == ["GET", "POST", "POST"]


async def test_html_error_page_is_reduced_to_its_title():
    page = ("<!DOCTYPE html><html><head><title>502 Bad Gateway</title><style>body{}</style>"
            "</head><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>")
    client, _, _ = make_client(httpx.Response(502, text=page,
                                              headers={"content-type": "text/html"}),
                               max_tries=1)
    async with client:
        with pytest.raises(errors.ServerError) as info:
            await client.get("/x")
    assert str(info.value) == "HTTP 502: 502 Bad Gateway (GET /x)"


async def test_redirect_is_not_followed_and_explained():
    client, rec, _ = make_client(httpx.Response(301, headers={"location": "https://new.test/x"}))
    async with client:
        with pytest.raises(errors.StudioError) as info:
            await client.get("/x")
    assert len(rec.requests) == 1
    assert "redirected to https://new.test/x: check the API URL" in str(info.value)


# -- real sockets on loopback: httpx's own errors map to the right kinds ----------------------


def _real_client(port: int, **kw) -> StudioClient:
    env = {"STUDIO_API_TOKEN": TOKEN, "STUDIO_PROJECT_ID": "p",
           "STUDIO_API_URL": f"http://127.0.0.1:{port}", "STUDIO_TUI_CONFIG_DIR": "/nonexistent"}
    return StudioClient(load_settings(env=env), sleep=FakeSleep(), **kw)


async def test_closed_port_is_connect_error():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again when the block ends: nobody listens
    async with _real_client(port, max_tries=2) as client:
        with pytest.raises(errors.UnreachableError) as info:
            await client.get("/projects")
    assert info.value.kind == "connect"
    assert f"cannot connect to GET http://127.0.0.1:{port}/projects" in str(info.value)


async def test_silent_server_is_read_timeout(caplog):
    import asyncio

    caplog.set_level(logging.DEBUG)  # httpx/httpcore debug logs must not carry the token either

    stop = asyncio.Event()

    async def accept_and_say_nothing(reader, writer):
        await stop.wait()
        writer.close()

    server = await asyncio.start_server(accept_and_say_nothing, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with _real_client(port, max_tries=2, read_timeout=0.2,
                                total_timeout=10) as client:
            with pytest.raises(errors.UnreachableError) as info:
                await client.get("/projects")
    finally:
        stop.set()
        server.close()
        await server.wait_closed()
    assert info.value.kind == "timeout" and "timed out waiting" in str(info.value)
    assert "send_request_headers" in caplog.text and TOKEN not in caplog.text


def test_plain_http_api_skips_loading_the_ca_store_but_fails_closed(monkeypatch):
    import ssl

    from api.client import _tls_verify

    for name in ("https_proxy", "http_proxy", "all_proxy", "HTTPS_PROXY", "HTTP_PROXY",
                 "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    assert _tls_verify("https://api.example.com") is True
    bare = _tls_verify("http://127.0.0.1:8000")
    assert isinstance(bare, ssl.SSLContext)
    assert bare.verify_mode == ssl.CERT_REQUIRED and bare.check_hostname
    assert bare.get_ca_certs() == []  # nothing would verify: TLS fails rather than trusts
    monkeypatch.setenv("HTTPS_PROXY", "https://proxy.example.com:3128")
    assert _tls_verify("http://127.0.0.1:8000") is True


# -- review fixes: token cut by truncation, reprs, path segments ---------------------------------


@pytest.mark.parametrize("shown", [8, 12, 20, len(TOKEN) - 1])
async def test_token_cut_by_the_detail_limit_is_redacted(shown):
    # the detail is cut at 240 characters, ``shown`` of them the start of the echoed token
    detail = "x" * (errors.MAX_DETAIL_CHARS - 1 - shown) + TOKEN + " and more text after it"
    client, _, _ = make_client(ok({"detail": detail}, 404), max_tries=1)
    async with client:
        with pytest.raises(errors.NotFoundError) as info:
            await client.get("/x")
    msg = str(info.value)
    assert TOKEN[:8] not in msg and "****" in msg
    assert TOKEN[:8] not in repr(info.value)


async def test_cut_off_token_echoed_by_the_server_or_in_validation_fields_is_redacted():
    body = {"detail": [{"loc": ["query", "key"], "msg": f"bad key {TOKEN[:10]}..."}]}
    client, _, _ = make_client(ok(body, 422), max_tries=1)
    async with client:
        with pytest.raises(errors.ValidationError) as info:
            await client.get("/x")
    assert TOKEN[:8] not in str(info.value) and "bad key ****..." in str(info.value)
    assert info.value.fields == [("key", "bad key ****...")]


def test_redact_keeps_short_fragments_and_other_text():
    assert errors.redact(f"a {TOKEN} b {TOKEN[:9]}", TOKEN) == "a **** b ****"
    assert errors.redact(f"{TOKEN}XYZ", TOKEN) == "****XYZ"
    assert errors.redact(f"only {TOKEN[:7]}", TOKEN) == f"only {TOKEN[:7]}"  # too short to tell
    assert errors.redact("nothing here", None) == "nothing here"


async def test_no_long_lived_object_shows_the_token_in_its_repr():
    client, rec, _ = make_client(ok({}))
    async with client:
        await client.get("/x")
        http = client._http
        texts = [repr(client), repr(http), repr(http.headers), repr(http.auth),
                 repr(vars(http)), repr(vars(client))]
    assert all(TOKEN not in text for text in texts)
    assert rec.requests[0].headers["X-API-Key"] == TOKEN  # still sent on each request


@pytest.mark.parametrize("cid, encoded", [
    ("a/b", "a%2Fb"), ("a?b#c", "a%3Fb%23c"), ("a b", "a%20b"), ("x\x00\n\x1b", "x%00%0A%1B"),
    ("é", "%C3%A9"), ("...", "..."), (42, "42"),
])
async def test_quote_segment_encodes_every_id_character(cid, encoded):
    assert quote_segment(cid) == encoded
    client, rec, _ = make_client(ok({"conversation_id": "c"}))
    async with client:
        await client.load(conversations.detail("proj-1", cid))
    sent = f"/projects/proj-1/conversations/{encoded}"
    assert rec.requests[0].url.raw_path == sent.encode()
    assert path("/conversations/{}", cid) == sent[len("/projects/proj-1"):]


@pytest.mark.parametrize("cid", [None, "", "   ", ".", ".."])
async def test_missing_or_empty_ids_are_rejected_before_sending(cid):
    client, rec, _ = make_client(ok({}))
    async with client:
        with pytest.raises(ValueError, match="id"):
            await client.load(conversations.detail("proj-1", cid))
        with pytest.raises(errors.StudioError, match="id"):  # caught like any API error
            await client.load(resources.kb_item("kb-1", cid))
    assert rec.requests == []


def test_path_template_needs_one_id_per_placeholder():
    assert path("/playbooks/{}/versions/{}", "p 1", 3) == "/playbooks/p%201/versions/3"
    with pytest.raises(ValueError, match="placeholder"):
        path("/playbooks/{}/history")


@pytest.mark.parametrize("swr", [False, True])
async def test_a_cached_answer_that_does_not_parse_is_asked_again(tmp_path, swr):
    """A malformed 200 is stored before it is read; read again from the cache (fresh or
    stale, or on ctrl+r) it must not fail for the TTL: the API is asked and its answer kept."""
    good = {"conversations": [{"conversation_id": "c1"}], "total": 1}
    cache = ResponseCache(tmp_path / "c")
    client, rec, _ = make_client(ok([]), ok(good), ok({"total": 0}), cache=cache, max_tries=1)
    endpoint = conversations.rows("proj-1", ConversationQuery(), limit=5)

    async def load():
        if not swr:
            return await client.load(endpoint)
        return [r.data async for r in client.load_swr(endpoint)][-1]

    async with client:
        with pytest.raises(errors.BadResponseError):
            await load()  # the API's own malformed answer: an error, as before
        page = await load()  # the cached one does not parse: asked again
        assert [r.conversation_id for r in page.rows] == ["c1"]
        page = await load()  # the good answer is the one kept
        assert [r.conversation_id for r in page.rows] == ["c1"]
    assert len(rec.requests) == 2
