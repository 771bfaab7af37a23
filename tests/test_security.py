"""Issue 16: model ids that cannot retarget a request, tokens masked wherever a server echoes them, redacted
reprs, waits that stay finite, and hostile answers that end in typed errors, all on real sockets on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import typed_inference as ti
from tests.faults import FaultServer, Respond
from tests.reliability_report import MODES, OK, PROXY_VARIABLES
from typed_inference import AsyncInferenceClient, InferenceClient
from typed_inference._generated.registry import TASKS
from typed_inference._urls import endpoint_model_path, hub_model_path, provider_model_path
from typed_inference.inference_api import InferenceApi

TOKEN = "hf_hostileSECRET0123456789abcdefXYZ"
HUB = "https://router.huggingface.co/hf-inference"


def call(mode: str, make: Callable[[], Any], use: Callable[[Any], Any]) -> Any:
    """`use(client)` with a client from `make`, sync or async (`use` returns a coroutine for the async client)."""
    if mode == "sync":
        with make() as client:
            return use(client)

    async def go() -> Any:
        async with make() as client:
            return await use(client)

    return asyncio.run(go())


@pytest.fixture
def catch_all(monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultServer]:
    """A fault server standing in as every proxy: any request that leaves the process for any host reaches it."""
    for name in (*PROXY_VARIABLES, "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    with FaultServer() as server:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
            monkeypatch.setenv(name, server.url)
        yield server


# -- 10. model ids -------------------------------------------------------------------------------------------------

RETARGETING = ["../../api/whoami-v2", "org/../../api/whoami-v2", "./m", "org/..", "org//m", "/api/whoami-v2", "m/"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("model", RETARGETING)
def test_endpoint_model_ids_cannot_retarget_the_request(mode: str, model: str) -> None:
    with FaultServer() as server:
        server.play(Respond(200, OK))
        with pytest.raises(ti.RequestValidationError, match=r"^invalid model id .*: it has (an empty|a '\.\.?') "):
            call(
                mode,
                lambda: (InferenceClient if mode == "sync" else AsyncInferenceClient)(base_url=server.url, token=TOKEN),
                lambda c: c.fill_mask("a [MASK].", model=model),
            )
        assert (server.connections, server.attempts) == (0, 0)  # nothing was sent


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("model", "target"),
    [
        ("my model/v1.0", "/models/my%20model/v1.0"),  # a local server's name: quoted, never refused
        ("...", "/models/..."),  # not a dot segment
        ("org/model:tag", "/models/org/model%3Atag"),
        ("%2e%2e/x", "/models/%252e%252e/x"),  # a percent sign is quoted: no second decoding makes it `..`
    ],
)
def test_endpoint_model_ids_are_quoted(mode: str, model: str, target: str) -> None:
    with FaultServer() as server:
        server.play(Respond(200, OK))
        call(
            mode,
            lambda: (InferenceClient if mode == "sync" else AsyncInferenceClient)(base_url=server.url),
            lambda c: c.fill_mask("a [MASK].", model=model),
        )
        assert server.last.target == target


HUB_REFUSED = [
    *RETARGETING,
    "a/b/c",  # three segments
    "-org/model",
    "org/.model",
    "org/mo del",
    "org/model:",
    "org/model:a:b",
    ":fastest",
    "org/model\r\nX-Evil: 1",
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("model", HUB_REFUSED)
def test_hub_model_ids_are_checked_before_sending(mode: str, model: str, catch_all: FaultServer) -> None:
    with pytest.raises(ti.RequestValidationError, match=r"^invalid model id .*: a Hub model id is 'name' or"):
        call(
            mode,
            lambda: (InferenceClient if mode == "sync" else AsyncInferenceClient)(base_url=HUB, token=TOKEN),
            lambda c: c.fill_mask("a [MASK].", model=model),
        )
    assert catch_all.connections == 0  # not even a CONNECT to a proxy


@pytest.mark.parametrize(
    ("model", "path"),
    [
        ("gpt2", "gpt2"),
        ("google-bert/bert-base-uncased", "google-bert/bert-base-uncased"),
        ("org/model.v2_final", "org/model.v2_final"),
        ("meta-llama/Llama-3.1-8B-Instruct:fastest", "meta-llama/Llama-3.1-8B-Instruct%3Afastest"),
        ("org/model:together", "org/model%3Atogether"),
    ],
)
def test_hub_model_ids_accepted(model: str, path: str) -> None:
    assert hub_model_path(model) == path
    with InferenceClient(base_url=HUB) as client:
        assert client.url_for(TASKS["fill-mask"], model) == f"{HUB}/models/{path}"


def test_model_id_path_helpers() -> None:
    assert endpoint_model_path("a b/c") == "a%20b/c"
    assert provider_model_path("org/model:v1~x") == "org/model:v1~x"
    assert provider_model_path("a/b/c d?#") == "a/b/c%20d%3F%23"
    for bad in ("", "a//b", "../x", "a/./b", "a/"):
        with pytest.raises(ti.RequestValidationError, match=r"^invalid provider model id"):
            provider_model_path(bad)


@pytest.mark.parametrize("repo_id", ["../../api/whoami-v2", "org/../x", "org/model?x=1"])
def test_inference_api_checks_the_repo_id(repo_id: str) -> None:
    with FaultServer() as hub:
        hub.play(Respond(200, {"pipeline_tag": "fill-mask"}))
        with pytest.raises(ti.RequestValidationError, match=r"^invalid model id"):
            InferenceApi(repo_id, token=TOKEN, hub_url=hub.url, base_url=hub.url)
        assert hub.connections == 0


def test_inference_api_quotes_the_repo_id() -> None:
    with FaultServer() as hub:
        hub.play(Respond(200, {"pipeline_tag": "fill-mask"}))
        api = InferenceApi("org/model.v2", hub_url=hub.url, base_url=hub.url)
        assert (api.task, hub.last.target) == ("fill-mask", "/api/models/org/model.v2")


# -- 4. reprs of objects holding headers ---------------------------------------------------------------------------


def _frame_locals(exc: BaseException) -> list[tuple[str, str]]:
    """(frame:name, repr) of every local of the library's frames in a traceback, as an error reporter records them."""
    found = []
    tb = exc.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        if "typed_inference" in frame.f_code.co_filename:  # the library's frames (the test's own hold the token)
            found += [(f"{frame.f_code.co_name}:{name}", repr(value)) for name, value in frame.f_locals.items()]
        tb = tb.tb_next
    return found


