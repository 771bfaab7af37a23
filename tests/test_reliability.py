"""Issue 8: a misbehaving network ends in a typed result or a typed error, in time, and nothing leaks.

`test_scenario` runs every fault of tests/reliability_report.py with the sync and the async client (streams
included) against the fault server of tests/faults.py and checks everything the issue asks for: the exact error
class and message, the attempts the server counted, the waits (injected clock), the wall time, retries stopping at
`max_retries` and at `total_timeout`, no connection lost, the token nowhere, and the client still usable afterwards.
The other tests cover what is not a network fault: `close()`, the token in logs and warnings, where an ambient token
may go, non-finite numbers, and which files are read.
"""

from __future__ import annotations

import asyncio
import base64
import io
import logging
import math
import os
import re
import socket
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import typed_inference as ti
from tests.faults import EventStream, FaultServer, Redirect, ResetBeforeResponse, Respond, Silence, Truncated
from tests.faults import client_sockets as open_sockets
from tests.reliability_report import (
    BY_ID,
    MODES,
    OK,
    PROXY_VARIABLES,
    SCENARIOS,
    STREAM,
    STREAM_CUT,
    Scenario,
    exception_texts,
    measure,
    report,
    result_problems,
    time_loading,
)
from typed_inference import AsyncInferenceClient, InferenceClient
from typed_inference._auth import ambient_token_allowed
from typed_inference.transport import Request, Response, RetryPolicy

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "hf_securitySECRET9876543210fedcba"
PNG = b"\x89PNG\r\n\x1a\n" + b"given image bytes"


def _case(scenario: Scenario, mode: str) -> Any:
    bug = scenario.bugs.get(mode)
    marks = [pytest.mark.xfail(strict=True, reason=f"BUG: {bug}")] if bug else []
    return pytest.param(scenario, mode, id=f"{scenario.id}-{mode}", marks=marks)


@pytest.mark.parametrize(("scenario", "mode"), [_case(s, m) for s in SCENARIOS for m in MODES])
def test_scenario(scenario: Scenario, mode: str) -> None:
    outcome = measure(scenario, mode)
    assert outcome.error_type is scenario.error, outcome.message
    if scenario.error is not None:
        pattern = scenario.pattern(mode).replace("{url}", re.escape(outcome.url))
        assert re.fullmatch(pattern, outcome.message, re.DOTALL), outcome.message
        assert outcome.error_attrs == dict(scenario.attrs)
    else:
        assert result_problems(scenario, outcome.result) == []
    assert outcome.attempts == scenario.attempts  # counted by the server (by the message for a refused port)
    assert outcome.sleeps == list(scenario.sleeps)  # the waits asked for, none of them slept
    assert scenario.min_wall <= outcome.wall <= scenario.max_wall
    assert (outcome.connections_left, outcome.server_open) == (0, 0)
    assert outcome.token_leaks == []
    assert outcome.log_records > 0  # the leak check above looked at real log records
    if scenario.auth is not None:
        assert tuple(outcome.auth) == scenario.auth
    if scenario.wait_header is not None:
        assert tuple(outcome.wait_header) == scenario.wait_header
    if scenario.methods is not None:
        assert tuple(outcome.methods) == scenario.methods
    assert outcome.same_body or not scenario.same_body
    if scenario.cut_short is not None:
        assert outcome.cut_short is scenario.cut_short  # counted by the server: it stopped before its last piece
    assert outcome.follow_up is (None if scenario.refused else True)  # the client still works after the fault
    assert outcome.problems() == []  # and the report's verdict agrees


def test_every_fault_of_the_issue_has_a_scenario() -> None:
    issue = {
        "connection refused": ["refused", "refused-total-timeout"],
        "reset before the response": ["reset-before-response", "reset-before-response-then-ok"],
        "reset during the response": ["reset-during-headers", "reset-during-body", "stream-cut-mid-event-reset"],
        "headers then silence (read timeout)": ["headers-then-silence", "silence-before-headers", "stream-stall"],
        "slow trickle of the body": ["slow-trickle", "slow-trickle-past-total-timeout", "stream-trickle"],
        "truncated JSON": ["truncated-json", "body-shorter-than-content-length", "chunked-body-cut"],
        "a body of the wrong shape": ["wrong-shape", "stream-event-wrong-shape"],
        "valid JSON of the wrong type": ["wrong-type"],
        "Content-Type lies (HTML error page from a proxy with 502)": ["html-502-labelled-json", "html-200"],
        "503 with estimated_time N times then 200": [
            "loading-then-ok",
            "loading-header-ignored-then-ok",
            "loading-exhausted",
        ],
        "429 with Retry-After (seconds and HTTP date) then 200": ["429-retry-after-seconds", "429-retry-after-date"],
        "500 (not retried)": ["500-not-retried", "stream-500-not-retried"],
        "a 20 MB response": ["large-20mb"],
        "a redirect to another host": ["redirect-other-host", "redirect-user-authorization-header"],
        "SSE streams cut mid-event": ["stream-cut-mid-event-reset", "stream-cut-mid-event-close"],
        "retries stop at max_retries": ["loading-exhausted", "max-retries-0", "reset-before-response"],
        "retries stop at the overall timeout": ["loading-past-total-timeout", "reset-before-response-total-timeout"],
    }
    missing = {fault: [i for i in ids if i not in BY_ID] for fault, ids in issue.items()}
    assert {fault: ids for fault, ids in missing.items() if ids} == {}
    assert len(BY_ID) == len(SCENARIOS)  # scenario ids are unique


