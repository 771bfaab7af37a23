"""Mock transports for testing code that uses the clients: no server, no sockets, every request recorded.

```python
from typed_inference import InferenceClient
from typed_inference.testing import MockTransport, json_response

mock = MockTransport(lambda request: json_response([{"label": "POSITIVE", "score": 0.9}]))
client = InferenceClient("org/model", transport=mock)
client.text_classification("great film")[0].label     # "POSITIVE"
mock.requests[0].url                                  # ".../models/org/model"
```

The client's whole path runs as in production (validation before sending, token rules, the retry rule,
redirects, status → typed error, response validation); only the I/O is the handler's.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator, Mapping

from typed_inference.transport import AsyncResponse, Request, Response

__all__ = ["AsyncHandler", "AsyncMockTransport", "Handler", "MockTransport", "json_response"]

Handler = Callable[[Request], Response | Exception]
"""Answers a request with a `Response`, or with an exception to raise (a `TransportError` stands for a failed
connection); raising works too."""

AsyncHandler = Callable[
    [Request], Response | AsyncResponse | Exception | Awaitable[Response | AsyncResponse | Exception]
]
"""`Handler` for the async mock: it may also be a coroutine function, and return an `AsyncResponse`."""


def json_response(
    data: object, status_code: int = 200, headers: Mapping[str, str] | None = None, *, content_type: str | None = None
) -> Response:
    """A response with `data` as its JSON body (`Content-Type: application/json` unless given)."""
    merged = {"content-type": content_type or "application/json"}
    merged.update({name.lower(): value for name, value in (headers or {}).items()})
    return Response(status_code, merged, json.dumps(data).encode("utf-8"))


class MockTransport:
    """A `Transport` whose every `send` calls `handler`; the requests it saw are in `requests`, in order.

    Answers are shaped as a real transport shapes them: header names lower-cased, a body given as `chunks` read
    whole unless the request streams a success, and a `content` body handed out as one chunk when it does.
    """

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[Request] = []
        self.closed = False

    def send(self, request: Request) -> Response:
        self.requests.append(request)
        answer = self.handler(request)
        if isinstance(answer, Exception):
            raise answer
        return _shape(request, answer)

    def proxied(self, url: str) -> bool:  # noqa: ARG002 (the transport protocol names it)
        """No proxy: nothing leaves the process (the token rules then match the real transports' for loopback)."""
        return False

    def close(self) -> None:
        self.closed = True


class AsyncMockTransport:
    """The `AsyncTransport` twin of `MockTransport`; the handler may be sync or async and return a `Response`
    (handed out with async chunks) or an `AsyncResponse`, so one handler can serve both mocks."""

    def __init__(self, handler: AsyncHandler) -> None:
        self.handler = handler
        self.requests: list[Request] = []
        self.closed = False

    async def send(self, request: Request) -> AsyncResponse:
        self.requests.append(request)
        answer = self.handler(request)
        if inspect.isawaitable(answer):
            answer = await answer
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, AsyncResponse):
            return await _shape_async(request, answer)
        shaped = _shape(request, answer)
        if shaped.chunks is None:
            return AsyncResponse(shaped.status_code, shaped.headers, shaped.content)
        chunks = _aiter(shaped.chunks, shaped.close)
        return AsyncResponse(shaped.status_code, shaped.headers, chunks=chunks, close=chunks.aclose)

    def proxied(self, url: str) -> bool:  # noqa: ARG002 (the transport protocol names it)
        """No proxy, as `MockTransport.proxied`."""
        return False

    async def aclose(self) -> None:
        self.closed = True


def _streams(request: Request, status_code: int) -> bool:
    return request.stream and status_code < 400


def _shape(request: Request, response: Response) -> Response:
    headers = {name.lower(): value for name, value in response.headers.items()}
    if _streams(request, response.status_code):
        chunks = (
            response.chunks if response.chunks is not None else iter([response.content] if response.content else [])
        )
        return Response(response.status_code, headers, chunks=chunks, close=response.close)
    content = response.content
    if response.chunks is not None:
        content = b"".join(response.chunks)
        if response.close is not None:
            response.close()
    return Response(response.status_code, headers, content)


async def _shape_async(request: Request, response: AsyncResponse) -> AsyncResponse:
    headers = {name.lower(): value for name, value in response.headers.items()}
    if _streams(request, response.status_code):
        chunks = response.chunks if response.chunks is not None else _aiter(iter([response.content]), None)
        return AsyncResponse(response.status_code, headers, chunks=chunks, close=response.close)
    content = response.content
    if response.chunks is not None:
        content = b"".join([chunk async for chunk in response.chunks])
        if response.close is not None:
            await response.close()
    return AsyncResponse(response.status_code, headers, content)


async def _aiter(chunks: Iterator[bytes], close: Callable[[], None] | None) -> AsyncGenerator[bytes, None]:
    try:
        for chunk in chunks:
            yield chunk
    finally:
        if close is not None:
            close()