@pytest.mark.parametrize("mode", MODES)
def test_no_repr_shows_the_authorization_header(mode: str) -> None:
    """Issue 16.4: `Request`, `Response`, a status error's headers, `RawResponse` and every frame local an error
    reporter would record (Sentry, `pytest -l`) show `Authorization` (and cookies, API keys) as `***`."""
    with FaultServer() as server:
        cookie = {"Set-Cookie": f"session={TOKEN}"}
        server.play(Respond(200, OK, cookie), Respond(401, {"error": "no"}, cookie))
        make = InferenceClient if mode == "sync" else AsyncInferenceClient
        headers = {"X-Api-Key": TOKEN, "Cookie": f"a={TOKEN}"}
        raw = call(
            mode,
            lambda: make("m", base_url=server.url, token=TOKEN, headers=headers),
            lambda c: c.with_raw_response.fill_mask("a [MASK]."),
        )
        with pytest.raises(ti.AuthenticationError) as err:
            call(mode, lambda: make("m", base_url=server.url, token=TOKEN), lambda c: c.fill_mask("a [MASK]."))
        assert [r.headers["authorization"] for r in server.requests] == [f"Bearer {TOKEN}"] * 2  # sent all the same
        assert server.requests[0].headers["x-api-key"] == TOKEN
    assert TOKEN not in repr(raw) and raw.headers["set-cookie"] == f"session={TOKEN}"
    assert err.value.headers["set-cookie"] == "session=***"  # the client's own token, echoed: masked (16.3)
    leaks = [where for where, text in _frame_locals(err.value) if TOKEN in text]
    assert leaks == []
    assert len(_frame_locals(err.value)) >= 5  # the check looked at real frames


def test_request_and_response_reprs_redact_credentials() -> None:
    from typed_inference.transport import AsyncResponse, Request, Response

    headers = {"Authorization": f"Bearer {TOKEN}", "proxy-authorization": "Basic x", "X-HF-Token": TOKEN, "A": "b"}
    request = Request("POST", "http://127.0.0.1/models/m", headers, b"{}")
    assert repr(request).count("'***'") == 3 and "'A': 'b'" in repr(request) and TOKEN not in repr(request)
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"  # only the repr is masked
    assert TOKEN not in repr(Response(200, {"set-cookie": TOKEN})) + repr(AsyncResponse(200, {"cookie": TOKEN}))
    import dataclasses

    assert TOKEN not in repr(dataclasses.replace(request, url="http://127.0.0.1/other"))