def test_the_docs_table_is_complete() -> None:
    doc = (ROOT / "docs" / "reliability.md").read_text()
    assert [s.id for s in SCENARIOS if f"`{s.id}`" not in doc] == []
    tests = set(re.findall(r"tests/test_\w+\.py::\w+", doc))
    for ref in tests:
        path, name = ref.split("::")
        assert re.search(rf"^(async )?def {name}\(", (ROOT / path).read_text(), re.MULTILINE), ref
    named = {ref for s in SCENARIOS for ref in s.also}
    assert named <= tests  # every existing test a scenario cites appears in the table


def test_report_tabulates_measured_runs() -> None:
    outcomes = [measure(BY_ID["500-not-retried"], mode) for mode in MODES]
    lines = report(outcomes)
    assert "| scenarios covered | 1 scenarios, 2 runs (1 sync, 1 async; 0 of them streaming) |" in lines[4]
    assert any(line.startswith("| connections lost") and "| 0 | 0 |" in line for line in lines)
    rows = [line for line in lines if line.startswith("| 500-not-retried |")]
    assert [row.split(" | ")[1:4] for row in rows] == [
        ["sync", "InternalServerError", "1"],
        ["async", "InternalServerError", "1"],
    ]
    assert all(row.endswith("| yes |") for row in rows)


def test_fault_server_has_a_bounded_lifetime() -> None:
    server = FaultServer(lifetime=0.3).start()
    server.play(Silence())
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=3) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(10) == b""  # the silent connection ends with the server, not with the test
    assert time.monotonic() - started < 2
    time.sleep(0.1)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=1).close()
    server.stop()
    assert server.attempts == 1


# -- close() -----------------------------------------------------------------------------------------------------


def _sync_close(url: str) -> object:
    client = InferenceClient("m", base_url=url, token=TOKEN)
    assert [e.token.text for e in client.text_generation("x", stream=True)] == ["Hello", ",", " world"]
    client.fill_mask("a [MASK].")  # its connection goes back to the pool, idle
    client.close()
    return client


def _async_close(url: str) -> object:
    async def go() -> object:
        client = AsyncInferenceClient("m", base_url=url, token=TOKEN)
        assert [e.token.text async for e in await client.text_generation("x", stream=True)] == ["Hello", ",", " world"]
        await client.fill_mask("a [MASK].")
        await client.close()
        return client

    return asyncio.run(go())


@pytest.mark.parametrize(
    "mode",
    [
        "sync",
        "async",
    ],
)
def test_close_releases_pooled_connections(mode: str) -> None:
    with FaultServer() as server:
        server.play(EventStream(STREAM), Respond(200, OK))
        client = (_sync_close if mode == "sync" else _async_close)(server.url)
        assert server.attempts == 2
        # the closed client is still referenced: only close() can have released its connections
        assert open_sockets(server.port) == 0
        assert server.wait_closed(1.0) == 0
        del client


# -- the token ---------------------------------------------------------------------------------------------------

FAULTS_WITH_A_TOKEN = [
    Respond(401, {"error": "Invalid username or password."}),
    Respond(503, {"error": "Model m is currently loading", "estimated_time": 1.0}),
    Respond(200, OK),
    ResetBeforeResponse(),
    Respond(429, {"error": "rate limited"}, {"Retry-After": "1"}),
    Respond(200, OK),
    Truncated(b'[{"sequence"', 400),
    Respond(200, b"<html>not json</html>", content_type="text/html"),
    Silence(),
    EventStream(b'data:{"error":"out of memory","error_type":"generation"}\n\n'),
    EventStream(STREAM_CUT, end="reset"),
]


