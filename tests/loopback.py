"""A minimal asyncio HTTP/1.1 keep-alive server for benchmarks: canned bodies by path, answered in microseconds."""

from __future__ import annotations

import asyncio
import multiprocessing
import socket
from multiprocessing.connection import Connection


def _response(body: bytes, content_type: bytes = b"application/json") -> bytes:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: " + content_type + b"\r\nContent-Length: " + str(len(body)).encode()
    return head + b"\r\nConnection: keep-alive\r\n\r\n" + body


async def _serve(sock: socket.socket, bodies: dict[str, bytes], delay: float) -> None:
    responses = {path.encode(): _response(body) for path, body in bodies.items()}
    missing = b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}"

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock_ = writer.get_extra_info("socket")
        if sock_ is not None:
            sock_.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                first, _, rest = head.partition(b"\r\n")
                path = first.split(b" ")[1]
                length = 0
                for line in rest.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                if length:
                    await reader.readexactly(length)
                if delay:
                    await asyncio.sleep(delay)
                writer.write(responses.get(path, missing))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, sock=sock, backlog=128)
    async with server:
        await server.serve_forever()


def _main(sock: socket.socket, bodies: dict[str, bytes], delay: float, ready: Connection) -> None:
    ready.send(True)
    asyncio.run(_serve(sock, bodies, delay))


class LoopbackServer:
    """Runs the server in its own process (so it never competes with the measured client for the GIL)."""

    def __init__(self, bodies: dict[str, bytes], delay: float = 0.0) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        parent, child = multiprocessing.Pipe()
        ctx = multiprocessing.get_context("fork")
        self.process = ctx.Process(target=_main, args=(self.sock, bodies, delay, child), daemon=True)
        self.process.start()
        parent.recv()

    def stop(self) -> None:
        self.process.terminate()
        self.process.join()
        self.sock.close()
