"""The requests implementation of `typed_inference.transport.Transport`: one attempt per `send`, pooled."""

from __future__ import annotations

import functools
import logging
import socket
import threading
import time
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from typed_inference._stop import current_scope
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


class RequestsTransport:
    """A Transport over `requests`; with its own session it skips the per-call work `Session.request` redoes."""

    def __init__(self, session: requests.Session | None = None) -> None:
        import requests

        self._own = session is None
        self._session = session if session is not None else requests.Session()
        self._hosts: dict[str, tuple[Any, dict[str, str]]] = {}
        self._lock = threading.Lock()

    def _host(self, url: str) -> tuple[Any, dict[str, str]] | None:
        """The urllib3 pool and default headers for a host, set up once; None when a proxy applies to the host."""
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc}"
        found = self._hosts.get(key)
        if found is None:
            import requests

            s = self._session
            env = s.merge_environment_settings(key + "/", s.proxies, None, s.verify, s.cert)
            if env["proxies"] and requests.utils.select_proxy(url, env["proxies"]):
                return None
            probe = requests.Request("GET", key + "/").prepare()
            adapter: Any = s.get_adapter(key + "/")
            pool = adapter.get_connection_with_tls_context(probe, env["verify"], None, env["cert"])
            pool.ConnectionCls = _stoppable(pool.ConnectionCls)
            found = (pool, {str(k): str(v) for k, v in s.headers.items()})
            with self._lock:
                self._hosts[key] = found
        return found

    def send(self, request: Request) -> Response:
        started = time.monotonic()
        host = self._host(request.url) if self._own else None
        response = self._send_pool(request, *host) if host is not None else self._send_session(request)
        logger.debug(
            "%s %s -> %s in %.1f ms",
            request.method,
            request.url,
            response.status_code,
            (time.monotonic() - started) * 1e3,
        )
        return response

    def _send_pool(self, request: Request, pool: Any, defaults: dict[str, str]) -> Response:
        """One attempt straight on requests' urllib3 pool: the per-call work of `Session.request` done once per host."""
        from urllib.parse import urlsplit

        from urllib3 import Timeout
        from urllib3 import exceptions as u3

        parts = urlsplit(request.url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = {**defaults, **request.headers}
        if request.body is not None:
            headers["Content-Length"] = str(len(request.body))
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
            raise ReadTimeout(f"read timeout: {_reason(exc)}") from None
        except u3.SSLError as exc:
            raise TLSError(f"TLS error: {_reason(exc)}") from None
        except (u3.HTTPError, OSError) as exc:
            raise ConnectError(_reason(exc)) from None
        headers_out = {k.lower(): v for k, v in raw.headers.items()}
        if request.stream and raw.status < 400:
            chunks = _stream(raw)
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
                allow_redirects=True,
            )
        except requests.exceptions.ConnectTimeout as exc:
            raise ConnectTimeout(f"connect timeout: {_reason(exc)}") from None
        except requests.exceptions.ReadTimeout as exc:
            raise ReadTimeout(f"read timeout: {_reason(exc)}") from None
        except requests.exceptions.SSLError as exc:
            raise TLSError(f"TLS error: {_reason(exc)}") from None
        except requests.exceptions.ConnectionError as exc:
            raise ConnectError(connect_reason(exc, request.url)) from None
        except requests.exceptions.RequestException as exc:
            raise TransportError(_reason(exc)) from None
        headers = {k.lower(): v for k, v in raw.headers.items()}
        if request.stream and raw.status_code < 400:
            chunks = _stream(raw.raw)
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


def _stream(raw: Any) -> Generator[bytes, None, None]:
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
        raise ReadError(f"connection broken during the stream: {_reason(exc)}") from None
    finally:
        if not complete:
            raw.close()
        raw.release_conn()


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
    from urllib.parse import urlsplit

    from typed_inference._base_client import is_loopback

    causes = _causes(exc)
    if any(isinstance(c, ConnectionRefusedError) for c in causes):
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = parts.port or (443 if parts.scheme == "https" else 80)
        address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        hint = ": is the server running?" if is_loopback(host) else ""
        return f"connection refused by {address}{hint}"
    text = _reason(exc)
    errno = next((c for c in causes if isinstance(c, OSError) and c.errno is not None), None)
    return text if errno is None or str(errno) in text else f"{text}: {errno}"


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