def _sync_session(url: str) -> tuple[str, list[BaseException]]:
    errors: list[BaseException] = []
    with InferenceClient("m", base_url=url, token=TOKEN, timeout=0.3, retry_policy=_no_wait()) as client:
        for _ in range(6):
            try:
                client.fill_mask("a [MASK].")
            except ti.InferenceError as exc:
                errors.append(exc)
        for _ in range(2):
            try:
                list(client.text_generation("x", stream=True))
            except ti.InferenceError as exc:
                errors.append(exc)
        return repr(client), errors


def _async_session(url: str) -> tuple[str, list[BaseException]]:
    async def go() -> tuple[str, list[BaseException]]:
        errors: list[BaseException] = []
        async with AsyncInferenceClient("m", base_url=url, token=TOKEN, timeout=0.3, retry_policy=_no_wait()) as c:
            for _ in range(6):
                try:
                    await c.fill_mask("a [MASK].")
                except ti.InferenceError as exc:
                    errors.append(exc)
            for _ in range(2):
                try:
                    [e async for e in await c.text_generation("x", stream=True)]
                except ti.InferenceError as exc:
                    errors.append(exc)
            return repr(c), errors

    result: tuple[str, list[BaseException]] = asyncio.run(go())
    return result


def _no_wait() -> RetryPolicy:
    """Retries without waiting: this test is about what the errors and logs say, not about backoff."""

    async def no_sleep(seconds: float) -> None:
        pass

    return RetryPolicy(sleep=lambda _seconds: None, async_sleep=no_sleep, jitter=lambda: 1.0)


@pytest.mark.parametrize("mode", MODES)
def test_token_never_in_repr_errors_logs_or_warnings(mode: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(1)  # every logger, every level
    with FaultServer() as server, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        server.play(*FAULTS_WITH_A_TOKEN)
        client_repr, errors = (_sync_session if mode == "sync" else _async_session)(server.url)
        assert server.wait_closed(1.0) == 0
    assert [type(e).__name__ for e in errors] == [
        "AuthenticationError",
        "APIConnectionError",
        "ResponseValidationError",
        "APITimeoutError",
        "StreamError",
        "IncompleteStreamError",
    ]
    assert server.attempts == len(FAULTS_WITH_A_TOKEN)
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in server.requests)  # it was sent every time
    assert TOKEN not in client_repr
    assert [where for e in errors for where, text in exception_texts(e) if TOKEN in text] == []
    loggers = {r.name.split(".")[0] for r in caplog.records}
    assert {"typed_inference", *(["urllib3"] if mode == "sync" else ["httpx2", "httpcore2"])} <= loggers
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    assert [r.name for r in caplog.records if TOKEN in formatter.format(r) + repr(r.args)] == []
    assert [str(w.message) for w in caught if TOKEN in str(w.message)] == []


def test_user_session_redirect_drops_authorization() -> None:
    import requests

    with FaultServer() as first, FaultServer() as other, requests.Session() as session:
        first.play(Redirect(other.url.replace("127.0.0.1", "localhost") + "/models/m"))
        other.play(Respond(200, OK))
        with InferenceClient("m", base_url=first.url, token=TOKEN, session=session) as client:
            assert client.fill_mask("a [MASK].")[0].token_str == "b"
        assert first.last.headers["authorization"] == f"Bearer {TOKEN}"
        assert "authorization" not in other.last.headers  # requests followed it, and stripped the header


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_user_session_follows_no_redirect_itself(status: int) -> None:
    """A user's `requests.Session` used to follow redirects by requests' rules (a 303 turned the POST into a GET);
    the client follows them by its own rule, on every path."""
    import requests

    with FaultServer() as first, FaultServer() as other, requests.Session() as session:
        first.play(Redirect(other.url + "/models/m", status))
        other.play(Respond(200, OK))
        with InferenceClient("m", base_url=first.url, token=TOKEN, session=session, max_retries=0) as client:
            if status in (307, 308):
                assert client.fill_mask("a [MASK].")[0].token_str == "b"
                assert (other.last.method, other.last.body) == ("POST", first.last.body)  # the same method and body
            else:
                with pytest.raises(ti.RedirectError) as err:
                    client.fill_mask("a [MASK].")
                assert err.value.location == other.url + "/models/m" and err.value.status_code == status
                assert other.attempts == 0  # never re-sent, as a GET or otherwise


