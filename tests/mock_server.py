"""`ScriptedServer`'s script and records over a MockTransport: for tests about what the client sends and makes of
an answer, where real sockets add time and nothing else (wire behaviour stays on `tests.server`)."""

from __future__ import annotations

from collections import deque
from typing import Any
from urllib.parse import urlsplit

from tests.server import Handler, Received, Reply
from typed_inference.testing import AsyncMockTransport, MockTransport
from typed_inference.transport import ConnectError, Request, Response


class MockServer:
    """Replies from a queue of `Reply`s (or a handler function), recording every request, with no server at all.

    `transport` and `async_transport` are the mock transports to hand a client; `url` is the base URL to give it.
    """

    url = "http://127.0.0.1:9"  # loopback, as ScriptedServer's (the token rules treat it alike); never connected to

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.replies: deque[Reply] = deque()
        self.handler: Handler | None = None
        self.transport = MockTransport(self._answer)
        self.async_transport = AsyncMockTransport(self._answer)

    def _answer(self, request: Request) -> Response | Exception:
        parts = urlsplit(request.url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = {name.lower(): value for name, value in request.headers.items()}
        received = Received(request.method, path, headers, request.body or b"")
        self.received.append(received)
        if self.handler is not None:
            reply = self.handler(received)
        elif self.replies:
            reply = self.replies.popleft()
        else:
            reply = Reply(500, {"error": "test server: no reply scripted"})
        if reply.close:
            return ConnectError("the server closed the connection without answering")
        out = {"content-type": "application/json", **{name.lower(): value for name, value in reply.headers.items()}}
        if reply.chunks is not None:
            return Response(reply.status, out, chunks=iter(list(reply.chunks)))
        return Response(reply.status, out, reply.payload())

    def reply(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    def json(self, body: Any, status: int = 200, **headers: str) -> None:
        self.reply(Reply(status, body, dict(headers)))

    @property
    def last(self) -> Received:
        return self.received[-1]
