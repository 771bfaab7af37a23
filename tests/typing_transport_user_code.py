"""User code checked by `mypy --strict` (part of `make typecheck`): the transport seam and the mock transports, as a
user writes a transport of their own or tests their code."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

from typing_extensions import assert_type

from typed_inference import AsyncInferenceClient, InferenceClient, RetryPolicy
from typed_inference.testing import AsyncMockTransport, MockTransport, json_response
from typed_inference.transport import (
    AsyncResponse,
    AsyncTransport,
    ConnectError,
    ReadTimeout,
    Request,
    Response,
    ResponseTooLarge,
    Transport,
    TransportError,
    TransportTimeout,
)


class RecordingTransport:
    """A transport of the user's own: structurally a `Transport`, no base class needed."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.urls: list[str] = []

    def send(self, request: Request) -> Response:
        self.urls.append(request.url)
        return self.inner.send(request)

    def close(self) -> None:
        self.inner.close()


class StaticAsyncTransport:
    async def send(self, request: Request) -> AsyncResponse:  # noqa: ARG002 (the protocol names it)
        return AsyncResponse(200, {"content-type": "application/json"}, b"[]")

    async def aclose(self) -> None:
        pass


def answer(request: Request) -> Response | Exception:
    assert_type(request.method, str)
    assert_type(request.headers, dict[str, str])
    assert_type(request.body, bytes | None)
    assert_type(request.timeout, float | None)
    assert_type(request.deadline, float | None)
    assert_type(request.max_bytes, int | None)
    assert_type(request.stream, bool)
    if request.stream:
        return Response(200, {}, chunks=iter([b"data: {}\n\n"]))
    return ConnectError("refused") if request.url.endswith("/down") else json_response([], 200)


async def async_answer(_request: Request) -> AsyncResponse:
    return AsyncResponse(200)


def check() -> None:
    mock = MockTransport(answer)
    assert_type(mock.requests, list[Request])
    client = InferenceClient("m", transport=RecordingTransport(mock), retry_policy=RetryPolicy(max_retries=0))
    transport: Transport = mock
    async_transport: AsyncTransport = AsyncMockTransport(async_answer)
    AsyncInferenceClient("m", transport=async_transport)
    AsyncInferenceClient("m", transport=StaticAsyncTransport())
    AsyncInferenceClient("m", transport=AsyncMockTransport(answer))  # a sync handler serves the async mock too
    response = transport.send(Request("GET", "http://127.0.0.1/", {}))
    assert_type(response.chunks, Iterator[bytes] | None)
    assert_type(response.close, Callable[[], None] | None)
    assert_type(response.content, bytes)
    assert_type(response.headers, dict[str, str])
    streamed = AsyncResponse(200, {}, b"")
    assert_type(streamed.chunks, AsyncIterator[bytes] | None)
    assert_type(streamed.close, Callable[[], Awaitable[None]] | None)
    error: TransportError = ReadTimeout("read timeout")
    assert_type(error.retryable, bool)
    assert isinstance(error, TransportTimeout)
    assert_type(ResponseTooLarge(10).limit, int)
    client.close()