def test_user_session_redirects_stop_after_five_hops() -> None:
    import requests

    with FaultServer() as server, requests.Session() as session:
        server.play(*[Redirect("/models/m")] * 31)
        with (
            InferenceClient("m", base_url=server.url, session=session) as client,
            pytest.raises(ti.APIConnectionError, match="too many redirects"),
        ):
            client.fill_mask("a [MASK].")
        assert server.attempts == 6  # not requests' 30


@pytest.mark.parametrize("status", [303, 308])
def test_user_http_client_follows_no_redirect_itself(status: int) -> None:
    """The same rule for a user's httpx client that follows redirects by default."""
    from typed_inference._async_transport import _httpx

    async def go(first: FaultServer) -> list[str]:
        async with (
            _httpx().AsyncClient(follow_redirects=True) as http,
            AsyncInferenceClient("m", base_url=first.url, http_client=http, max_retries=0) as client,
        ):
            return [element.token_str for element in await client.fill_mask("a [MASK].")]

    with FaultServer() as first, FaultServer() as other:
        first.play(Redirect(other.url + "/models/m", status))
        other.play(Respond(200, OK))
        if status == 308:
            assert asyncio.run(go(first)) == ["b"]
            assert (other.last.method, other.last.body) == ("POST", first.last.body)
        else:
            with pytest.raises(ti.RedirectError, match=f"redirected to {re.escape(other.url)}/models/m"):
                asyncio.run(go(first))
            assert other.attempts == 0


# -- where an ambient token may go ---------------------------------------------------------------------------------


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultServer]:
    """A fault server standing in for an HTTP proxy: it sees every request to any http:// host, headers included."""
    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    with FaultServer() as server:
        monkeypatch.setenv("HTTP_PROXY", server.url)
        monkeypatch.setenv("http_proxy", server.url)
        yield server


