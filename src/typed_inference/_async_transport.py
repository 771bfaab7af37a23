"""The httpx2 / httpx implementation of `typed_inference.transport.AsyncTransport`: one attempt per `send`, pooled
(extra: `async`)."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from typed_inference._transport import _reason, connect_reason
from typed_inference._urls import is_loopback_url, redact_url
from typed_inference.transport import (
    AsyncResponse,
    ConnectError,
    ConnectTimeout,
    ReadError,
    ReadTimeout,
    Request,
    ResponseTooLarge,
    TransportError,
    TransportTimeout,
)


def _httpx() -> Any:
    """httpx2 (the maintained successor, much faster under concurrency) when installed, else httpx: same API."""
    try:
        import httpx2

        return httpx2
    except ImportError:
        import httpx  # type: ignore[import-not-found, unused-ignore]

        return httpx


logger = logging.getLogger("typed_inference")

# the response bytes the attempt being sent has received (a one-item list), when its client's reads are counted
_received: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("typed_inference_received", default=None)


class _CountedStream:
    """An httpcore2 network stream counting the bytes it reads for the attempt in progress."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data: bytes = await self._stream.read(max_bytes, timeout)
        counter = _received.get()
        if counter is not None:
            counter[0] += len(data)
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._stream.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(self, *args: Any, **kwargs: Any) -> _CountedStream:
        return _CountedStream(await self._stream.start_tls(*args, **kwargs))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _CountedBackend:
    """An httpcore2 network backend whose streams count what they read (`_CountedStream`)."""

    def __init__(self, backend: Any) -> None:
        self._backend = backend

    async def connect_tcp(self, *args: Any, **kwargs: Any) -> _CountedStream:
        return _CountedStream(await self._backend.connect_tcp(*args, **kwargs))

    async def connect_unix_socket(self, *args: Any, **kwargs: Any) -> _CountedStream:
        return _CountedStream(await self._backend.connect_unix_socket(*args, **kwargs))

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


def _count_reads(client: Any) -> bool:
    """Makes the connection pools of our own httpx client count response bytes; False when its layout is not the
    one known (then a failure is judged by the error alone)."""
    transports = [getattr(client, "_transport", None), *getattr(client, "_mounts", {}).values()]
    pools: list[Any] = [getattr(t, "_pool", None) for t in transports if t is not None]
    if not pools or any(pool is None or not hasattr(pool, "_network_backend") for pool in pools):
        return False
    for pool in pools:
        pool._network_backend = _CountedBackend(pool._network_backend)
    return True


