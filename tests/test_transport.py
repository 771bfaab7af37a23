"""The public transport seam: the mock transports, the retry plan's own inputs, and what the client enforces
whatever transport is plugged in (a naive one over a real loopback server)."""

from __future__ import annotations

import asyncio
import http.client
import inspect
import json
import subprocess
import sys
import typing
from typing import Any
from urllib.parse import urlsplit

import pytest

import typed_inference as ti
from tests.conftest import FakeClock
from tests.mock_server import MockServer
from tests.server import Received, Reply, ScriptedServer
from tests.task_examples import EXAMPLES, method_name
from tests.test_tasks import dump, serve
from typed_inference import AsyncInferenceClient, InferenceClient, testing, transport
from typed_inference._attempts import Attempts
from typed_inference.testing import AsyncHandler, AsyncMockTransport, MockTransport, json_response
from typed_inference.transport import (
    AsyncResponse,
    ConnectError,
    ConnectTimeout,
    ReadError,
    ReadTimeout,
    Request,
    Response,
    ResponseTooLarge,
    RetryPolicy,
    TLSError,
    TransportError,
    TransportTimeout,
)

FILL = [{"sequence": "a b.", "score": 0.5, "token": 1, "token_str": "b"}]
URL = "http://127.0.0.1:9"


def no_wait(clock: FakeClock) -> RetryPolicy:
    return RetryPolicy(clock=clock, sleep=clock.sleep, jitter=lambda: 1.0)


# -- the public names -------------------------------------------------------------------------------------------------
def test_public_names_import_and_live_in_their_module() -> None:
    for module in (transport, testing):
        for name in module.__all__:
            value = getattr(module, name)
            if inspect.isclass(value):
                assert value.__module__ == module.__name__, name
    assert ti.RetryPolicy is RetryPolicy
    assert transport.Transport.__doc__ and "send" in transport.__doc__


def _hints(value: object) -> list[object]:
    if inspect.isclass(value):
        hints = list(typing.get_type_hints(value).values())
        for attribute in vars(value).values():
            if inspect.isfunction(attribute):
                hints += typing.get_type_hints(attribute).values()
        return hints
    if callable(value) and not hasattr(value, "__origin__"):
        return list(typing.get_type_hints(value).values())
    return [value]  # a type alias


def test_no_any_in_the_public_signatures() -> None:
    for module in (transport, testing):
        for name in module.__all__:
            for hint in _hints(getattr(module, name)):
                assert "Any" not in repr(hint), f"{module.__name__}.{name}: {hint!r}"