def _ambient(source: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    if source == "HF_TOKEN":
        monkeypatch.setenv("HF_TOKEN", TOKEN)
    else:
        (tmp_path / "token").write_text(TOKEN + "\n")
        monkeypatch.setenv("HF_HOME", str(tmp_path))


def _one_call(mode: str, model: str, token: str | None) -> None:
    if mode == "sync":
        with InferenceClient(model, token=token, max_retries=0) as client:
            client.fill_mask("a [MASK].")
        return

    async def go() -> None:
        async with AsyncInferenceClient(model, token=token, max_retries=0) as client:
            await client.fill_mask("a [MASK].")

    asyncio.run(go())


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("source", ["HF_TOKEN", "token file"])
@pytest.mark.parametrize(
    ("url", "sent"),
    [
        ("http://my-tgi.example.com/generate", False),  # a self-hosted TGI
        ("http://third-party.example.org/v1/models/m", False),
        ("http://router.huggingface.co/hf-inference/models/m", False),  # a Hugging Face host, but not over https
    ],
)
def test_ambient_token_goes_only_to_allowed_hosts(
    proxy: FaultServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    mode: str,
    source: str,
    url: str,
    sent: bool,
) -> None:
    _ambient(source, monkeypatch, tmp_path)
    proxy.play(Respond(200, OK), Respond(200, OK))
    _one_call(mode, url, None)
    _one_call(mode, url, TOKEN)  # the same host with token= passed explicitly
    ambient, explicit = proxy.requests
    assert ambient.target == explicit.target == url  # through the proxy, to that host
    assert ambient.headers.get("authorization") == (f"Bearer {TOKEN}" if sent else None)
    assert explicit.headers["authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
@pytest.mark.parametrize("variables", [("HTTP_PROXY", "http_proxy"), ("ALL_PROXY", "all_proxy")])
def test_loopback_never_goes_through_a_proxy(
    proxy: FaultServer, monkeypatch: pytest.MonkeyPatch, mode: str, host: str, variables: tuple[str, ...]
) -> None:
    """Issue 16.1: with a proxy configured (a corporate proxy on another machine), a loopback base_url (what
    docs/server.md recommends) is contacted directly, and gets the ambient token; the proxy sees nothing."""
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    for name in ("HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name)
    for name in variables:
        monkeypatch.setenv(name, proxy.url)
    with FaultServer() as server:
        server.play(Respond(200, OK))
        _one_call(mode, server.url.replace("127.0.0.1", host) + "/models/m", None)
        assert server.attempts == 1
        assert server.last.target == "/models/m"  # origin form: a direct request, not one relayed by a proxy
        assert server.last.headers["authorization"] == f"Bearer {TOKEN}"
    assert proxy.attempts == 0


def _user_proxied_call(mode: str, url: str, proxy_url: str, token: str | None) -> None:
    """One call through a client the user configured with a proxy (a requests session, an httpx2 client)."""
    if mode == "sync":
        import requests

        with requests.Session() as session:
            session.proxies = {"http": proxy_url, "https": proxy_url}
            with InferenceClient(url, token=token, max_retries=0, session=session) as client:
                client.fill_mask("a [MASK].")
        return
    import httpx2

    async def go() -> None:
        async with (
            httpx2.AsyncClient(proxy=proxy_url) as http,
            AsyncInferenceClient(url, token=token, max_retries=0, http_client=http) as client,
        ):
            await client.fill_mask("a [MASK].")

    asyncio.run(go())


@pytest.mark.parametrize("mode", MODES)
def test_ambient_token_withheld_when_a_users_client_proxies_loopback(
    mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 16.1: a user's requests session is sent to loopback directly all the same; a user's httpx2 client with
    a proxy relays loopback requests through it, so the ambient token stays home (an explicit token= still goes)."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    with FaultServer() as proxy, FaultServer() as server:
        proxy.play(Respond(200, OK), Respond(200, OK))
        server.play(Respond(200, OK), Respond(200, OK))
        url = server.url + "/models/m"
        _user_proxied_call(mode, url, proxy.url, None)
        _user_proxied_call(mode, url, proxy.url, TOKEN)
        if mode == "sync":  # the session's proxy is skipped for loopback: the server itself got both
            assert (proxy.attempts, server.attempts) == (0, 2)
            seen = server.requests
            assert [r.headers.get("authorization") for r in seen] == [f"Bearer {TOKEN}"] * 2
        else:  # the user's client relays through its proxy: the ambient token is withheld, token= is sent
            assert (proxy.attempts, server.attempts) == (2, 0)
            assert [r.target for r in proxy.requests] == [url, url]
            assert [r.headers.get("authorization") for r in proxy.requests] == [None, f"Bearer {TOKEN}"]


class _EnvironmentTransport:
    """A user's transport over requests that does not say whether it proxies (no `proxied`): requests follows
    the proxy variables, so the client must assume it does."""

    def __init__(self) -> None:
        import requests

        self.session = requests.Session()

    def send(self, request: Request) -> Response:
        raw = self.session.request(request.method, request.url, headers=request.headers, data=request.body)
        return Response(raw.status_code, {k.lower(): v for k, v in raw.headers.items()}, raw.content)

    def close(self) -> None:
        self.session.close()


def test_ambient_token_withheld_from_a_transport_that_follows_the_proxy_variables(
    proxy: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    proxy.play(Respond(200, OK), Respond(200, OK))
    for token in (None, TOKEN):
        with InferenceClient("m", base_url="http://127.0.0.1:9", token=token, transport=_EnvironmentTransport()) as c:
            c.fill_mask("a [MASK].")
    assert [r.target for r in proxy.requests] == ["http://127.0.0.1:9/models/m"] * 2  # relayed by the proxy
    assert [r.headers.get("authorization") for r in proxy.requests] == [None, f"Bearer {TOKEN}"]


@pytest.mark.parametrize(
    "mode",
    [
        "sync",
        "async",
    ],
)
def test_ambient_token_judged_on_the_host_actually_contacted(
    proxy: FaultServer, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    proxy.play(Respond(200, OK))
    url = "http://attacker.example\\@127.0.0.1:8080/models/m"  # a backslash: parsers disagree on the host
    with pytest.raises(ti.RequestValidationError, match="backslash"):  # refused before sending since issue 28.5
        _one_call(mode, url, None)
    assert proxy.attempts == 0 and ambient_token_allowed(url) is False


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://huggingface.co@evil.com/x", False),  # userinfo that looks like the host
        ("https://evil.com/huggingface.co", False),
        ("https://evil.com/?h=huggingface.co", False),
        ("https://evil.com#huggingface.co", False),
        ("https://xhf.co/x", False),
        ("https://huggingface.cloud/x", False),  # only subdomains of huggingface.cloud are endpoints
        ("http://localhost.evil.com/x", False),
        ("http://127.0.0.1.nip.io/x", False),
        ("http://0.0.0.0:8080/x", False),
        ("https://HuggingFace.CO/api/models/x", True),
        ("https://huggingface.co:443/x", True),
        ("https://api.hf.co/x", True),
        ("https://api-inference.huggingface.co/models/x", True),
        ("http://127.0.0.2:8080/x", True),
        # what held in issue 16's review, kept: look-alike suffixes, trailing dots, IDN dots, other spellings of an IP
        ("https://huggingface.co.evil.com/x", False),
        ("https://hf.co.evil.com/x", False),
        ("https://huggingface.co./x", False),  # a trailing dot: refused rather than guessed
        ("https://evil.com./.huggingface.co", False),
        ("http://localhost./x", False),
        ("https://huggingface\u3002co/x", False),  # an ideographic full stop, which IDNA maps to a dot
        ("https://evil\u3002huggingface.co/x", False),
        ("https://huggingface.co\uff0eevil.com/x", False),  # a fullwidth full stop
        ("http://0.0.0.0/x", False),
        ("http://2130706433:8080/x", False),  # 127.0.0.1 as a decimal number
        ("http://0x7f000001/x", False),
        ("http://127.1/x", False),
        ("http://017700000001/x", False),  # octal
        ("http://[::ffff:127.0.0.1]/x", False),
    ],
)
def test_ambient_token_host_rule_edge_cases(url: str, allowed: bool) -> None:
    assert ambient_token_allowed(url) is allowed


# -- numbers that cannot be sent -----------------------------------------------------------------------------------

NUMBERS: list[tuple[str, Callable[[Any], Any], str]] = [
    (
        "temperature-nan",
        lambda c: c.text_generation("p", temperature=math.nan),
        r"text-generation: invalid request:\n  parameters\.temperature: Input should be a finite number; "
        r"found nan \(float\)",
    ),
    (
        "top_p-inf",
        lambda c: c.text_generation("p", top_p=math.inf),
        r"text-generation: invalid request:\n  parameters\.top_p: Input should be a finite number; found inf \(float\)",
    ),
    (
        "repetition_penalty-minus-inf",
        lambda c: c.text_generation("p", repetition_penalty=-math.inf),
        r"text-generation: invalid request:\n  parameters\.repetition_penalty: Input should be a finite number; "
        r"found -inf \(float\)",
    ),
    (
        "temperature-overflows-to-inf",
        lambda c: c.text_generation("p", temperature=1e308 * 10),
        r"text-generation: invalid request:\n  parameters\.temperature: Input should be a finite number; "
        r"found inf \(float\)",
    ),
    (
        "temperature-oversized-integer",
        lambda c: c.text_generation("p", temperature=10**400),
        r"text-generation: invalid request:\n  parameters\.temperature: Input should be a valid number; "
        r"found 1000+\.\.\. \(int\)",
    ),
    (
        "chat-temperature-nan",
        lambda c: c.chat_completion([{"role": "user", "content": "hi"}], temperature=math.nan),
        r"chat-completion: invalid request:\n  temperature: Input should be a finite number; found nan \(float\)",
    ),
    (
        "object-detection-threshold-nan",
        lambda c: c.object_detection(PNG, threshold=math.nan),
        r"object-detection: invalid request:\n  parameters\.threshold: Input should be a finite number; "
        r"found nan \(float\)",
    ),
    (
        "table-cell-nan",
        lambda c: c.tabular_regression({"a": [1.0, math.nan]}),
        r"tabular-regression: invalid request:\n  inputs\.data\.a\[1\]: .*found nan \(float\).*",
    ),
    (
        "extra-body-nan",
        lambda c: c.fill_mask("a [MASK].", extra_body={"threshold": math.nan}),
        r"fill-mask: the body cannot be sent as JSON: Out of range float values are not JSON compliant.*",
    ),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("call", "message"), [(c, m) for _, c, m in NUMBERS], ids=[n for n, _, _ in NUMBERS])
def test_non_finite_and_oversized_numbers_are_rejected_before_sending(
    mode: str, call: Callable[[Any], Any], message: str
) -> None:
    with FaultServer() as server:
        server.play(Respond(200, OK))
        if mode == "sync":
            with (
                InferenceClient("m", base_url=server.url, token=TOKEN) as client,
                pytest.raises(ti.RequestValidationError) as err,
            ):
                call(client)
        else:

            async def go() -> None:
                async with AsyncInferenceClient("m", base_url=server.url, token=TOKEN) as client:
                    await call(client)

            with pytest.raises(ti.RequestValidationError) as err:
                asyncio.run(go())
        assert re.fullmatch(message, str(err.value), re.DOTALL), str(err.value)
        assert server.connections == 0 and server.attempts == 0  # nothing left the process


# -- files ---------------------------------------------------------------------------------------------------------

_OPENED: list[str] | None = None
_CONNECTS: list[Any] | None = None


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _OPENED is not None and event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        _OPENED.append(os.path.realpath(os.fsdecode(args[0])))
    elif _CONNECTS is not None and event == "socket.connect":
        _CONNECTS.append(args[1])


sys.addaudithook(_audit)  # audit hooks cannot be removed: this one records only inside `watching_files`


class Watch:
    def __init__(self, root: Path) -> None:
        self.root = os.path.realpath(root)
        self.opened: list[str] = []
        self.connects: list[Any] = []

    def files(self) -> set[str]:
        """Files opened under the test's directory, but the token file (read, by design, for the ambient token);
        imports and system files are not the client's inputs."""
        token_file = os.path.realpath(Path(os.environ["HF_HOME"], "token"))
        return {path for path in self.opened if path.startswith(self.root) and path != token_file}


@pytest.fixture
def watch(tmp_path: Path) -> Iterator[Watch]:
    global _OPENED, _CONNECTS
    watch = Watch(tmp_path)
    _OPENED, _CONNECTS = watch.opened, watch.connects
    try:
        yield watch
    finally:
        _OPENED = _CONNECTS = None


@pytest.fixture
def decoys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """The given file, and files of the same name (or named in text) a careless client might read instead."""
    given = tmp_path / "given" / "cat.png"
    cwd = tmp_path / "cwd"
    home = tmp_path / "hf_home"
    for directory in (given.parent, cwd, home, cwd / "given"):
        directory.mkdir(parents=True, exist_ok=True)
    given.write_bytes(PNG)
    for decoy in (cwd / "cat.png", home / "cat.png", cwd / "given" / "cat.png", tmp_path / "secret.txt"):
        decoy.write_bytes(b"\x89PNG\r\n\x1a\nDECOY " + decoy.name.encode())
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("HF_HOME", str(home))
    return {"given": given, "cwd": cwd, "secret": tmp_path / "secret.txt"}


def _classify(mode: str, url: str, image: Any) -> None:
    if mode == "sync":
        with InferenceClient("m", base_url=url) as client:
            client.image_classification(image)
        return

    async def go() -> None:
        async with AsyncInferenceClient("m", base_url=url) as client:
            await client.image_classification(image)

    asyncio.run(go())


LABELS = [{"label": "cat", "score": 0.9}]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("form", ["str", "Path", "relative"])
def test_file_input_is_read_from_the_given_path_only(
    mode: str, form: str, decoys: dict[str, Path], watch: Watch
) -> None:
    given = decoys["given"]
    if form == "relative":  # relative to the working directory, as open() would take it
        (decoys["cwd"] / "given" / "cat.png").write_bytes(PNG)
        given = decoys["cwd"] / "given" / "cat.png"
    image: Any = {"str": str(given), "Path": given, "relative": "given/cat.png"}[form]
    with FaultServer() as server:
        server.play(Respond(200, LABELS))
        _classify(mode, server.url, image)
        assert server.last.body == PNG
        assert server.last.headers["content-type"] == "image/png"
    assert watch.files() == {os.path.realpath(given)}


@pytest.mark.parametrize("mode", MODES)
def test_a_missing_file_is_not_looked_for_elsewhere(mode: str, decoys: dict[str, Path], watch: Watch) -> None:
    missing = decoys["given"].parent / "dog.png"
    with FaultServer() as server, pytest.raises(ti.RequestValidationError) as err:
        _classify(mode, server.url, str(missing))
    assert str(err.value) == f"image: cannot read file {str(missing)!r}: No such file or directory"
    assert server.connections == 0
    assert watch.files() <= {os.path.realpath(missing)}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.usefixtures("decoys")  # files the client must not read
def test_a_url_given_as_a_file_is_not_fetched(mode: str, watch: Watch) -> None:
    with pytest.raises(ti.RequestValidationError, match=r"^image: cannot read file '.*example\.com/cat\.png': No such"):
        _classify(mode, "http://127.0.0.1:9", "https://example.com/cat.png")  # a path, relative to the cwd
    assert watch.connects == []  # no connection anywhere: neither to the URL nor to the service
    assert watch.files() <= {os.path.realpath("https://example.com/cat.png")}  # at most that very path, on disk


@pytest.mark.parametrize("mode", MODES)
def test_a_file_object_is_read_not_reopened_by_name(mode: str, decoys: dict[str, Path], watch: Watch) -> None:
    stream = io.BytesIO(PNG)
    stream.name = str(decoys["secret"])
    with FaultServer() as server:
        server.play(Respond(200, LABELS))
        _classify(mode, server.url, stream)
        assert server.last.body == PNG
    assert watch.files() == set()


def test_text_that_names_a_file_is_sent_as_text(decoys: dict[str, Path], watch: Watch) -> None:
    secret = str(decoys["secret"])
    with FaultServer() as server, InferenceClient("m", base_url=server.url) as client:
        server.play(
            Respond(200, OK),
            Respond(200, [{"answer": "a cat", "score": 0.9}]),
        )
        client.fill_mask(secret + " [MASK]")
        assert server.requests[0].json()["inputs"] == secret + " [MASK]"
        client.visual_question_answering(image=decoys["given"], question=secret)
        sent = server.requests[1].json()["inputs"]
        assert sent["question"] == secret
        assert base64.b64decode(sent["image"]) == PNG  # the image travelled as base64
    assert watch.files() == {os.path.realpath(decoys["given"])}


@pytest.mark.parametrize("mode", MODES)
def test_a_loading_model_holds_the_retry(mode: str) -> None:
    """The figure's runs, counted: the new rule's retry is held by the server until the model is ready, once."""
    run = time_loading("new", mode)
    assert (run.requests, run.held) == (2, 1)


# -- redirects: the origin rule ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, str]:
    """A TLS context for the fault server (self-signed for 127.0.0.1) and the CA file the clients trust."""
    from tests.faults import self_signed

    return self_signed(str(tmp_path_factory.mktemp("tls")))


@pytest.mark.parametrize("mode", MODES)
def test_https_to_http_redirect_on_the_same_host_drops_authorization(
    mode: str, tls: tuple[Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 16, item 2: the same host and port, but http: another origin, and the token would travel in clear."""
    context, cafile = tls
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", cafile)  # the sync client's pool trusts the test certificate
    monkeypatch.setenv("SSL_CERT_FILE", cafile)  # and httpx2's
    with FaultServer(tls=context) as server:
        server.play(Redirect(f"{server.url}/models/m"), Respond(200, OK))
        if mode == "sync":
            with InferenceClient("m", base_url=server.https_url, token=TOKEN) as client:
                assert client.fill_mask("a [MASK].")[0].token_str == "b"
        else:

            async def go() -> None:
                async with AsyncInferenceClient("m", base_url=server.https_url, token=TOKEN) as client:
                    assert (await client.fill_mask("a [MASK]."))[0].token_str == "b"

            asyncio.run(go())
        first, second = server.requests
        assert (first.tls, second.tls) == (True, False)
        assert first.headers["authorization"] == f"Bearer {TOKEN}"
        assert "authorization" not in second.headers


@pytest.mark.parametrize("mode", MODES)
def test_ambient_token_rule_holds_on_every_hop(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A same-origin hop the ambient rule allows keeps the ambient token; a hop to a URL parsers read differently (a
    backslash: the one same-origin URL the rule refused) is no longer followed at all: a typed error, nothing sent."""
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    with FaultServer() as server:
        server.play(Redirect("/models/renamed"), Redirect("/models\\x"), Respond(200, OK))
        with pytest.raises(ti.APIConnectionError, match="invalid Location"):
            if mode == "sync":
                with InferenceClient("m", base_url=server.url) as client:
                    client.fill_mask("a [MASK].")
            else:

                async def go() -> None:
                    async with AsyncInferenceClient("m", base_url=server.url) as client:
                        await client.fill_mask("a [MASK].")

                asyncio.run(go())
        assert ["authorization" in r.headers for r in server.requests] == [True, True]


@pytest.mark.parametrize(
    ("mode", "answer"),
    [
        ("sync", b"SSH-2.0-OpenSSH_9.6\r\n"),
        ("sync", b"HTTP/1.1 2OO OK\r\n\r\n"),
        ("async", b"HTTP/1.1 2OO OK\r\n\r\n"),  # (a banner, then a close: httpx says "without sending a response")
    ],
)
def test_user_session_does_not_retry_a_malformed_answer(mode: str, answer: bytes) -> None:
    """Issue 16, item 9, with a user's `requests.Session` or httpx client (whose reads the client does not count):
    response bytes arrived, so no retry."""
    import requests

    from tests.faults import NotHttp
    from typed_inference._async_transport import _httpx

    async def go(url: str) -> None:
        async with (
            _httpx().AsyncClient() as http,
            AsyncInferenceClient("m", base_url=url, http_client=http, retry_policy=_no_wait()) as client,
        ):
            await client.fill_mask("a [MASK].")

    with FaultServer() as server, requests.Session() as session:
        server.play(*[NotHttp(answer)] * 3)
        with pytest.raises(ti.APIConnectionError, match="connection broken while the headers were arriving"):
            if mode == "sync":
                with InferenceClient("m", base_url=server.url, session=session, retry_policy=_no_wait()) as client:
                    client.fill_mask("a [MASK].")
            else:
                asyncio.run(go(server.url))
        assert server.attempts == 1
