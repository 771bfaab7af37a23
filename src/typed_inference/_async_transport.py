"""The httpx2 / httpx implementation of `typed_inference.transport.AsyncTransport`: one attempt per `send`, pooled
(extra: `async`)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from typed_inference._transport import _reason, connect_reason
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
        self._client = client or httpx.AsyncClient(
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=64), trust_env=True
        )

    async def send(self, request: Request) -> AsyncResponse:
        httpx = self._httpx

        started = time.monotonic()
        timeout = httpx.Timeout(request.timeout)
        built = self._client.build_request(
            request.method, request.url, headers=request.headers, content=request.body, timeout=timeout
        )
        try:
            raw = await self._client.send(built, stream=True)
        except httpx.ConnectTimeout as exc:
            raise ConnectTimeout(f"connect timeout: {_reason(exc)}") from None
        except httpx.ReadTimeout as exc:
            raise ReadTimeout(f"read timeout: {_reason(exc)}") from None
        except (httpx.WriteTimeout, httpx.PoolTimeout) as exc:
            raise TransportTimeout(f"read timeout: {_reason(exc)}") from None
        except httpx.ConnectError as exc:
            raise ConnectError(connect_reason(exc, request.url)) from None
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            raise ConnectError(_reason(exc) or type(exc).__name__) from None
        except httpx.HTTPError as exc:
            raise TransportError(_reason(exc) or type(exc).__name__) from None
        headers = {k.lower(): v for k, v in raw.headers.items()}
        if request.stream and raw.status_code < 400:
            return AsyncResponse(raw.status_code, headers, chunks=_chunks(raw, httpx), close=raw.aclose)
        # read here, not in send(): a body cut short must not look like a failed connect (which is retried)
        content = await self._read(raw, request.deadline, request.max_bytes)
        logger.debug(
            "%s %s -> %s in %.1f ms", request.method, request.url, raw.status_code, (time.monotonic() - started) * 1e3
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


async def _chunks(raw: Any, httpx: Any) -> AsyncIterator[bytes]:
    try:
        async for chunk in raw.aiter_bytes():
            if chunk:
                yield chunk
    except httpx.HTTPError as exc:
        raise ReadError(f"connection broken during the stream: {_reason(exc)}") from None
    finally:
        await raw.aclose()