def test_the_seam_and_the_mocks_import_no_http_stack() -> None:
    code = (
        "import sys, typed_inference.testing, typed_inference.transport;"
        "print(sorted(m for m in ('requests', 'urllib3', 'httpx', 'httpx2') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_transport_error_tree() -> None:
    assert issubclass(ConnectTimeout, TransportTimeout) and issubclass(ReadTimeout, TransportTimeout)
    for cls in (ConnectError, TLSError, TransportTimeout, ReadError, ResponseTooLarge):
        assert issubclass(cls, TransportError)
    assert ConnectError("x").retryable and ConnectTimeout("x").retryable
    assert not ReadTimeout("x").retryable and not ReadError("x").retryable and not TLSError("x").retryable
    assert not ResponseTooLarge(10).retryable and ResponseTooLarge(10).limit == 10
    assert TransportError("x", retryable=True).retryable  # a transport may know better


# -- MockTransport ----------------------------------------------------------------------------------------------------
def test_mock_transport_records_requests_and_answers(clock: FakeClock) -> None:
    mock = MockTransport(lambda _request: json_response(FILL, headers={"X-Request-Id": "r1"}))
    with InferenceClient("org/model", base_url=URL, token="hf_x", transport=mock, retry_policy=no_wait(clock)) as c:
        raw = c.with_raw_response.fill_mask("a [MASK].", top_k=1)
    assert raw.parsed[0].token_str == "b"
    assert raw.request_id == "r1"  # header names lower-cased, as a real transport hands them over
    assert mock.closed
    (request,) = mock.requests
    assert (request.method, request.url) == ("POST", f"{URL}/models/org/model")
    assert request.headers["Authorization"] == "Bearer hf_x"
    assert json.loads(request.body or b"") == {"inputs": "a [MASK].", "parameters": {"top_k": 1}}
    assert request.timeout == 60.0 and request.deadline is not None and not request.stream


@pytest.mark.parametrize("how", ["return", "raise"])
def test_mock_transport_exception_is_a_failed_attempt(clock: FakeClock, how: str) -> None:
    def refuse(_request: Request) -> Response | Exception:
        if how == "raise":
            raise ConnectError("connection refused")
        return ConnectError("connection refused")

    mock = MockTransport(refuse)
    client = InferenceClient("m", base_url=URL, transport=mock, retry_policy=no_wait(clock))
    with client, pytest.raises(ti.APIConnectionError, match="connection refused") as err:
        client.fill_mask("a [MASK].")
    assert type(err.value) is ti.APIConnectionError
    assert len(mock.requests) == 3  # retried twice (max_retries=2)
    assert clock.sleeps == [0.5, 1.0]


def test_mock_transport_timeouts_and_status_errors(clock: FakeClock) -> None:
    answers: list[Response | Exception] = [
        ReadTimeout("read timeout: slow"),
        json_response({"error": "busy"}, 503, {"Retry-After": "2"}),
        json_response(FILL),
    ]
    mock = MockTransport(lambda _request: answers.pop(0))
    with InferenceClient("m", base_url=URL, transport=mock, retry_policy=no_wait(clock)) as c:
        with pytest.raises(ti.APITimeoutError, match="read timeout: slow"):
            c.fill_mask("a [MASK].")  # a read timeout is not retried
        assert c.fill_mask("a [MASK].")[0].token == 1
    assert len(mock.requests) == 3
    assert clock.sleeps == [2.0]


def test_each_attempt_gets_its_own_request(clock: FakeClock) -> None:
    answers: list[Response | Exception] = [
        json_response({"error": "busy"}, 503, {"Retry-After": "7"}),
        json_response(FILL),
    ]
    mock = MockTransport(lambda _request: answers.pop(0))
    with InferenceClient("m", base_url=URL, transport=mock, retry_policy=no_wait(clock), total_timeout=10.0) as c:
        c.fill_mask("a [MASK].", timeout=5.0)
    first, second = mock.requests
    assert first is not second
    assert first.timeout == 5.0  # the first attempt's request is left as it was sent
    assert second.timeout == pytest.approx(3.0)  # capped by what was left of total_timeout after the 7 s wait
    assert first.body == second.body


def test_mock_stream_from_content_or_chunks(clock: FakeClock) -> None:
    event = {"token": {"id": 1, "text": "hi", "logprob": -0.1, "special": False}, "generated_text": "hi"}
    sse = b"data: " + json.dumps(event).encode() + b"\n\n"
    closed: list[bool] = []
    answers = [
        Response(200, {"Content-Type": "text/event-stream"}, sse),
        Response(200, {}, chunks=iter([sse[:5], sse[5:]]), close=lambda: closed.append(True)),
    ]
    mock = MockTransport(lambda _request: answers.pop(0))
    with InferenceClient("m", base_url=URL, transport=mock, retry_policy=no_wait(clock)) as c:
        for _ in range(2):
            events = list(c.text_generation("x", stream=True))
            assert [e.token.text for e in events] == ["hi"]
    assert closed == [True]
    assert all(r.stream for r in mock.requests)


def test_mock_chunks_are_read_whole_when_not_streaming(clock: FakeClock) -> None:
    body = json.dumps(FILL).encode()
    mock = MockTransport(
        lambda _request: Response(200, {"content-type": "application/json"}, chunks=iter([body[:3], body[3:]]))
    )
    with InferenceClient("m", base_url=URL, transport=mock, retry_policy=no_wait(clock)) as c:
        assert c.fill_mask("a [MASK].")[0].token_str == "b"


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("limit", ["max_response_bytes", "total_timeout"])
def test_stream_limits_hold_whatever_the_transport(clock: FakeClock, mode: str, limit: str) -> None:
    """Issue 16, item 5: the whole streamed body within max_response_bytes, the stream's life within total_timeout."""
    comment = b": keep-alive\n\n"
    first = b'data: {"token": {"id": 1, "text": "hi", "logprob": -0.1, "special": false}}\n\n'
    pulled: list[int] = []

    def chunks() -> typing.Iterator[bytes]:
        yield first
        for i in range(100):
            pulled.append(i)
            clock.now += 1.0  # a keep-alive comment every second
            yield comment

    options: dict[str, Any] = {"max_response_bytes": 500} if limit == "max_response_bytes" else {"total_timeout": 10.0}
    message = "max_response_bytes=500" if limit == "max_response_bytes" else "total_timeout of 10 s passed"
    with pytest.raises(ti.IncompleteStreamError, match=message):
        if mode == "sync":
            mock = MockTransport(lambda _request: Response(200, {}, chunks=chunks()))
            with InferenceClient("m", base_url=URL, transport=mock, retry_policy=no_wait(clock), **options) as c:
                list(c.text_generation("x", stream=True))
        else:
            amock = AsyncMockTransport(lambda _request: Response(200, {}, chunks=chunks()))

            async def go() -> None:
                async with AsyncInferenceClient(
                    "m", base_url=URL, transport=amock, retry_policy=no_wait(clock), **options
                ) as c:
                    [e async for e in await c.text_generation("x", stream=True)]

            asyncio.run(go())
    if limit == "max_response_bytes":  # stopped at the chunk that took the streamed body past 500 bytes
        assert len(first) + (len(pulled) - 1) * len(comment) <= 500 < len(first) + len(pulled) * len(comment)
    else:
        assert 10 <= len(pulled) <= 11  # the stream ended at the deadline (async), or at the first comment after it


@pytest.mark.parametrize("kind", ["sync", "async", "async-response"])
def test_async_mock_transport(kind: str) -> None:
    event = {"token": {"id": 1, "text": "hi", "logprob": -0.1, "special": False}, "generated_text": "hi"}
    sse = b"data: " + json.dumps(event).encode() + b"\n\n"

    def sync_handler(request: Request) -> Response:
        if request.stream:
            return Response(200, {}, chunks=iter([sse]))
        return json_response(FILL)

    async def async_handler(request: Request) -> Response:
        return sync_handler(request)

    async def chunks() -> typing.AsyncIterator[bytes]:
        yield sse

    def async_response(request: Request) -> AsyncResponse | Response:
        return AsyncResponse(200, {}, chunks=chunks()) if request.stream else json_response(FILL)

    handlers: dict[str, AsyncHandler] = {"sync": sync_handler, "async": async_handler, "async-response": async_response}
    mock = AsyncMockTransport(handlers[kind])

    async def go() -> list[str]:
        async with AsyncInferenceClient("m", base_url=URL, transport=mock) as client:
            assert (await client.fill_mask("a [MASK]."))[0].token == 1
            return [e.token.text async for e in await client.text_generation("x", stream=True)]

    assert asyncio.run(go()) == ["hi"]
    assert len(mock.requests) == 2 and mock.closed


# -- the mock sees what the wire carries ------------------------------------------------------------------------------
FIDELITY = ["chat-completion", "depth-estimation", "feature-extraction", "image-classification", "text-to-image"]


def _example_call(mode: str, task: str, target: ScriptedServer | MockServer) -> Any:
    example = EXAMPLES[task]
    method = method_name(task)
    if mode == "sync":
        transport = target.transport if isinstance(target, MockServer) else None
        with InferenceClient(base_url=target.url, token="hf_t", transport=transport) as client:
            return getattr(client, method)(*example.args, **example.kwargs)

    async def go() -> Any:
        transport = target.async_transport if isinstance(target, MockServer) else None
        async with AsyncInferenceClient(base_url=target.url, token="hf_t", transport=transport) as client:
            return await getattr(client, method)(*example.args, **example.kwargs)

    return asyncio.run(go())


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("task", FIDELITY)
def test_mock_and_real_transport_see_the_same_request_and_give_the_same_result(
    server: ScriptedServer, task: str, mode: str
) -> None:
    """What the per-task tests check on MockServer holds on a socket: one task per body kind and route."""
    example = EXAMPLES[task]
    mock = MockServer()
    for target in (server, mock):
        serve(target, example.response, example.response_content_type)
    on_the_wire, on_the_mock = _example_call(mode, task, server), _example_call(mode, task, mock)
    assert dump(on_the_wire) == dump(on_the_mock)
    (wire,), (mocked,) = server.received, mock.received
    assert (wire.method, wire.path, wire.body) == (mocked.method, mocked.path, mocked.body)
    assert mocked.headers.items() <= wire.headers.items()  # the wire adds only the HTTP library's own headers


# -- Attempts: the retry plan owns its inputs ------------------------------------------------------------------------
def test_attempts_runs_on_its_inputs_alone() -> None:
    clock = FakeClock()
    request = Request("POST", f"{URL}/models/m", {"User-Agent": "t"}, b"{}", timeout=4.0)
    seen: list[tuple[int, str]] = []

    def status_error(response: Response | AsyncResponse, url: str) -> ti.APIStatusError:
        seen.append((response.status_code, url))
        return ti.ServiceUnavailableError("503", status_code=503, server_message="", headers={}, body=b"")

    policy = RetryPolicy(max_retries=1, clock=clock, jitter=lambda: 1.0)
    attempts = Attempts(request, policy=policy, deadline=clock() + 10.0, clock=clock, status_error=status_error)
    first = attempts.next_request()
    step = attempts.outcome(Response(503), None)
    assert (step.action, step.wait, step.error) == ("retry", 0.5, None)
    clock.now += 8.0
    second = attempts.next_request()
    assert first is not second and first is not request and request.timeout == 4.0 and request.deadline is None
    assert first.timeout == 4.0
    assert second.timeout == pytest.approx(2.0)
    failed = attempts.outcome(Response(503), None)
    assert failed.action == "fail" and isinstance(failed.error, ti.ServiceUnavailableError)
    assert seen == [(503, f"{URL}/models/m")] * 2
    clock.now += 3.0
    with pytest.raises(ti.APITimeoutError, match="total_timeout of 10 s"):
        attempts.next_request()


def test_attempts_enforce_the_body_limit_and_the_deadline() -> None:
    clock = FakeClock()
    request = Request("POST", f"{URL}/models/m", {}, b"{}", timeout=4.0, max_bytes=3)

    def status_error(_response: Response | AsyncResponse, _url: str) -> ti.APIStatusError:
        raise AssertionError("not an error status")

    def plan() -> Attempts:
        return Attempts(
            request, policy=RetryPolicy(clock=clock), deadline=clock() + 5, clock=clock, status_error=status_error
        )

    too_large = plan().outcome(Response(200, {}, b"1234"), None)
    assert too_large.action == "fail" and "max_response_bytes=3" in str(too_large.error)
    assert type(too_large.error) is ti.APIConnectionError
    assert plan().outcome(Response(200, {}, b"123"), None).action == "done"
    assert plan().outcome(Response(200, {}, chunks=iter([b"12345"])), None).action == "done"  # streams: not here
    late = plan()
    clock.now += 6
    step = late.outcome(Response(200, {}, b"1"), None)
    assert step.action == "fail" and type(step.error) is ti.APITimeoutError


# -- whatever transport: a naive one over a real loopback server ------------------------------------------------------
class NaiveTransport:
    """Honours nothing it may ignore: no timeout, no deadline, no size limit; every body read whole."""

    def send(self, request: Request) -> Response:
        parts = urlsplit(request.url)
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port)
        try:
            connection.request(request.method, parts.path, body=request.body, headers=request.headers)
            raw = connection.getresponse()
            body = raw.read()
        finally:
            connection.close()
        return Response(raw.status, {k.lower(): v for k, v in raw.getheaders()}, body)

    def close(self) -> None:
        pass


