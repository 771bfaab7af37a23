"""The transport seam: what a client hands a transport, what it gets back, and who enforces what.

A transport makes **one attempt** per `send`: a `Request` in, a `Response` (sync) or `AsyncResponse` (async) out,
or a `TransportError` when the attempt failed before a response arrived. `InferenceClient(transport=...)` and
`AsyncInferenceClient(transport=...)` take any object with these methods; `typed_inference.testing` has mock
transports for tests.

A transport must honour:

- `Request.timeout`, the per-attempt socket timeout (connect, and each read), already capped by the client to
  what is left of `total_timeout`;
- `Request.deadline`, the `time.monotonic()` by which a whole body must have arrived;
- `Request.max_bytes` while reading a whole body, if it can (stop reading early rather than buffer a huge body);
- not following redirects: a 3xx is returned as it is (the client follows it, by its own rules);
- whole bodies for `stream=False` requests and for error statuses (>= 400), chunks only for a streamed success;
- lower-case header names in the response;
- failures before a response as `TransportError` subclasses (`ConnectError` when nothing was answered and the
  attempt may be repeated; `ConnectTimeout`, `ReadTimeout`, `TLSError`, `ReadError`, `ResponseTooLarge`).

A transport may also define `proxied(url) -> bool`: whether it sends `url` through a proxy. The client withholds an
ambient token from a plain-http request a proxy would carry (the proxy would read it); a transport without the
method is assumed to follow the proxy environment variables (`HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`). The built-in
transports never send a loopback URL through a proxy; the mock transports say False.

The client enforces itself, whatever transport is plugged in: `max_response_bytes` on whole bodies (a larger
body is an `APIConnectionError`) and on the whole of a streamed body, `total_timeout` when `send` returns (a
response arriving after it is an `APITimeoutError`) and on a stream's life (chunks arriving after it end the
stream with `IncompleteStreamError`), the retry rule (`RetryPolicy`), the token rules (which hosts get
`Authorization`) and redirects. A `send` that blocks past the deadline is the transport's own business.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

__all__ = [
    "DEFAULT_MAX_RESPONSE_BYTES",
    "AsyncResponse",
    "AsyncTransport",
    "ConnectError",
    "ConnectTimeout",
    "ReadError",
    "ReadTimeout",
    "Request",
    "Response",
    "ResponseTooLarge",
    "RetryPolicy",
    "TLSError",
    "Transport",
    "TransportError",
    "TransportTimeout",
]


class DefaultLimit(int):
    """The default `max_response_bytes`, told apart from a size the caller chose: it caps bodies held whole in
    memory (answers, downloads, error bodies), not streams, which `total_timeout` bounds."""


DEFAULT_MAX_RESPONSE_BYTES = DefaultLimit(128 * 1024 * 1024)  # 128 MiB: far above any media answer seen


def stream_limit(limit: int | None) -> int | None:
    """The cap of a streamed body: `max_bytes` when the caller set it, none for the default (`DefaultLimit`)."""
    return None if isinstance(limit, DefaultLimit) else limit


_SENSITIVE = ("auth", "token", "secret", "password", "cookie", "api-key", "apikey", "x-api-key", "signature")


def sensitive_header(name: str) -> bool:
    """Whether a header carries a credential (`Authorization`, `Proxy-Authorization`, `Cookie`, `X-Api-Key`, …)."""
    lowered = name.lower()
    return any(word in lowered for word in _SENSITIVE)


class Headers(dict[str, str]):
    """The headers of a request or a response: a plain dict whose repr masks credentials, so a repr (an error
    reporter capturing frame locals, `pytest -l`, a log line) never shows a token."""

    def __repr__(self) -> str:
        return repr({name: "***" if sensitive_header(name) else value for name, value in self.items()})


@dataclass(frozen=True)
class Request:
    """One attempt's HTTP request, as the client built it; frozen: the client makes a new one per attempt.

    `timeout` bounds connecting and each read (seconds, None: no limit); `deadline` is the `time.monotonic()` by
    which the whole body must have arrived (None: no limit); `stream` asks for the body in chunks as it arrives;
    `max_bytes` is the largest whole body the caller accepts (None: no limit; a `DefaultLimit` caps whole bodies
    only, a size the caller chose also streams).
    """

    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None = None
    timeout: float | None = None
    stream: bool = False
    deadline: float | None = None
    max_bytes: int | None = None

    def __post_init__(self) -> None:
        if type(self.headers) is not Headers:
            object.__setattr__(self, "headers", Headers(self.headers))  # its repr masks Authorization


@dataclass
class Response:
    """A sync transport's answer: status, headers (lower-case names) and the body.

    The body is `content`, read whole, unless the request asked to `stream` and the status is below 400: then it
    is `chunks`, an iterator of bytes as they arrive, and `close` releases the connection (called by the client
    when the stream ends or is abandoned, and for a response it does not use, such as a redirect or a retried one).
    """

    status_code: int
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes = b""
    chunks: Iterator[bytes] | None = None
    close: Callable[[], None] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if type(self.headers) is not Headers:
            self.headers = Headers(self.headers)  # its repr masks credentials (Set-Cookie, an echoed token)


@dataclass
class AsyncResponse:
    """An async transport's answer: `Response` with async `chunks` and an awaitable `close`."""

    status_code: int
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes = b""
    chunks: AsyncIterator[bytes] | None = None
    close: Callable[[], Awaitable[None]] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if type(self.headers) is not Headers:
            self.headers = Headers(self.headers)