# -- 7. waits a server asks for ------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("value", [b"NaN", b"-Infinity", b"-1", b"Infinity", b"1" + b"0" * 400])
def test_non_finite_estimated_time_with_real_sleeps(mode: str, value: bytes) -> None:
    """Issue 16.7: with the real sleeps (time.sleep, asyncio.sleep), a 503 whose estimated_time is NaN, infinite,
    negative or too large for a float is retried after a finite wait: sync raised ValueError, async slept forever
    (asyncio.sleep(nan)). `asyncio.wait_for` only turns such a hang into a failure."""
    body = b'{"error": "Model m is currently loading", "estimated_time": ' + value + b"}"
    with FaultServer() as server:
        server.play(Respond(503, body), Respond(200, OK))
        if mode == "sync":
            with InferenceClient("m", base_url=server.url, max_retries=1, total_timeout=60) as client:
                result = client.fill_mask("a [MASK].")
        else:

            async def go() -> Any:
                async with AsyncInferenceClient("m", base_url=server.url, max_retries=1, total_timeout=60) as client:
                    return await client.fill_mask("a [MASK].")

            async def watched() -> Any:
                return await asyncio.wait_for(go(), 30)

            result = asyncio.run(watched())
        assert [r.token_str for r in result] == ["b"]
        assert server.attempts == 2


# -- 8. header values that would split a request -------------------------------------------------------------------

BAD_HEADERS: list[tuple[str, dict[str, Any], str]] = [
    (
        "extra-header-crlf",
        {"extra_headers": {"X-Note": "a\r\nX-Evil: 1"}},
        r"header 'X-Note': the value contains a line break \(CR or LF\) at position 1; "
        r"a header value is one line of printable ASCII",
    ),
    (
        "client-header-lf",
        {"client": {"headers": {"X-Note": "a\nb"}}},
        r"header 'X-Note': the value contains a line break \(CR or LF\) at position 1; .+",
    ),
    (
        "token-newline",
        {"client": {"token": "hf_abc\ndef"}},
        r"header 'Authorization': the value contains a line break \(CR or LF\) at position 13; a header value is one "
        r"line of printable ASCII \(is the token, or HF_TOKEN, pasted with a newline\?\)",
    ),
    (
        "token-nul",
        {"client": {"token": "hf_abc\x00"}},
        r"header 'Authorization': the value contains the control character '\\x00' at position 13; .+",
    ),
    (
        "non-ascii",
        {"extra_headers": {"X-Title": "caf\u00e9 \u20ac"}},
        r"header 'X-Title': the value contains the non-ASCII character 'é' at position 3; .+",
    ),
    ("header-name", {"extra_headers": {"X Evil": "1"}}, r"invalid header name 'X Evil': a header name is .+"),
    ("header-name-colon", {"extra_headers": {"X-A:b": "1"}}, r"invalid header name 'X-A:b': .+"),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("name", "options", "message"), BAD_HEADERS, ids=[n for n, _, _ in BAD_HEADERS])
def test_header_values_that_would_split_the_request_are_refused(
    mode: str,
    name: str,  # noqa: ARG001 (the case id)
    options: dict[str, Any],
    message: str,
) -> None:
    """Issue 16.8: CR, LF, other control characters (a token pasted with its newline) and characters the HTTP
    stacks disagree on are a RequestValidationError naming the header, never quoting its value; nothing is sent."""
    import re

    with FaultServer() as server:
        server.play(Respond(200, OK))
        make = InferenceClient if mode == "sync" else AsyncInferenceClient
        extra = options.get("extra_headers")
        with pytest.raises(ti.RequestValidationError) as err:
            call(
                mode,
                lambda: make("m", base_url=server.url, **options.get("client", {})),
                lambda c: c.fill_mask("a [MASK].", extra_headers=extra),
            )
        assert re.fullmatch(message, str(err.value)), str(err.value)
        assert "def" not in str(err.value) and "Evil: 1" not in str(err.value)  # the value is not quoted
        assert server.connections == 0


def test_ambient_token_with_a_newline_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_abc\ndef")
    with FaultServer() as server, InferenceClient("m", base_url=server.url) as client:
        with pytest.raises(ti.RequestValidationError, match=r"^header 'Authorization': .* pasted with a newline"):
            client.fill_mask("a [MASK].")
        assert server.connections == 0


def test_cli_call_reports_a_token_with_a_newline(monkeypatch: pytest.MonkeyPatch) -> None:
    """`typed-inference call` reports the RequestValidationError as the usage error it is (exit 2, nothing sent),
    naming the header and never quoting the token, not as an "internal error" with a traceback."""
    from tests.test_cli import run

    monkeypatch.setenv("HF_TOKEN", "hf_abc\ndef")
    with FaultServer() as server:
        result = run("call", "fill-mask", "--model", "m", "--input", "a [MASK].", "--base-url", server.url)
        assert server.connections == 0
    assert result.code == 2, result.err
    assert result.err.startswith("typed-inference call: error: header 'Authorization': the value ")
    assert "internal error" not in result.err and "def" not in result.err
