"""A fault-injecting HTTP/1.1 server on 127.0.0.1 for the reliability suite: raw sockets, scripted misbehaviour.

`http.server` cannot misbehave enough (reset a connection mid-header, stop after the headers, cut a chunked body),
so this server speaks HTTP by hand. Every request it reads takes the next `Fault` from the script; a fault writes
whatever it likes and says whether the connection lives on. The server counts the requests it read (the attempts
a client made) and the connections still open, and stops itself after `lifetime` seconds whatever happens.

Helpers measure the client side too: `client_sockets(port)` counts this process's sockets connected to a port
(from /proc), and `refused_port()` gives a port where connections are refused.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import ssl
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

MAX_HEAD = 64 * 1024
POLL = 0.02


@dataclass
class Seen:
    """One request as the server read it: method, request target (a path, or a full URL for a proxy), headers."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes
    tls: bool = False  # it came over TLS (a server started with `tls=`)

    @property
    def path(self) -> str:
        return urlsplit(self.target).path if "://" in self.target else self.target.split("?")[0]

    def json(self) -> Any:
        return json.loads(self.body)


class Conn:
    """One accepted connection, as a fault sees it: send bytes, hold still, reset or close."""

    def __init__(self, sock: socket.socket, server: FaultServer) -> None:
        self.sock = sock
        self.server = server
        self.closed = False

    def send(self, data: bytes) -> bool:
        """Writes bytes (blocking, within the server's lifetime); False when the peer is gone."""
        try:
            self.sock.settimeout(max(POLL, self.server.remaining()))
            self.sock.sendall(data)
        except OSError:
            return False
        return True

    def reset(self) -> None:
        """Drops the connection with a TCP RST (SO_LINGER 0), as a crashed proxy or a killed worker does."""
        with contextlib.suppress(OSError):
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close()

    def close(self) -> None:
        """Closes the connection cleanly (FIN)."""
        if not self.closed:
            self.closed = True
            with contextlib.suppress(OSError):
                self.sock.close()

    def hold(self, seconds: float | None = None) -> bool:
        """Sends nothing until the peer closes (True), `seconds` pass or the server stops (False)."""
        deadline = time.monotonic() + (seconds if seconds is not None else self.server.remaining())
        self.sock.settimeout(POLL)
        while time.monotonic() < deadline and not self.server.stopping.is_set():
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return True
            if not data:
                return True
        return False

    def pause(self, seconds: float) -> bool:
        """Waits `seconds` between writes; False when the server is stopping."""
        return not self.server.stopping.wait(seconds)


class Fault:
    """A scripted behaviour for one request. Returns True to keep the connection for the next request."""

    name = "fault"

    def __call__(self, conn: Conn, request: Seen) -> bool:  # pragma: no cover - every fault overrides it
        raise NotImplementedError