class HttpxTransport:
    """An AsyncTransport over an httpx2 / httpx `AsyncClient`; streams hand back async chunks and an async close."""

    def __init__(self, client: Any = None) -> None:
        try:
            httpx = _httpx()
        except ImportError:  # pragma: no cover - depends on the installation
            raise ImportError(
                "AsyncInferenceClient needs httpx2 or httpx: pip install 'typed-inference[async]'"
            ) from None
        self._httpx = httpx
        self._own = client is None
        self._limits = httpx.Limits(max_connections=None, max_keepalive_connections=64)
        self._client = client or httpx.AsyncClient(limits=self._limits, trust_env=True)
        self._counted = self._own and _count_reads(self._client)
        self._direct: Any = None  # our client for loopback URLs: no proxy ever (made on first use)

    def proxied(self, url: str) -> bool:
        """Whether this transport sends `url` through a proxy (never loopback, unless a user's client does)."""
        if self._own and is_loopback_url(url):
            return False
        try:
            return bool(self._client._transport_for_url(self._httpx.URL(url)) is not self._client._transport)
        except Exception:  # not an httpx client as we know it: assume the worst
            return True

    def _client_for(self, url: str) -> Any:
        """The client for a URL: ours goes straight to loopback, bypassing any proxy the environment names."""
        if not (self._own and is_loopback_url(url)):
            return self._client
        if self._direct is None:
            httpx = self._httpx
            self._direct = httpx.AsyncClient(transport=httpx.AsyncHTTPTransport(limits=self._limits, trust_env=True))
            self._counted = self._counted and _count_reads(self._direct)
        return self._direct

    async def send(self, request: Request) -> AsyncResponse:
        httpx = self._httpx

        started = time.monotonic()
        timeout = httpx.Timeout(request.timeout)
        client = self._client_for(request.url)
        built = client.build_request(
            request.method, request.url, headers=request.headers, content=request.body, timeout=timeout
        )
        received = [0]
        counting = _received.set(received if self._counted else None)
        try:
            sending = client.send(built, stream=True, follow_redirects=False)  # the client follows redirects
            if request.deadline is None:
                raw = await sending
            else:  # total_timeout bounds connecting and the headers too (a server may trickle them)
                raw = await asyncio.wait_for(sending, max(0.0, request.deadline - time.monotonic()))
        except (asyncio.TimeoutError, TimeoutError):
            raise ReadTimeout("read timeout: total_timeout passed while the headers were arriving") from None
        except httpx.ConnectTimeout as exc:
            raise ConnectTimeout(f"connect timeout: {_reason(exc)}") from None
        except httpx.ReadTimeout as exc:
            raise ReadTimeout(f"read timeout: {_reason(exc)}") from None
        except (httpx.WriteTimeout, httpx.PoolTimeout) as exc:
            raise TransportTimeout(f"read timeout: {_reason(exc)}") from None
        except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            if received[0] or _answered(exc, httpx):  # response bytes had arrived: the server may have acted on it
                raise ReadError(f"connection broken while the headers were arriving: {_reason(exc)}") from None
            if isinstance(exc, httpx.ConnectError):
                raise ConnectError(connect_reason(exc, request.url)) from None
            raise ConnectError(_reason(exc) or type(exc).__name__) from None
        except httpx.HTTPError as exc:
            raise TransportError(_reason(exc) or type(exc).__name__) from None
        finally:
            _received.reset(counting)
        headers = {k.lower(): v for k, v in raw.headers.items()}
        if request.stream and raw.status_code < 400:
            return AsyncResponse(raw.status_code, headers, chunks=_chunks(raw, httpx), close=raw.aclose)
        # read here, not in send(): a body cut short must not look like a failed connect (which is retried)
        content = await self._read(raw, request.deadline, request.max_bytes)
        logger.debug(
            "%s %s -> %s in %.1f ms",
            request.method,
            redact_url(request.url),
            raw.status_code,
            (time.monotonic() - started) * 1e3,
        )
        return AsyncResponse(raw.status_code, headers, content=content)

    @staticmethod
    async def _read_limited(raw: Any, max_bytes: int) -> bytes:
        parts, size = [], 0
        async for chunk in raw.aiter_bytes():
            parts.append(chunk)
            size += len(chunk)
            if size > max_bytes:
                raise ResponseTooLarge(max_bytes)
        return b"".join(parts)

    async def _read(self, raw: Any, deadline: float | None, max_bytes: int | None = None) -> bytes:
        httpx = self._httpx

        try:
            read = self._read_limited(raw, max_bytes) if max_bytes is not None else raw.aread()
            if deadline is None:
                return bytes(await read)
            remaining = max(0.001, deadline - time.monotonic())
            return bytes(await asyncio.wait_for(read, remaining))
        except (asyncio.TimeoutError, TimeoutError):
            raise ReadTimeout("read timeout: total_timeout passed while the body was arriving") from None
        except httpx.TimeoutException as exc:
            raise ReadTimeout(f"read timeout: {_reason(exc)}") from None
        except httpx.HTTPError as exc:
            raise ReadError(f"connection broken while reading the body: {_reason(exc)}") from None
        finally:
            await raw.aclose()

    async def aclose(self) -> None:
        if self._own:
            await self._client.aclose()
            if self._direct is not None:
                await self._direct.aclose()


def _answered(exc: BaseException, httpx: Any) -> bool:
    """Whether an httpx error says the server sent something that is not a response (a malformed status line or
    headers), as opposed to nothing at all: a user's client, whose reads are not counted, is judged by this."""
    return isinstance(exc, httpx.RemoteProtocolError) and "without sending a response" not in str(exc)


async def _chunks(raw: Any, httpx: Any) -> AsyncIterator[bytes]:
    try:
        async for chunk in raw.aiter_bytes():
            if chunk:
                yield chunk
    except httpx.HTTPError as exc:
        raise ReadError(f"connection broken during the stream: {_reason(exc)}") from None
    finally:
        await raw.aclose()