class AsyncNaiveTransport:
    """NaiveTransport on a worker thread."""

    def __init__(self) -> None:
        self._sync = NaiveTransport()

    async def send(self, request: Request) -> AsyncResponse:
        response = await asyncio.to_thread(self._sync.send, request)
        return AsyncResponse(response.status_code, response.headers, response.content)

    async def aclose(self) -> None:
        pass


def _call(mode: str, server: ScriptedServer, clock: FakeClock, **options: Any) -> Any:
    policy = no_wait(clock)
    if mode == "sync":
        with InferenceClient("m", base_url=server.url, transport=NaiveTransport(), retry_policy=policy, **options) as c:
            return c.fill_mask("a [MASK].")

    async def go() -> Any:
        naive = AsyncNaiveTransport()
        async with AsyncInferenceClient("m", base_url=server.url, transport=naive, retry_policy=policy, **options) as c:
            return await c.fill_mask("a [MASK].")

    return asyncio.run(go())


MODES = ["sync", "async"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("status", [200, 503])
def test_a_naive_transport_cannot_return_a_body_over_max_response_bytes(
    server: ScriptedServer, clock: FakeClock, mode: str, status: int
) -> None:
    big = FILL * 100
    server.json(big, status)
    with pytest.raises(ti.APIConnectionError, match="max_response_bytes=1000") as err:
        _call(mode, server, clock, max_response_bytes=1000)
    assert type(err.value) is ti.APIConnectionError
    assert len(json.dumps(big)) > 1000
    assert len(server.received) == 1  # not retried, even for a 503
    assert clock.sleeps == []


@pytest.mark.parametrize("mode", MODES)
def test_a_naive_transport_within_the_limit(server: ScriptedServer, clock: FakeClock, mode: str) -> None:
    server.json(FILL)
    assert _call(mode, server, clock, max_response_bytes=len(json.dumps(FILL)))[0].token == 1


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("transport", ["naive", "default"])
def test_no_result_after_total_timeout_whatever_the_transport(
    server: ScriptedServer, clock: FakeClock, mode: str, transport: str
) -> None:
    def late(_received: Received) -> Reply:
        clock.now += 11.0  # the answer is ready only after total_timeout (the client's clock is this one)
        return Reply(200, FILL)

    server.handler = late
    with pytest.raises(ti.APITimeoutError, match="total_timeout of 10 s passed before the response") as err:
        if transport == "naive":
            _call(mode, server, clock, total_timeout=10.0)
        else:
            policy = no_wait(clock)
            if mode == "sync":
                with InferenceClient("m", base_url=server.url, retry_policy=policy, total_timeout=10.0) as c:
                    c.fill_mask("a [MASK].")
            else:

                async def go() -> None:
                    async with AsyncInferenceClient(
                        "m", base_url=server.url, retry_policy=policy, total_timeout=10.0
                    ) as c:
                        await c.fill_mask("a [MASK].")

                asyncio.run(go())
    assert "attempt 1" in str(err.value)
    assert len(server.received) == 1
    assert clock.sleeps == []


def test_a_pool_connection_class_wrapped_twice_keeps_one_write_once() -> None:
    """Threads meeting a new host at once may wrap its pool's connection class again: it must stay one class
    (the one-write mixin once in its MRO), never an inconsistent-MRO TypeError."""
    from urllib3.connection import HTTPConnection

    from typed_inference._transport import _OneWrite, _stoppable, _watched

    once = _stoppable(_watched(HTTPConnection))
    twice = _stoppable(_watched(once))
    assert [cls for cls in twice.__mro__ if cls is _OneWrite] == [_OneWrite]
    assert issubclass(twice, HTTPConnection)