def _head(status: int, headers: dict[str, str]) -> bytes:
    reason = {
        200: "OK",
        302: "Found",
        307: "Temporary Redirect",
        400: "Bad Request",
        401: "Unauthorized",
        429: "Too Many Requests",
        500: "Internal Server Error",
        502: "Bad Gateway",
        503: "Service Unavailable",
    }.get(status, "Status")
    lines = [f"HTTP/1.1 {status} {reason}", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _bytes(body: bytes | str | Any) -> bytes:
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return json.dumps(body).encode()


@dataclass
class Respond(Fault):
    """A well-formed response (the control case, and every status reply): keep-alive unless `close`."""

    status: int = 200
    body: bytes | str | Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    close: bool = False
    name = "respond"

    def __call__(self, conn: Conn, _request: Seen) -> bool:
        payload = _bytes(self.body)
        headers = {"Content-Type": self.content_type, "Content-Length": str(len(payload)), **self.headers}
        if self.close:
            headers["Connection"] = "close"
        conn.send(_head(self.status, headers) + payload)
        return not self.close


@dataclass
class ResetBeforeResponse(Fault):
    """Reads the request, then resets the connection before a single response byte."""

    name = "reset before the response"

    def __call__(self, conn: Conn, _request: Seen) -> bool:
        conn.reset()
        return False


@dataclass
class CloseBeforeResponse(Fault):
    """Reads the request, then closes the connection cleanly without answering (an idle-timeout race)."""

    name = "closed before the response"

    def __call__(self, conn: Conn, _request: Seen) -> bool:
        conn.close()
        return False


@dataclass
class ResetMidHeaders(Fault):
    """Sends part of the status line and headers, then resets: response bytes did arrive."""

    name = "reset during the headers"

    def __call__(self, conn: Conn, _request: Seen) -> bool:
        conn.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/js")
        time.sleep(POLL)  # let the bytes reach the client before the RST
        conn.reset()
        return False


@dataclass
class ResetMidBody(Fault):
    """Sends the headers (declaring the whole body) and the first `sent` bytes, then resets."""

    body: bytes = b""
    sent: int = 0
    name = "reset during the body"

    def __call__(self, conn: Conn, _request: Seen) -> bool:
        head = _head(200, {"Content-Type": "application/json", "Content-Length": str(len(self.body))})
        conn.send(head + self.body[: self.sent])
        time.sleep(POLL)
        conn.reset()
        return False


@dataclass
class Truncated(Fault):
    """Declares `Content-Length: declared`, sends a shorter body, then closes cleanly."""

    body: bytes = b""
    declared: int = 0
    name = "body shorter than its Content-Length"

    def __call__(self, conn: Conn, _request: Seen) -> bool:
        conn.send(_head(200, {"Content-Type": "application/json", "Content-Length": str(self.declared)}) + self.body)
        conn.close()
        return False


@dataclass
class ChunkedCut(Fault):
    """A chunked body that stops before its terminating chunk; then `end` ("close" or "reset")."""

    body: bytes = b""
    end: str = "close"
    name = "chunked body cut"

    def __call__(self, conn: Conn, _request: Seen) -> bool:
        head = _head(200, {"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
        conn.send(head + f"{len(self.body):x}\r\n".encode() + self.body + b"\r\n")
        time.sleep(POLL)
        conn.reset() if self.end == "reset" else conn.close()
        return False


@dataclass
class NotHttp(Fault):
    """Answers with bytes that are not an HTTP response (`data`: another protocol's banner, a broken status line),
    then closes: response bytes arrived, so the request is not repeated."""

    data: bytes = b"SSH-2.0-OpenSSH_9.6\r\n"
    name = "not an HTTP response"

    def __call__(self, conn: Conn, _request: Seen) -> bool:
        conn.send(self.data)
        time.sleep(POLL)
        conn.close()
        return False


@dataclass
class TrickleHead(Fault):
    """A status line, then header bytes one at a time, `interval` apart (`count` of them), then a complete empty
    200; `finished` says whether it got that far (a client bounding the headers closes before)."""

    interval: float = 0.05
    count: int = 200
    finished: bool = False
    name = "headers trickled"

    def __call__(self, conn: Conn, _request: Seen) -> bool:
        if not conn.send(b"HTTP/1.1 200 OK\r\nX-Trickle: "):
            return False
        for _ in range(self.count):
            if not conn.pause(self.interval) or not conn.send(b"a"):
                return False
        self.finished = conn.send(b"\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]")
        return False


@dataclass
class HeadersThenSilence(Fault):
    """Sends the status and headers (a 100-byte body announced), then nothing, until the client gives up."""

    name = "headers then silence"

    def __call__(self, conn: Conn, _request: Seen) -> bool:
        conn.send(_head(200, {"Content-Type": "application/json", "Content-Length": "100"}))
        conn.hold()
        return False


@dataclass
class Silence(Fault):
    """Reads the request and never answers, until the client gives up."""

    name = "silence before the headers"

    def __call__(self, conn: Conn, _request: Seen) -> bool:
        conn.hold()
        return False


@dataclass
class Trickle(Fault):
    """A complete, valid response whose body arrives `piece` bytes at a time, `interval` seconds apart."""

    body: bytes = b""
    pieces: int = 10
    interval: float = 0.02
    name = "slow trickle"

    def __call__(self, conn: Conn, _request: Seen) -> bool:
        if not conn.send(_head(200, {"Content-Type": "application/json", "Content-Length": str(len(self.body))})):
            return False
        step = max(1, -(-len(self.body) // self.pieces))
        for i in range(0, len(self.body), step):
            if not conn.pause(self.interval) or not conn.send(self.body[i : i + step]):
                return False
        return True


@dataclass
class Redirect(Fault):
    """A redirect to `location` (which may name another host)."""

    location: str = "/"
    status: int = 307
    name = "redirect"

    def __call__(self, conn: Conn, _request: Seen) -> bool:
        conn.send(_head(self.status, {"Location": self.location, "Content-Length": "0"}))
        return True


@dataclass
class LoadingModel(Fault):
    """A model that loads for `load_time` s from the first request, as hf-inference's cold models do: until then a
    request gets 503 with `estimated_time`, unless it carries `X-Wait-For-Model: true` and `honour_header` is set
    (the service then holds it and answers once the model is ready); afterwards 200 with `body`. Script the same
    instance for every request: it keeps the time the model became ready (`ready_at`, `time.monotonic()`)."""

    body: bytes | str | Any = b""
    load_time: float = 0.5
    estimated_time: float = 2.0
    honour_header: bool = True
    started: float | None = None
    held: int = 0  # requests held until the model was ready
    name = "loading model"

    @property
    def ready_at(self) -> float:
        assert self.started is not None
        return self.started + self.load_time

    def __call__(self, conn: Conn, request: Seen) -> bool:
        if self.started is None:
            self.started = time.monotonic()
        left = self.ready_at - time.monotonic()
        if left > 0:
            if not (self.honour_header and request.headers.get("x-wait-for-model") == "true"):
                error = {"error": "Model org/model is currently loading", "estimated_time": self.estimated_time}
                return Respond(503, error)(conn, request)
            self.held += 1
            if not conn.pause(left):
                return False
        return Respond(200, self.body)(conn, request)


@dataclass
class EventStream(Fault):
    """Server-sent events in `pieces`, `interval` apart, chunked; `end`: "complete" (the terminating chunk),
    "close" (a clean close without it), "reset" (a RST) or "stall" (silence until the client gives up)."""

    body: bytes = b""
    pieces: Iterable[bytes] | None = None
    interval: float = 0.0
    end: str = "complete"
    sent: int = 0  # pieces written (a client that closed early makes the server stop before the last one)
    finished: bool = False  # every piece was written
    name = "event stream"

    def __call__(self, conn: Conn, _request: Seen) -> bool:
        if not conn.send(_head(200, {"Content-Type": "text/event-stream", "Transfer-Encoding": "chunked"})):
            return False
        for piece in self.pieces if self.pieces is not None else [self.body]:
            if self.interval and not conn.pause(self.interval):
                return False
            if not conn.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n"):
                return False
            self.sent += 1
        self.finished = True
        if self.end == "complete":
            conn.send(b"0\r\n\r\n")
            return True
        time.sleep(POLL)
        if self.end == "reset":
            conn.reset()
        elif self.end == "stall":
            conn.hold()
        else:
            conn.close()
        return False


class FaultServer:
    """A threaded HTTP/1.1 server on 127.0.0.1 that plays a script of faults, one per request, for `lifetime` s."""

    def __init__(self, *, lifetime: float = 30.0, tls: ssl.SSLContext | None = None) -> None:
        self.lifetime = lifetime
        self.tls = tls  # also speak https on the same port: a connection opening with a TLS handshake is wrapped
        self.script: deque[Fault] = deque()
        self.requests: list[Seen] = []
        self.connections = 0  # accepted, in all
        self.open_connections = 0
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._socks: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._listener.settimeout(POLL)
        self.port: int = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.https_url = f"https://127.0.0.1:{self.port}"
        self._deadline = 0.0

    # -- scripting ------------------------------------------------------------------------------------------------
    def play(self, *faults: Fault) -> FaultServer:
        """Appends faults to the script: one per request, in order."""
        self.script.extend(faults)
        return self

    @property
    def attempts(self) -> int:
        """Requests read so far (every attempt the client made that reached the server)."""
        return len(self.requests)

    @property
    def last(self) -> Seen:
        return self.requests[-1]

    def remaining(self) -> float:
        return max(0.0, self._deadline - time.monotonic())

    # -- life cycle -----------------------------------------------------------------------------------------------
    def start(self) -> FaultServer:
        self._deadline = time.monotonic() + self.lifetime
        self._spawn(self._accept_loop)
        return self

    def stop(self) -> None:
        """Stops accepting, closes every connection and joins the threads (bounded)."""
        self.stopping.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            socks = list(self._socks)
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(2)

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_closed(self, timeout: float = 2.0) -> int:
        """Waits until the client closed every connection; returns how many are still open."""
        deadline = time.monotonic() + timeout
        while self.open_connections and time.monotonic() < deadline:
            time.sleep(POLL / 2)
        return self.open_connections

    def _spawn(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        while not self.stopping.is_set():
            if time.monotonic() > self._deadline:  # bounded lifetime: never outlive a stuck test
                self.stopping.set()
                break
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            with self._lock:
                self.connections += 1
                self.open_connections += 1
                self._socks.add(sock)
            self._spawn(self._serve, sock)
        with contextlib.suppress(OSError):
            self._listener.close()

    def _serve(self, accepted: socket.socket) -> None:
        sock = accepted
        conn = Conn(sock, self)
        buffer = b""
        try:
            tls = self.tls is not None and self._starts_tls(sock)
            if tls:
                assert self.tls is not None
                sock.settimeout(max(POLL, self.remaining()))
                conn.sock = sock = self.tls.wrap_socket(sock, server_side=True)
            while not conn.closed and not self.stopping.is_set():
                request, buffer = self._read_request(sock, buffer)
                if request is None:
                    break
                request.tls = tls
                with self._lock:
                    self.requests.append(request)
                    fault: Fault = (
                        self.script.popleft()
                        if self.script
                        else Respond(500, {"error": f"fault server: nothing scripted for request {self.attempts}"})
                    )
                if not fault(conn, request):
                    break
        finally:
            conn.close()
            with self._lock:
                self.open_connections -= 1
                self._socks.discard(accepted)

    def _starts_tls(self, sock: socket.socket) -> bool:
        """Whether the client opens with a TLS handshake record (peeked, not read)."""
        sock.settimeout(POLL)
        while not self.stopping.is_set():
            try:
                return sock.recv(1, socket.MSG_PEEK) == b"\x16"
            except TimeoutError:
                continue
            except OSError:
                return False
        return False

    def _read_request(self, sock: socket.socket, buffer: bytes) -> tuple[Seen | None, bytes]:
        """The next request on a keep-alive connection; None when the peer closed or the server stops."""
        sock.settimeout(POLL)
        while b"\r\n\r\n" not in buffer:
            if self.stopping.is_set() or len(buffer) > MAX_HEAD:
                return None, b""
            try:
                data = sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return None, b""
            if not data:
                return None, b""
            buffer += data
        head, _, rest = buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _version = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length") or 0)
        while len(rest) < length:
            try:
                data = sock.recv(65536)
            except TimeoutError:
                if self.stopping.is_set():
                    return None, b""
                continue
            except OSError:
                return None, b""
            if not data:
                return None, b""
            rest += data
        return Seen(method, target, headers, rest[:length]), rest[length:]


def self_signed(directory: str) -> tuple[ssl.SSLContext, str]:
    """A server TLS context for 127.0.0.1 and localhost with a self-signed certificate made by `openssl` in
    `directory`, and the certificate's path (the CA file a client must trust)."""
    import subprocess

    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    names = "subjectAltName=IP:127.0.0.1,DNS:localhost"
    request = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"]
    subprocess.run(
        ["openssl", *request, "-addext", names, "-keyout", key, "-out", cert],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context, cert


# -- measuring the client side ------------------------------------------------------------------------------------


def _socket_inodes() -> set[str]:
    """Inodes of every socket this process holds a file descriptor for."""
    found = set()
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/self/fd/{fd}")
            if target.startswith("socket:["):
                found.add(target[8:-1])
    return found


def client_sockets(port: int) -> int:
    """How many sockets this process holds that are connected (in any TCP state) to `port` on the other end."""
    mine = _socket_inodes()
    count = 0
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        try:
            with open(table, encoding="ascii") as fh:
                rows = fh.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            remote_port = int(cols[2].rsplit(":", 1)[1], 16)
            if remote_port == port and cols[9] in mine:
                count += 1
    return count


@contextlib.contextmanager
def refused_port() -> Iterator[int]:
    """A port on 127.0.0.1 that refuses connections: bound (so nobody else takes it) but not listening."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield int(sock.getsockname()[1])
    finally:
        sock.close()
