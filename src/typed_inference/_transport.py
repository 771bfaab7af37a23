"""The only code that does HTTP: one attempt per `send`, over a pooled `requests.Session`."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import requests

logger = logging.getLogger("typed_inference")


@dataclass
class Request:
    """One HTTP request as the client builds it, before any transport sees it."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None = None
    timeout: float | None = None
    stream: bool = False


@dataclass
class Response:
    """A response: status, headers (lower-case names), and the body read whole, or a chunk iterator for streams."""

    status_code: int
    headers: dict[str, str]
    content: bytes = b""
    chunks: Iterator[bytes] | None = None
    close: Any = field(default=None, repr=False)


class TransportError(Exception):
    """A failure below HTTP; `retryable` when no response byte had arrived and the attempt may be repeated."""

    def __init__(self, message: str, *, retryable: bool, timeout: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.timeout = timeout


class Transport(Protocol):
    """The seam: a request in, a response out (or a TransportError). Sync and async twins share everything else."""

    def send(self, request: Request) -> Response: ...

    def close(self) -> None: ...


class RequestsTransport:
    """A Transport over `requests`; with its own session it skips the per-call work `Session.request` redoes."""

    def __init__(self, session: requests.Session | None = None) -> None:
        import requests

        self._own = session is None
        self._session = session if session is not None else requests.Session()
        self._settings: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def _env_settings(self, url: str) -> dict[str, Any]:
        """Proxies, TLS verification and client cert for a host, from the environment, computed once per host."""
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc}"
        settings = self._settings.get(key)
        if settings is None:
            s = self._session
            merged = s.merge_environment_settings(key + "/", s.proxies, None, s.verify, s.cert)
            settings = {"proxies": merged["proxies"], "verify": merged["verify"], "cert": merged["cert"]}
            with self._lock:
                self._settings[key] = settings
        return settings

    def send(self, request: Request) -> Response:
        import requests
        from requests.structures import CaseInsensitiveDict

        timeout = request.timeout
        started = time.monotonic()
        try:
            if self._own:
                prepared = requests.PreparedRequest()
                prepared.method = request.method
                prepared.url = request.url
                merged: dict[str, Any] = {**self._session.headers, **request.headers}
                prepared.headers = CaseInsensitiveDict(merged)
                prepared.body = request.body
                if request.body is not None:
                    prepared.headers["Content-Length"] = str(len(request.body))
                prepared.hooks = {"response": []}
                settings = self._env_settings(request.url)
                adapter = self._session.get_adapter(request.url)
                raw = adapter.send(prepared, stream=True, timeout=timeout, **settings)
            else:
                raw = self._session.request(
                    request.method,
                    request.url,
                    headers=request.headers,
                    data=request.body,
                    timeout=timeout,
                    stream=True,
                    allow_redirects=True,
                )
        except requests.exceptions.ConnectTimeout as exc:
            raise TransportError(f"connect timeout: {_reason(exc)}", retryable=True, timeout=True) from None
        except requests.exceptions.ReadTimeout as exc:
            raise TransportError(f"read timeout: {_reason(exc)}", retryable=False, timeout=True) from None
        except requests.exceptions.ConnectionError as exc:
            raise TransportError(_reason(exc), retryable=True) from None
        except requests.exceptions.RequestException as exc:
            raise TransportError(_reason(exc), retryable=False) from None
        headers = {k.lower(): v for k, v in raw.headers.items()}
        if request.stream and raw.status_code < 400:
            return Response(raw.status_code, headers, chunks=_chunks(raw), close=raw.close)
        try:
            content = raw.raw.read(decode_content=True) if raw.raw is not None else b""
        except Exception as exc:
            raise TransportError(f"connection broken while reading the body: {_reason(exc)}", retryable=False) from None
        finally:
            raw.close()
        logger.debug(
            "%s %s -> %s in %.1f ms", request.method, request.url, raw.status_code, (time.monotonic() - started) * 1e3
        )
        return Response(raw.status_code, headers, content=content)

    def close(self) -> None:
        if self._own:
            self._session.close()


def _chunks(raw: requests.Response) -> Iterator[bytes]:
    try:
        yield from raw.raw.stream(8192, decode_content=True)
    except Exception as exc:
        raise TransportError(f"connection broken during the stream: {_reason(exc)}", retryable=False) from None
    finally:
        raw.close()


def _reason(exc: BaseException) -> str:
    """A short message for a requests/urllib3 error, without the nested reprs."""
    inner: BaseException | None = exc
    while inner is not None and inner.args and isinstance(inner.args[0], BaseException):
        inner = inner.args[0]
    for attr in ("reason",):
        value = getattr(inner, attr, None)
        if isinstance(value, BaseException):
            inner = value
    text = str(inner) if inner is not None else str(exc)
    return text or type(exc).__name__


def header_value(headers: Mapping[str, str], name: str) -> str | None:
    """A header by case-insensitive name."""
    return headers.get(name.lower())
