"""CORS for the origins `--allow-origin` names: the preflight's answer and the headers that let a page read one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

Send = Callable[[dict[str, Any]], Awaitable[None]]

# what a page may read of an answer besides the CORS-safelisted headers: the Inference API's own
EXPOSED = "x-request-id, x-compute-type, x-compute-time, x-model-id, retry-after"
METHODS = "GET, POST"
MAX_AGE = "600"  # seconds a browser may reuse a preflight's answer


def answer_headers(origin: str) -> list[tuple[bytes, bytes]]:
    """The headers every answer to an allowed origin carries, so that its page can read the answer."""
    return [
        (b"access-control-allow-origin", origin.encode("latin-1")),
        (b"access-control-expose-headers", EXPOSED.encode()),
        (b"vary", b"Origin"),
    ]


def is_preflight(scope: dict[str, Any], headers: dict[str, str]) -> bool:
    """A browser's CORS preflight: OPTIONS with `Access-Control-Request-Method`."""
    return scope.get("method") == "OPTIONS" and "access-control-request-method" in headers


async def answer_preflight(send: Send, origin: str, headers: dict[str, str]) -> None:
    """204 allowing the methods the routes take and the headers the page asked for (its origin is allowed)."""
    asked = headers.get("access-control-request-headers", "")
    extra = [(b"access-control-allow-headers", asked.encode("latin-1"))] if asked.strip() else []
    allow = [(b"access-control-allow-methods", METHODS.encode()), (b"access-control-max-age", MAX_AGE.encode())]
    start = {"type": "http.response.start", "status": 204, "headers": answer_headers(origin) + allow + extra}
    await send(start)
    await send({"type": "http.response.body", "body": b""})


def with_cors(send: Send, origin: str) -> Send:
    """`send` adding the allowed origin's headers to the answer's start."""

    async def sending(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", ()), *answer_headers(origin)]}
        await send(message)

    return sending
