"""Streams of server-sent events, parsed into typed events; the HTTP response closes when the stream does."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from types import TracebackType
from typing import Any, Generic, TypeVar

from pydantic import TypeAdapter, ValidationError

from typed_inference._errors import IncompleteStreamError, ResponseValidationError, StreamError
from typed_inference._task import TaskSpec
from typed_inference._validation import describe
from typed_inference.transport import TransportError

T = TypeVar("T")
DONE = b"[DONE]"


class SSEParser:
    """Splits server-sent events fed in arbitrary chunks and returns the `data` of each complete event.

    Events are separated by a blank line; `data:` may or may not be followed by a space; several `data` lines
    of one event are joined by newlines; other fields and comments are ignored.
    """

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        buffer = self._buffer + chunk
        if b"\r" in buffer:
            if buffer.endswith(b"\r"):
                self._buffer = buffer  # a \r\n may be split across chunks
                return []
            buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        found = []
        while (end := buffer.find(b"\n\n")) >= 0:
            data = _data(buffer[:end])
            buffer = buffer[end + 2 :]
            if data is not None:
                found.append(data)
        self._buffer = buffer
        return found

    def end(self) -> None:
        """Checks that the stream did not stop inside an event."""
        rest = self._buffer.replace(b"\r", b"").strip(b"\n")
        if rest and _data(rest) is not None:
            raise IncompleteStreamError(f"the stream ended inside an event: {rest[:80]!r}")


def _data(event: bytes) -> bytes | None:
    lines = [
        line[6:] if line.startswith(b"data: ") else line[5:] for line in event.split(b"\n") if line.startswith(b"data:")
    ]
    return b"\n".join(lines) if lines else None


class EventDecoder(Generic[T]):
    """Turns event data into typed events: `[DONE]`, error events, validation, and the final-event rule."""

    def __init__(self, adapter: TypeAdapter[T], *, end: str, task: str) -> None:
        self.adapter = adapter
        self.end = end
        self.task = task
        self.finished = False

    @classmethod
    def for_task(cls, spec: TaskSpec) -> EventDecoder[Any]:
        """The decoder of a streaming task's events (its event type and how its stream ends, from the registry)."""
        from typed_inference._decode import stream_adapter

        assert spec.stream_end is not None
        return EventDecoder(stream_adapter(spec), end=spec.stream_end, task=spec.task)

    def decode(self, data: bytes) -> T | None:
        """The typed event, or None for the `[DONE]` marker (which finishes the stream)."""
        if self.end == "[DONE]" and data.strip() == DONE:
            self.finished = True
            return None
        if b'"error"' in data:
            self._raise_if_error(data)
        try:
            event = self.adapter.validate_json(data)
        except ValidationError as exc:
            lines = describe(exc.errors(include_url=False))
            raise ResponseValidationError(
                f"{self.task}: a stream event does not match the schema:\n  " + "\n  ".join(lines[:10]),
                status_code=200,
                body=data,
                errors=exc.errors(include_url=False),
            ) from None
        if self.end != "[DONE]" and getattr(event, self.end, None) is not None:
            self.finished = True
        return event

    def ended_early(self) -> IncompleteStreamError:
        end = "data: [DONE]" if self.end == "[DONE]" else f"an event with {self.end}"
        return IncompleteStreamError(f"{self.task}: the stream ended before its final event ({end})")

    def broken(self, exc: Exception) -> IncompleteStreamError:
        return IncompleteStreamError(f"{self.task}: the stream broke before its final event: {exc}")

    def _raise_if_error(self, data: bytes) -> None:
        try:
            parsed: Any = json.loads(data)
        except ValueError:
            return
        if isinstance(parsed, dict) and "error" in parsed:
            error = parsed["error"]
            message = error.get("message", json.dumps(error)) if isinstance(error, dict) else str(error)
            raise StreamError(f"{self.task}: error event in the stream: {message}", parsed.get("error_type"))


class Stream(Generic[T]):
    """Typed events of a streaming call. Iterate it; leaving early, `close()`, `with` or garbage collection
    closes the HTTP response. An error event raises StreamError; a stream cut before its final event raises
    IncompleteStreamError.
    """

    def __init__(self, chunks: Iterator[bytes], close: Callable[[], None] | None, decoder: EventDecoder[T]) -> None:
        self._chunks = chunks
        self._close = close
        self._decoder = decoder
        self._parser = SSEParser()
        self._pending: list[bytes] = []
        self._closed = False

    def __iter__(self) -> Iterator[T]:
        return self

    def __next__(self) -> T:
        try:
            while not (self._decoder.finished or self._closed):
                while not self._pending:
                    chunk = next(self._chunks, None)
                    if chunk is None:
                        self._parser.end()
                        raise self._decoder.ended_early()
                    self._pending = self._parser.feed(chunk)
                event = self._decoder.decode(self._pending.pop(0))
                if event is not None:
                    return event
        except TransportError as exc:
            self.close()
            raise self._decoder.broken(exc) from None
        except BaseException:
            self.close()
            raise
        self.close()
        raise StopIteration

    def close(self) -> None:
        """Closes the HTTP response (the connection is dropped when the body was not read to its end)."""
        if not self._closed:
            self._closed = True
            if self._close is not None:
                self._close()

    def __enter__(self) -> Stream[T]:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # best effort during garbage collection
            self.close()


class AsyncStream(Generic[T]):
    """The async twin of Stream: `async for` over typed events; `aclose()` or `async with` closes the response."""

    def __init__(
        self, chunks: AsyncIterator[bytes], close: Callable[[], Awaitable[None]] | None, decoder: EventDecoder[T]
    ) -> None:
        self._chunks = chunks
        self._close = close
        self._decoder = decoder
        self._parser = SSEParser()
        self._pending: list[bytes] = []
        self._closed = False

    def __aiter__(self) -> AsyncIterator[T]:
        return self

    async def __anext__(self) -> T:
        try:
            while not (self._decoder.finished or self._closed):
                while not self._pending:
                    try:
                        chunk = await self._chunks.__anext__()
                    except StopAsyncIteration:
                        self._parser.end()
                        raise self._decoder.ended_early() from None
                    self._pending = self._parser.feed(chunk)
                event = self._decoder.decode(self._pending.pop(0))
                if event is not None:
                    return event
        except TransportError as exc:
            await self.aclose()
            raise self._decoder.broken(exc) from None
        except BaseException:
            await self.aclose()
            raise
        await self.aclose()
        raise StopAsyncIteration

    async def aclose(self) -> None:
        """Closes the HTTP response."""
        if not self._closed:
            self._closed = True
            if self._close is not None:
                await self._close()

    async def __aenter__(self) -> AsyncStream[T]:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