class TransportError(Exception):
    """A failure below HTTP: no usable response. The client turns it into `APIConnectionError`/`APITimeoutError`.

    `retryable` says whether the attempt may be repeated (no response byte had arrived, so the server cannot have
    acted on a half-read answer); each subclass sets its default, and `retryable=` overrides it.
    """

    retryable: bool = False

    def __init__(self, message: str, *, retryable: bool | None = None) -> None:
        super().__init__(message)
        if retryable is not None:
            self.retryable = retryable


class ConnectError(TransportError):
    """No answer at all: the connection was refused, reset or closed before any response byte. Retried."""

    retryable = True


class TLSError(TransportError):
    """The TLS handshake or certificate check failed. Not retried: it would fail the same way."""


class TransportTimeout(TransportError):
    """A timeout: `Request.timeout` or `Request.deadline` passed. The client raises `APITimeoutError`."""


class ConnectTimeout(TransportTimeout):
    """Connecting took longer than `Request.timeout`. Retried: nothing was sent."""

    retryable = True


class ReadTimeout(TransportTimeout):
    """The server stopped sending for longer than `Request.timeout`, or `Request.deadline` passed. Not retried."""


class ReadError(TransportError):
    """The connection broke after the response began (a body cut short, a broken stream). Not retried."""


class ResponseTooLarge(TransportError):
    """A whole body larger than `Request.max_bytes` (the client's `max_response_bytes`). Not retried."""

    def __init__(self, limit: int) -> None:
        hint = " (the default: pass a larger max_response_bytes=, or None for no limit)"
        hint = hint if isinstance(limit, DefaultLimit) else ""
        super().__init__(f"the response is larger than max_response_bytes={int(limit)}{hint}")
        self.limit = limit


class Transport(Protocol):
    """The sync seam: one attempt per `send` (the contract is in this module's docstring)."""

    def send(self, request: Request) -> Response:
        """One attempt: the response (redirects not followed), or a `TransportError`."""
        ...

    def close(self) -> None:
        """Releases what the transport holds (pooled connections); the client calls it when it is closed."""
        ...


class AsyncTransport(Protocol):
    """The async seam: `Transport` with coroutines."""

    async def send(self, request: Request) -> AsyncResponse:
        """One attempt: the response (redirects not followed), or a `TransportError`."""
        ...

    async def aclose(self) -> None:
        """Releases what the transport holds; the client awaits it when it is closed."""
        ...


RETRY_STATUSES = frozenset({408, 429, 502, 503, 504})
INITIAL_BACKOFF = 0.5
MAX_BACKOFF = 8.0


@dataclass
class RetryPolicy:
    """The retry rule's knobs: exponential backoff with jitter, honouring the server's requested wait.

    Retried: a `TransportError` with `retryable` set, and statuses 408, 429, 502, 503 and 504, at most
    `max_retries` times and never past `total_timeout`. The clock, the sleeps and the jitter are injectable, so
    tests run the rule without waiting (`clock` is also what `total_timeout` is measured with).
    """

    max_retries: int = 2
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    wall_clock: Callable[[], float] = time.time
    jitter: Callable[[], float] = field(default=random.random)
    async_sleep: Callable[[float], Awaitable[None]] | None = None  # None: asyncio.sleep

    def backoff(self, retry_index: int) -> float:
        """The wait before retry number `retry_index` (0-based) when the server asked for none."""
        base = min(MAX_BACKOFF, INITIAL_BACKOFF * 2**retry_index)
        return float(base * (0.75 + 0.25 * self.jitter()))

    def server_wait(self, headers: Mapping[str, str], body: bytes) -> float | None:
        """The wait the server asked for: `Retry-After` (seconds or HTTP date) or a 503 body's `estimated_time`."""
        value = headers.get("retry-after")
        if value:
            value = value.strip()
            try:
                seconds = usable_wait(float(value))
            except ValueError:
                parsed = _http_date(value)
                if parsed is not None:
                    return usable_wait(parsed.timestamp() - self.wall_clock())
            else:
                if seconds is not None:
                    return seconds
        return estimated_time(body)


def usable_wait(seconds: float) -> float | None:
    """A wait a server asked for, as the retry rule may use it: finite and at least 0. NaN and infinities are no
    wait at all (None: the backoff applies); a negative wait is 0. The deadline then bounds it like any other."""
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def _http_date(value: str) -> datetime | None:
    """An HTTP date (`Wed, 21 Oct 2026 07:28:00 GMT`), or None when the text is not one."""
    import email.utils

    try:
        return email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None


def estimated_time(body: bytes) -> float | None:
    """`estimated_time` of a model-loading 503 body, when present and usable (`usable_wait`)."""
    if b"estimated_time" not in body:
        return None
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, or nested too deeply to parse
        return None
    value = data.get("estimated_time") if isinstance(data, dict) else None
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    try:
        return usable_wait(float(value))  # NaN, -5, Infinity (JSON as Python reads it), 1e400
    except OverflowError:  # an integer too large for a float
        return None
