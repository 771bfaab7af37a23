"""The requests implementation of `typed_inference.transport.Transport`: one attempt per `send`, pooled."""

from __future__ import annotations

import functools
import http.client
import io
import logging
import re
import socket
import threading
import time
from collections.abc import Generator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from typed_inference._stop import current_scope
from typed_inference._urls import is_loopback, is_loopback_url, redact_url
from typed_inference.transport import (
    ConnectError,
    ConnectTimeout,
    ReadError,
    ReadTimeout,
    Request,
    Response,
    ResponseTooLarge,
    TLSError,
    TransportError,
)

if TYPE_CHECKING:
    import requests

logger = logging.getLogger("typed_inference")

_attempt = threading.local()  # the `_Watch` of the attempt this thread is making on a pooled connection


class _Watch:
    """One attempt's reads, seen from below http.client: the deadline they must end by (`Request.deadline`), the
    per-read timeout, and the response bytes received (none: nothing was answered, so a failure may be retried)."""

    def __init__(self, deadline: float | None, timeout: float | None) -> None:
        self.deadline = deadline
        self.timeout = timeout
        self.received = 0

    def expired(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline


class _WatchedIO(io.RawIOBase):
    """A connection's socket reader that counts the bytes it receives and never waits past the attempt's deadline:
    each read's timeout is the per-read timeout capped by what is left, so `total_timeout` bounds the headers (a
    server trickling them byte by byte) and the body alike."""

    def __init__(self, raw: Any, sock: Any, watch: _Watch) -> None:
        super().__init__()
        self._raw = raw
        self._sock = sock
        self._watch = watch

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int | None:
        watch = self._watch
        if watch.deadline is not None:
            remaining = watch.deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("total_timeout passed")
            self._sock.settimeout(remaining if watch.timeout is None else min(watch.timeout, remaining))
        count: int | None = self._raw.readinto(buffer)
        watch.received += count or 0
        return count

    def fileno(self) -> int:
        return int(self._raw.fileno())

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


class _WatchedResponse(http.client.HTTPResponse):
    """http.client's response, reading through `_WatchedIO` when the attempt being made has a `_Watch`."""

    def __init__(self, sock: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(sock, *args, **kwargs)
        watch = getattr(_attempt, "watch", None)
        if watch is not None:
            self.fp = io.BufferedReader(_WatchedIO(self.fp.detach(), sock, watch))


_ONE_WRITE_MAX = 64 * 1024  # larger bodies go in their own writes (no copy of a big upload)


class _OneWrite(http.client.HTTPConnection):
    """A connection that sends a request's headers and a small body in one write: the server wakes once per
    request, not once for the headers and again for the body (urllib3 writes them apart)."""

    _held: bytes | None = None
    _holding = False

    def putrequest(self, method: str, url: str, skip_host: bool = False, skip_accept_encoding: bool = False) -> None:
        self._held = None  # a request left half-sent by an error never leaks into the next one
        super().putrequest(method, url, skip_host=skip_host, skip_accept_encoding=skip_accept_encoding)

    def endheaders(self, message_body: Any = None, *, encode_chunked: bool = False) -> None:
        self._holding = True
        try:
            super().endheaders(message_body, encode_chunked=encode_chunked)
        finally:
            self._holding = False

    def send(self, data: Any) -> None:
        if self._holding and isinstance(data, bytes):
            self._held = data  # the headers: sent with the body's first chunk, or before the response is read
            return
        held, self._held = self._held, None
        if held is not None:
            if isinstance(data, bytes) and len(data) <= _ONE_WRITE_MAX:
                data = held + data
            else:
                super().send(held)
        super().send(data)

    def getresponse(self) -> Any:
        held, self._held = self._held, None
        if held is not None:  # a request without a body: its headers go now
            super().send(held)
        return super().getresponse()


_WATCHED: dict[type, type] = {}


def _watched(connection_class: type) -> type:
    """The pool's connection class, reading its responses through `_WatchedResponse`."""
    if connection_class not in _WATCHED:
        name = f"Watched{connection_class.__name__}"
        bases = (connection_class,) if issubclass(connection_class, _OneWrite) else (_OneWrite, connection_class)
        _WATCHED[connection_class] = type(name, bases, {"response_class": _WatchedResponse})
    return _WATCHED[connection_class]


class RequestsTransport:
    """A Transport over `requests`; with its own session it skips the per-call work `Session.request` redoes."""

    def __init__(self, session: requests.Session | None = None) -> None:
        import requests

        self._own = session is None
        self._session = session if session is not None else requests.Session()
        self._hosts: dict[str, tuple[Any, dict[str, str]]] = {}
        self._lock = threading.Lock()

    def proxied(self, url: str) -> bool:
        """Whether this transport sends `url` through a proxy (the session's or the environment's; never loopback)."""
        if is_loopback_url(url):
            return False
        import requests

        s = self._session
        env = s.merge_environment_settings(url, {}, None, s.verify, s.cert)
        return bool(env["proxies"]) and requests.utils.select_proxy(url, env["proxies"]) is not None

    def _host(self, url: str) -> tuple[Any, dict[str, str]] | None:
        """The urllib3 pool and default headers for a host, set up once; None when a proxy applies to the host
        (loopback never goes through a proxy: its pool connects directly)."""
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc}"
        found = self._hosts.get(key)
        if found is not None:
            return found
        import requests

        if self.proxied(url):
            return None
        with self._lock:  # threads meeting a new host set its pool up once (wrapping its connection class once)
            found = self._hosts.get(key)
            if found is None:
                s = self._session
                env = s.merge_environment_settings(key + "/", {}, None, s.verify, s.cert)
                probe = requests.Request("GET", key + "/").prepare()
                adapter: Any = s.get_adapter(key + "/")
                pool = adapter.get_connection_with_tls_context(probe, env["verify"], None, env["cert"])
                pool.ConnectionCls = _stoppable(_watched(pool.ConnectionCls))  # a new pool: all are watched
                found = (pool, {str(k): str(v) for k, v in s.headers.items()})
                self._hosts[key] = found
        return found

    def send(self, request: Request) -> Response:
        started = time.monotonic()
        host = self._host(request.url) if self._own else None
        response = self._send_pool(request, *host) if host is not None else self._send_session(request)
        logger.debug(
            "%s %s -> %s in %.1f ms",
            request.method,
            redact_url(request.url),
            response.status_code,
            (time.monotonic() - started) * 1e3,
        )
        return response

    def _send_pool(self, request: Request, pool: Any, defaults: dict[str, str]) -> Response:
        """One attempt straight on requests' urllib3 pool: the per-call work of `Session.request` done once per host."""
        from urllib3 import Timeout
        from urllib3 import exceptions as u3

        parts = urlsplit(request.url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = {**defaults, **request.headers}
        if request.body is not None:
            headers["Content-Length"] = str(len(request.body))
        watch = _attempt.watch = _Watch(request.deadline, request.timeout)
        try:
            raw = pool.urlopen(
                request.method,
                path,
                body=request.body,
                headers=headers,
                redirect=False,
                assert_same_host=False,
                preload_content=False,
                decode_content=False,
                retries=False,
                timeout=Timeout(connect=request.timeout, read=request.timeout),
            )
        except u3.NewConnectionError as exc:
            raise ConnectError(connect_reason(exc, request.url)) from None
        except u3.ConnectTimeoutError as exc:
            raise ConnectTimeout(f"connect timeout: {_reason(exc)}") from None
        except (u3.ReadTimeoutError, TimeoutError) as exc:
            if watch.expired():
                raise ReadTimeout("read timeout: total_timeout passed while the headers were arriving") from None
            raise ReadTimeout(f"read timeout: {_reason(exc)}") from None
        except u3.SSLError as exc:
            raise TLSError(f"TLS error: {_reason(exc)}") from None
        except (u3.HTTPError, OSError) as exc:
            if watch.received:  # response bytes had arrived: the server may have acted on the request
                raise ReadError(f"connection broken while the headers were arriving: {_reason(exc)}") from None
            raise ConnectError(_reason(exc)) from None
        finally:
            _attempt.watch = None
        headers_out = {k.lower(): v for k, v in raw.headers.items()}
        if request.stream and raw.status < 400:
            chunks = _stream(raw, request.deadline)
            return Response(raw.status, headers_out, chunks=chunks, close=chunks.close)
        content = _read_body(raw, request)
        raw.release_conn()
        return Response(raw.status, headers_out, content=content)

    def _send_session(self, request: Request) -> Response:
        """One attempt through `Session.request`: a user's session (adapters, auth, hooks) or a proxied host."""
        import requests

        try:
            raw = self._session.request(
                request.method,
                request.url,
                headers=request.headers,
                data=request.body,
                timeout=request.timeout,
                stream=True,
                allow_redirects=False,  # the client follows redirects, by the one rule of every path
                proxies=_no_proxies(request.url, self._session.proxies) if is_loopback_url(request.url) else None,
            )
        except requests.exceptions.ConnectTimeout as exc:
            raise ConnectTimeout(f"connect timeout: {_reason(exc)}") from None
        except requests.exceptions.ReadTimeout as exc:
            raise ReadTimeout(f"read timeout: {_reason(exc)}") from None
        except requests.exceptions.SSLError as exc:
            raise TLSError(f"TLS error: {_reason(exc)}") from None
        except requests.exceptions.ConnectionError as exc:
            if _answered(exc):  # not an HTTP response, but response bytes: the server may have acted on it
                raise ReadError(f"connection broken while the headers were arriving: {_reason(exc)}") from None
            raise ConnectError(connect_reason(exc, request.url)) from None
        except requests.exceptions.RequestException as exc:
            raise TransportError(_reason(exc)) from None
        headers = {k.lower(): v for k, v in raw.headers.items()}
        if request.stream and raw.status_code < 400:
            chunks = _stream(raw.raw, request.deadline)
            return Response(raw.status_code, headers, chunks=chunks, close=chunks.close)
        try:
            content = _read_body(raw.raw, request) if raw.raw is not None else b""
        finally:
            raw.close()
        return Response(raw.status_code, headers, content=content)

    def close(self) -> None:
        """Closes the pooled connections this transport opened (a user's session is left to its owner)."""
        with self._lock:
            pools, self._hosts = list(self._hosts.values()), {}
        for pool, _ in pools:
            pool.close()
        if self._own:
            self._session.close()


def _no_proxies(url: str, configured: Any) -> dict[str, Any]:
    """requests' per-call `proxies` that switch off every proxy for `url` (the session's and the environment's)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    keys = {*(configured or {}), "http", "https", "all", f"{parts.scheme}://{host}", f"all://{host}"}
    return {key: None for key in keys if key != "no_proxy"}


@functools.cache
def _stoppable(base: type[Any]) -> type[Any]:
    """urllib3's connection class, registering each connection that carries a request with the stop scope of the
    batch it runs in (`client.imap`), so that stopping the batch shuts the sockets its threads are blocked on."""
    if getattr(base, "_typed_inference_stoppable", False):
        return base

    class Stoppable(base):  # type: ignore[misc]
        _typed_inference_stoppable = True

        def connect(self) -> None:
            super().connect()
            scope = current_scope()
            if scope is not None and not scope.enter(self, self._shut):
                self.close()
                raise ConnectionAbortedError("the batch was stopped")

        def request(self, *args: Any, **kwargs: Any) -> None:
            scope = current_scope()
            if scope is not None and not scope.enter(self, self._shut):
                raise ConnectionAbortedError("the batch was stopped")
            super().request(*args, **kwargs)

        def _shut(self) -> None:
            sock = self.sock
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)

    Stoppable.__name__ = Stoppable.__qualname__ = f"Stoppable{base.__name__}"
    return Stoppable


def _read_body(raw: Any, request: Request) -> bytes:
    """The whole body of a urllib3 response within the request's deadline and size limit; closes it on failure."""
    from urllib3 import exceptions as u3

    try:
        return _read_until(raw, request.deadline, request.max_bytes)
    except ResponseTooLarge:
        raw.close()
        raise
    except (u3.ReadTimeoutError, TimeoutError) as exc:
        raw.close()
        raise ReadTimeout(f"read timeout: {_reason(exc)}") from None
    except Exception as exc:
        raw.close()
        raise ReadError(f"connection broken while reading the body: {_reason(exc)}") from None


def _read_until(raw: Any, deadline: float | None, max_bytes: int | None = None) -> bytes:
    """The whole body, read as it arrives; a TimeoutError once `deadline` passes (the call's total_timeout),
    a ResponseTooLarge once it grows past `max_bytes`."""
    if deadline is None and max_bytes is None:
        return bytes(raw.read(decode_content=True))
    parts, size = [], 0
    while chunk := raw.read1(1 << 20, decode_content=True):
        parts.append(chunk)
        size += len(chunk)
        if max_bytes is not None and size > max_bytes:
            raise ResponseTooLarge(max_bytes)
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError("total_timeout passed while the body was arriving")
    return b"".join(parts)


def _stream(raw: Any, deadline: float | None = None) -> Generator[bytes, None, None]:
    """The body of a urllib3 response in chunks as they arrive; drops the connection when abandoned early."""
    complete = False
    try:
        if raw.chunked:
            for chunk in raw.stream(None, decode_content=True):
                if chunk:
                    yield chunk
        else:  # a Content-Length or close-delimited body: hand on whatever has arrived
            while chunk := raw.read1(65536, decode_content=True):
                yield chunk
        complete = True
    except Exception as exc:
        if deadline is not None and time.monotonic() >= deadline:
            raise ReadTimeout("total_timeout passed while the stream was arriving") from None
        raise ReadError(f"connection broken during the stream: {_reason(exc)}") from None
    finally:
        if not complete:
            raw.close()
        raw.release_conn()


def _answered(exc: BaseException) -> bool:
    """Whether a failure wraps http.client's word that bytes arrived which are not a valid response (a bad status
    line, a header line too long): a user's session, whose reads are not counted, is judged by this. A reset is
    ambiguous there (before the first byte, or in the middle of the headers) and stays retryable."""
    seen: list[BaseException] = []
    todo = [exc]
    while todo:
        item = todo.pop()
        if any(item is s for s in seen):
            continue
        seen.append(item)
        if isinstance(item, http.client.HTTPException) and not isinstance(item, http.client.RemoteDisconnected):
            return True
        todo += [arg for arg in item.args if isinstance(arg, BaseException)]
        todo += [e for e in (item.__cause__, item.__context__) if e is not None]
    return False


def _reason(exc: BaseException) -> str:
    """A short message for a requests/urllib3 error, without the nested reprs."""
    inner: BaseException | None = exc
    while inner is not None and inner.args and isinstance(inner.args[0], BaseException):
        inner = inner.args[0]
    reason = getattr(inner, "reason", None)
    if isinstance(reason, BaseException):
        inner = reason
    text = str(inner) if inner is not None else str(exc)
    return text or type(exc).__name__


def connect_reason(exc: BaseException, url: str) -> str:
    """The message of a failed connection, from the socket's own error however deep the HTTP stack wrapped it:
    a refused connection names the address (and, on this machine, asks whether the server is running)."""
    causes = _causes(exc)
    if any(isinstance(c, ConnectionRefusedError) for c in causes):
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = parts.port or (443 if parts.scheme == "https" else 80)
        address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        hint = ": is the server running?" if is_loopback(host) else ""
        return f"connection refused by {address}{hint}"
    unresolved = next((c for c in causes if isinstance(c, socket.gaierror)), None)
    if unresolved is not None:
        return f"name resolution failed for {urlsplit(url).hostname or '?'}: {unresolved.strerror or unresolved}"
    text = _CONNECTION_REPR.sub("", _reason(exc))  # urllib3 prefixes its connection class's repr: words only
    errno = next((c for c in causes if isinstance(c, OSError) and c.errno is not None), None)
    return text if errno is None or str(errno) in text else f"{text}: {errno}"


_CONNECTION_REPR = re.compile(r"^\w+\(host=[^)]*\):\s*")


def _causes(exc: BaseException) -> list[BaseException]:
    """`exc` and every exception behind it: its arguments, its `reason`, what it was raised from or during."""
    found: list[BaseException] = []
    todo = [exc]
    while todo:
        current = todo.pop(0)
        if any(current is seen for seen in found):
            continue
        found.append(current)
        todo += [arg for arg in current.args if isinstance(arg, BaseException)]
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            todo.append(reason)
        inner = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
        if inner is not None:
            todo.append(inner)
    return found
