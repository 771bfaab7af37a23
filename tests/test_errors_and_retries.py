"""Status → typed error, the retry rule (with an injected clock), timeouts, and where the token may go."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from datetime import datetime, timezone
from email.utils import format_datetime

import pytest

import typed_inference as ti
from tests.conftest import FakeClock
from tests.server import Reply, ScriptedServer
from typed_inference import InferenceClient
from typed_inference.transport import RetryPolicy

OK = [{"sequence": "a b.", "score": 0.5, "token": 1, "token_str": "b"}]


def make_client(server: ScriptedServer, clock: FakeClock, **kwargs: object) -> InferenceClient:
    policy = RetryPolicy(clock=clock, sleep=clock.sleep, jitter=lambda: 1.0, wall_clock=lambda: 1_700_000_000.0)
    return InferenceClient("org/model", base_url=server.url, token="hf_secret_abc", retry_policy=policy, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "body", "cls", "message"),
    [
        (400, {"error": "Error in `inputs.context`: field required"}, ti.BadRequestError, "field required"),
        (401, {"error": "Invalid username or password."}, ti.AuthenticationError, "Invalid username"),
        (403, {"error": "no access"}, ti.PermissionDeniedError, "no access"),
        (404, {"error": "Model org/model does not exist"}, ti.ModelNotFoundError, "does not exist"),
        (422, "Failed to deserialize the JSON body into the target type", ti.UnprocessableEntityError, "deserialize"),
        (413, {"error": "Payload too large: at most 2 MB"}, ti.PayloadTooLargeError, "too large"),
        (400, {"error": ["first problem", "second problem"]}, ti.BadRequestError, "first problem; second problem"),
        (500, {"error": "boom", "error_type": "generation"}, ti.InternalServerError, "boom"),
    ],
)
def test_status_errors_are_typed(
    server: ScriptedServer, clock: FakeClock, status: int, body: object, cls: type[ti.APIStatusError], message: str
) -> None:
    headers = {"x-request-id": "req-42"}
    if isinstance(body, str):
        headers["Content-Type"] = "text/plain"
    server.reply(Reply(status, body, headers))
    with make_client(server, clock) as client, pytest.raises(cls) as err:
        client.fill_mask("a [MASK].")
    exc = err.value
    assert type(exc) is cls
    assert exc.status_code == status
    assert message in exc.server_message
    assert exc.request_id == "req-42"
    assert "req-42" in str(exc)
    assert len(server.received) == 1  # not retried
    assert clock.sleeps == []
    if status == 500:
        assert exc.error_type == "generation"


def test_html_error_page_from_a_proxy(server: ScriptedServer, clock: FakeClock) -> None:
    page = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
    server.reply(*[Reply(502, page, {"Content-Type": "text/html"})] * 3)
    with make_client(server, clock) as client, pytest.raises(ti.InternalServerError) as err:
        client.fill_mask("a [MASK].")
    assert "502 Bad Gateway" in err.value.server_message
    assert len(server.received) == 3  # 502 is retried, max_retries=2


def test_model_loading_503_is_retried_at_once_waiting_for_the_model(server: ScriptedServer, clock: FakeClock) -> None:
    server.json({"error": "Model org/model is currently loading", "estimated_time": 20.0}, 503)
    server.json(OK)
    with make_client(server, clock, timeout=5.0, total_timeout=120.0) as client:
        result = client.fill_mask("a [MASK].")
    assert result[0].token_str == "b"
    assert clock.sleeps == []  # not estimated_time: the service holds the retry until the model is ready
    assert len(server.received) == 2
    assert [r.headers.get("x-wait-for-model") for r in server.received] == [None, "true"]


def test_model_loading_header_ignored_falls_back_to_estimated_time(server: ScriptedServer, clock: FakeClock) -> None:
    for _ in range(2):
        server.json({"error": "Model org/model is currently loading", "estimated_time": 20.0}, 503)
    server.json(OK)
    with make_client(server, clock) as client:
        assert client.fill_mask("a [MASK].")[0].token_str == "b"
    assert clock.sleeps == [20.0]
    assert [r.headers.get("x-wait-for-model") for r in server.received] == [None, "true", "true"]


def test_model_loading_error_when_retries_run_out(server: ScriptedServer, clock: FakeClock) -> None:
    for _ in range(3):
        server.json({"error": "Model org/model is currently loading", "estimated_time": 5.0}, 503)
    with make_client(server, clock) as client, pytest.raises(ti.ModelLoadingError) as err:
        client.fill_mask("a [MASK].")
    assert err.value.estimated_time == 5.0
    assert isinstance(err.value, ti.ServiceUnavailableError)
    assert clock.sleeps == [5.0]  # the first retry waited for the model at once; the second, estimated_time
    assert len(server.received) == 3


def test_wait_past_total_timeout_fails_at_once(server: ScriptedServer, clock: FakeClock) -> None:
    for _ in range(2):
        server.json({"error": "Model org/model is currently loading", "estimated_time": 500.0}, 503)
    with make_client(server, clock, total_timeout=60.0) as client, pytest.raises(ti.ModelLoadingError) as err:
        client.fill_mask("a [MASK].")
    assert err.value.retry_after == 500.0
    assert clock.sleeps == []
    assert len(server.received) == 2  # the retry that waits for the model, then no wait past total_timeout


def test_wait_for_model_false_raises_at_once(server: ScriptedServer, clock: FakeClock) -> None:
    for _ in range(2):
        server.json({"error": "Model org/model is currently loading", "estimated_time": 20.0}, 503)
    with make_client(server, clock) as client, pytest.raises(ti.ModelLoadingError) as err:
        client.fill_mask("a [MASK].", wait_for_model=False)
    assert err.value.estimated_time == 20.0
    assert clock.sleeps == []
    assert len(server.received) == 1 and server.last.headers["x-wait-for-model"] == "false"


def test_max_retries_0_raises_a_loading_error_at_once(server: ScriptedServer, clock: FakeClock) -> None:
    server.json({"error": "Model org/model is currently loading", "estimated_time": 20.0}, 503)
    with make_client(server, clock, max_retries=0) as client, pytest.raises(ti.ModelLoadingError):
        client.fill_mask("a [MASK].")
    assert len(server.received) == 1 and clock.sleeps == []


@pytest.mark.parametrize(
    ("url", "holds"),
    [
        ("https://router.huggingface.co/hf-inference/models/org/model", True),  # hf-inference, however chosen
        ("https://ROUTER.huggingface.co/hf-inference/models/org/model/v1/chat/completions", True),
        ("https://xyz.us-east-1.aws.endpoints.huggingface.cloud", True),  # an Inference Endpoint
        ("https://api-inference.huggingface.co/models/org/model", True),  # not the router: its own service
        ("http://my-tgi.internal:8080", True),
        ("https://router.huggingface.co/together/v1/chat/completions", False),  # another provider
        ("https://router.huggingface.co/v1/chat/completions", False),  # the auto-router
        ("https://router.huggingface.co/hf-inferencex/models/org/model", False),
    ],
)
def test_which_routes_wait_for_a_loading_model(url: str, holds: bool, clock: FakeClock) -> None:
    from typed_inference.testing import MockTransport, json_response

    loading = json_response({"error": "Model org/model is currently loading", "estimated_time": 20.0}, 503)
    answers = iter([loading, json_response(OK)])
    mock = MockTransport(lambda _request: next(answers))
    policy = RetryPolicy(clock=clock, sleep=clock.sleep, jitter=lambda: 1.0)
    options = {"token": "hf_x", "retry_policy": policy, "transport": mock, "timeout": 5.0, "total_timeout": 120.0}
    with InferenceClient(url, **options) as client:  # type: ignore[arg-type]
        assert client.fill_mask("a [MASK].")[0].token_str == "b"
    first, second = mock.requests
    assert second.headers.get("X-Wait-For-Model") == ("true" if holds else None)
    assert clock.sleeps == ([] if holds else [20.0])  # elsewhere: the backoff rule, estimated_time as the wait
    assert first.timeout == 5.0
    assert second.timeout == (120.0 if holds else 5.0)  # a held request may take what is left of total_timeout


def test_plain_503_is_service_unavailable(server: ScriptedServer, clock: FakeClock) -> None:
    server.reply(*[Reply(503, {"error": "Service Unavailable"})] * 3)
    with make_client(server, clock) as client, pytest.raises(ti.ServiceUnavailableError) as err:
        client.fill_mask("a [MASK].")
    assert type(err.value) is ti.ServiceUnavailableError
    assert clock.sleeps == [0.5, 1.0]  # exponential backoff (jitter pinned to its top)


def test_429_retry_after_seconds(server: ScriptedServer, clock: FakeClock) -> None:
    server.reply(Reply(429, {"error": "rate limited"}, {"Retry-After": "7"}))
    server.json(OK)
    with make_client(server, clock) as client:
        client.fill_mask("a [MASK].")
    assert clock.sleeps == [7.0]


def test_429_retry_after_http_date(server: ScriptedServer, clock: FakeClock) -> None:
    when = datetime.fromtimestamp(1_700_000_000 + 12, tz=timezone.utc)
    server.reply(Reply(429, {"error": "rate limited"}, {"Retry-After": format_datetime(when, usegmt=True)}))
    server.json(OK)
    with make_client(server, clock) as client:
        client.fill_mask("a [MASK].")
    assert clock.sleeps == [12.0]


def test_rate_limit_error_after_max_retries(server: ScriptedServer, clock: FakeClock) -> None:
    server.reply(*[Reply(429, {"error": "slow down"}, {"Retry-After": "1"})] * 2)
    with make_client(server, clock, max_retries=1) as client, pytest.raises(ti.RateLimitError) as err:
        client.fill_mask("a [MASK].")
    assert err.value.retry_after == 1.0
    assert len(server.received) == 2


def test_clients_sharing_a_retry_policy_keep_their_own_max_retries(server: ScriptedServer, clock: FakeClock) -> None:
    policy = RetryPolicy(max_retries=1, clock=clock, sleep=clock.sleep, jitter=lambda: 1.0)
    patient = InferenceClient("m", base_url=server.url, retry_policy=policy, max_retries=3)
    default = InferenceClient("m", base_url=server.url, retry_policy=policy)
    assert policy.max_retries == 1  # the caller's policy is left as it was
    server.reply(*[Reply(503, {"error": "busy"})] * 2)
    with default, pytest.raises(ti.ServiceUnavailableError):
        default.fill_mask("a [MASK].")
    assert len(server.received) == 2  # the policy's own value: one retry
    server.reply(*[Reply(503, {"error": "busy"})] * 4)
    with patient, pytest.raises(ti.ServiceUnavailableError):
        patient.fill_mask("a [MASK].")
    assert len(server.received) == 2 + 4  # the explicit max_retries=3 wins


@pytest.mark.parametrize("status", [408, 502, 504])
def test_transient_statuses_are_retried(server: ScriptedServer, clock: FakeClock, status: int) -> None:
    server.json({"error": "transient"}, status)
    server.json(OK)
    with make_client(server, clock) as client:
        assert client.fill_mask("a [MASK].")[0].score == 0.5
    assert len(server.received) == 2


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_connection_refused_is_retried_then_raised(clock: FakeClock) -> None:
    policy = RetryPolicy(clock=clock, sleep=clock.sleep, jitter=lambda: 1.0)
    url = f"http://127.0.0.1:{_free_port()}"
    with InferenceClient("m", base_url=url, retry_policy=policy) as client, pytest.raises(ti.APIConnectionError) as err:
        client.fill_mask("a [MASK].")
    assert type(err.value) is ti.APIConnectionError
    assert "attempt 3" in str(err.value)
    assert clock.sleeps == [0.5, 1.0]


def test_connection_closed_without_answer_is_retried(server: ScriptedServer, clock: FakeClock) -> None:
    server.reply(Reply(close=True))
    server.json(OK)
    with make_client(server, clock) as client:
        assert client.fill_mask("a [MASK].")[0].token == 1
    assert len(server.received) == 2


def test_read_timeout_is_not_retried(server: ScriptedServer) -> None:
    release = threading.Event()

    def slow(_: object) -> Reply:
        release.wait(5)
        return Reply(200, OK)

    server.handler = slow
    try:
        with InferenceClient("m", base_url=server.url, timeout=0.3) as client, pytest.raises(ti.APITimeoutError):
            client.fill_mask("a [MASK].")
        assert len(server.received) == 1
    finally:
        release.set()


def test_per_call_timeout_overrides(server: ScriptedServer) -> None:
    release = threading.Event()
    server.handler = lambda _: (release.wait(5), Reply(200, OK))[1]
    try:
        with InferenceClient("m", base_url=server.url, timeout=30) as client:
            started = time.monotonic()
            with pytest.raises(ti.APITimeoutError):
                client.fill_mask("a [MASK].", timeout=0.2)
            assert time.monotonic() - started < 10
    finally:
        release.set()


def test_body_shorter_than_content_length_is_a_connection_error(server: ScriptedServer, clock: FakeClock) -> None:
    server.reply(Reply(200, b'[{"sequence": "a"', {"Content-Length": "500"}, close_after=True))
    with make_client(server, clock) as client, pytest.raises(ti.APIConnectionError) as err:
        client.fill_mask("a [MASK].")
    assert type(err.value) is ti.APIConnectionError
    assert len(server.received) == 1  # a response had begun: not retried


def test_invalid_json_is_a_response_validation_error(server: ScriptedServer, clock: FakeClock) -> None:
    server.reply(Reply(200, b"not json at all"))
    with make_client(server, clock) as client, pytest.raises(ti.ResponseValidationError) as err:
        client.fill_mask("a [MASK].")
    assert "not valid JSON" in str(err.value)
    assert err.value.body == b"not json at all"
    assert err.value.status_code == 200


def test_wrong_shape_names_the_path(server: ScriptedServer, clock: FakeClock) -> None:
    server.json([{"sequence": "a", "score": "high", "token": 1, "token_str": "b"}])
    with make_client(server, clock) as client, pytest.raises(ti.ResponseValidationError) as err:
        client.fill_mask("a [MASK].")
    assert "[0].score" in str(err.value)


# -- the token --------------------------------------------------------------------------------------------------


def test_token_never_leaks(server: ScriptedServer, clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="typed_inference")
    server.json({"error": "bad"}, 400)
    client = make_client(server, clock)
    assert "hf_secret_abc" not in repr(client)
    with pytest.raises(ti.BadRequestError) as err:
        client.fill_mask("a [MASK].")
    assert "hf_secret_abc" not in str(err.value) and "hf_secret_abc" not in repr(err.value.args)
    assert server.last.headers["authorization"] == "Bearer hf_secret_abc"
    assert all("hf_secret_abc" not in record.getMessage() for record in caplog.records)
    assert any("POST" in record.getMessage() for record in caplog.records)
    client.close()


def test_ambient_token_goes_to_loopback(server: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_ambient")
    server.json(OK)
    with InferenceClient("m", base_url=server.url) as client:
        client.fill_mask("a [MASK].")
    assert server.last.headers["authorization"] == "Bearer hf_ambient"


def test_ambient_token_from_file(server: ScriptedServer, monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    from pathlib import Path

    home = Path(str(tmp_path))
    (home / "token").write_text("hf_from_file\n")
    monkeypatch.setenv("HF_HOME", str(home))
    server.json(OK)
    with InferenceClient("m", base_url=server.url) as client:
        client.fill_mask("a [MASK].")
    assert server.last.headers["authorization"] == "Bearer hf_from_file"


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://router.huggingface.co/hf-inference/models/x", True),
        ("https://huggingface.co/api/models/x", True),
        ("https://hf.co/x", True),
        ("https://abc.us-east-1.aws.endpoints.huggingface.cloud", True),
        ("http://router.huggingface.co/x", False),
        ("https://huggingface.co.evil.com/x", False),
        ("https://evilhuggingface.co/x", False),
        ("https://my-tgi.example.com/generate", False),
        ("http://localhost:8080/x", True),
        ("http://[::1]:8080/x", True),
    ],
)
def test_ambient_token_host_rule(url: str, allowed: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_ambient")
    ambient = InferenceClient("m")
    explicit = InferenceClient("m", token="hf_explicit")
    assert ("Authorization" in ambient.auth_headers(url)) is allowed
    assert explicit.auth_headers(url) == {"Authorization": "Bearer hf_explicit"}


def test_authorization_dropped_on_redirect_to_another_host(server: ScriptedServer, clock: FakeClock) -> None:
    other = ScriptedServer().start()
    try:
        other.json(OK)
        other_url = other.url.replace("127.0.0.1", "localhost")
        server.reply(Reply(307, b"", {"Location": other_url + "/models/m"}))
        with make_client(server, clock) as client:
            assert client.fill_mask("a [MASK].")[0].token == 1
        assert "authorization" in server.received[0].headers
        assert "authorization" not in other.last.headers
    finally:
        other.stop()


def test_default_headers_and_user_agent(server: ScriptedServer, clock: FakeClock) -> None:
    server.json(OK)
    with make_client(server, clock, headers={"X-Team": "nlp"}) as client:
        client.fill_mask("a [MASK].")
    assert server.last.headers["x-team"] == "nlp"
    assert server.last.headers["user-agent"] == f"typed-inference/{ti.__version__}"


def test_user_session_is_used_as_given(server: ScriptedServer) -> None:
    import requests

    session = requests.Session()
    session.headers["X-From-Session"] = "yes"
    seen: list[int] = []
    session.hooks["response"].append(lambda r, *_a, **_k: seen.append(r.status_code))
    server.json(OK)
    with InferenceClient("m", base_url=server.url, session=session) as client:
        client.fill_mask("a [MASK].")
    assert server.last.headers["x-from-session"] == "yes"
    assert seen == [200]
    session.close()


def test_client_is_shared_by_threads(server: ScriptedServer) -> None:
    server.handler = lambda r: Reply(200, [{**OK[0], "sequence": r.json()["inputs"]}])
    results: dict[int, str] = {}
    with InferenceClient("m", base_url=server.url) as client:

        def work(i: int) -> None:
            results[i] = client.fill_mask(f"text {i} [MASK]")[0].sequence

        threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert results == {i: f"text {i} [MASK]" for i in range(16)}


def test_raw_response(server: ScriptedServer, clock: FakeClock) -> None:
    server.reply(Reply(200, OK, {"x-request-id": "r1", "x-compute-type": "cpu", "x-compute-time": "0.012"}))
    with make_client(server, clock) as client:
        raw = client.with_raw_response.fill_mask("a [MASK].")
    assert raw.status_code == 200
    assert (raw.request_id, raw.compute_type, raw.compute_time) == ("r1", "cpu", "0.012")
    assert raw.parsed[0].token_str == "b"


def test_errors_print_with_the_public_module() -> None:
    assert repr(ti.RateLimitError).startswith("<class 'typed_inference.RateLimitError'")
    assert issubclass(ti.APITimeoutError, ti.APIConnectionError)
    assert issubclass(ti.IncompleteStreamError, ti.APIConnectionError)
    assert issubclass(ti.ModelLoadingError, ti.APIStatusError)
    assert all(issubclass(getattr(ti, n), ti.InferenceError) for n in ti.__all__ if n.endswith("Error"))


def test_response_size_limit_is_a_clear_error(server: ScriptedServer, clock: FakeClock) -> None:
    big = [{"sequence": "x" * 1000, "score": 0.5, "token": 1, "token_str": "b"}] * 50
    server.json(big)
    server.json(big)
    with make_client(server, clock, max_response_bytes=10_000) as client, pytest.raises(ti.APIConnectionError) as err:
        client.fill_mask("a [MASK].")
    assert "max_response_bytes=10000" in str(err.value)
    assert len(server.received) == 1  # not retried
    with make_client(server, clock) as client:  # no limit unless one is set
        assert len(client.fill_mask("a [MASK].")) == 50


def test_async_response_size_limit(server: ScriptedServer) -> None:
    import asyncio

    server.json([{"sequence": "x" * 1000, "score": 0.5, "token": 1, "token_str": "b"}] * 50)

    async def go() -> None:
        async with ti.AsyncInferenceClient("m", base_url=server.url, max_response_bytes=10_000) as client:
            await client.fill_mask("a [MASK].")

    with pytest.raises(ti.APIConnectionError, match="max_response_bytes=10000"):
        asyncio.run(go())


def test_null_for_an_optional_parameter_is_named(server: ScriptedServer, clock: FakeClock) -> None:
    with make_client(server, clock) as client, pytest.raises(ti.RequestValidationError) as err:
        client.fill_mask("a [MASK].", extra_body=None, top_k=None, targets=["a"] * 0)
    assert "parameters.targets" in str(err.value)
    assert "Value error" not in str(err.value)
    assert server.received == []


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_host_that_does_not_resolve_is_said_in_words(mode: str) -> None:
    """A failed name resolution names the host, not the HTTP stack's internal connection class."""
    url = "https://no-such-host.invalid"
    if mode == "sync":
        with InferenceClient("m", base_url=url, max_retries=0) as client, pytest.raises(ti.APIConnectionError) as err:
            client.fill_mask("a [MASK].")
    else:

        async def go() -> None:
            async with ti.AsyncInferenceClient("m", base_url=url, max_retries=0) as client:
                await client.fill_mask("a [MASK].")

        with pytest.raises(ti.APIConnectionError) as err:
            asyncio.run(go())
    assert str(err.value).startswith("name resolution failed for no-such-host.invalid: "), str(err.value)
    assert "Connection(" not in str(err.value)
