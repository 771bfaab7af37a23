"""Streams of server-sent events, parsed into typed events; the HTTP response closes when the stream does."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any, Generic, TypeVar

from pydantic import TypeAdapter, ValidationError

from typed_inference._errors import IncompleteStreamError, ResponseValidationError, StreamError
from typed_inference._transport import TransportError
from typed_inference._validation import describe

T = TypeVar("T")
DONE = b"[DONE]"


def sse_data(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The `data` of each server-sent event, however the bytes were split across chunks.

    Events are separated by a blank line; `data:` may or may not be followed by a space; several `data` lines
    of one event are joined by newlines; other fields and comments are ignored. A trailing partial event is
    reported by raising IncompleteStreamError.
    """
    buffer = b""
    for chunk in chunks:
        buffer += chunk
        if b"\r" in buffer:
            if buffer.endswith(b"\r"):
                continue  # a \r\n may be split across chunks
            buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        while True:
            end = buffer.find(b"\n\n")
            if end < 0:
                break
            event, buffer = buffer[:end], buffer[end + 2 :]
            data = _data(event)
            if data is not None:
                yield data
    rest = buffer.replace(b"\r", b"").strip(b"\n")
    if rest:
        data = _data(rest)
        if data is not None:
            raise IncompleteStreamError(f"the stream ended inside an event: {rest[:80]!r}")


def _data(event: bytes) -> bytes | None:
    lines = [
        line[6:] if line.startswith(b"data: ") else line[5:] for line in event.split(b"\n") if line.startswith(b"data:")
    ]
    return b"\n".join(lines) if lines else None


class Stream(Generic[T]):
    """Typed events of a streaming call. Iterate it; leaving early, `close()`, `with` or garbage collection
    closes the HTTP response. An error event raises StreamError; a stream cut before its final event raises
    IncompleteStreamError.
    """

    def __init__(
        self,
        chunks: Iterator[bytes],
        close: Callable[[], None] | None,
        adapter: TypeAdapter[T],
        *,
        end: str,
        task: str,
    ) -> None:
        self._chunks = chunks
        self._close = close
        self._events = sse_data(chunks)
        self._adapter = adapter
        self._end = end
        self._task = task
        self._finished = False
        self._closed = False

    def __iter__(self) -> Iterator[T]:
        return self

    def __next__(self) -> T:
        if self._finished or self._closed:
            self.close()
            raise StopIteration
        try:
            data = next(self._events)
        except StopIteration:
            self.close()
            raise IncompleteStreamError(
                f"{self._task}: the stream ended before its final event ({self._end_text()})"
            ) from None
        except TransportError as exc:
            self.close()
            raise IncompleteStreamError(f"{self._task}: the stream broke before its final event: {exc}") from None
        except BaseException:
            self.close()
            raise
        if self._end == "[DONE]" and data.strip() == DONE:
            self._finished = True
            self.close()
            raise StopIteration
        if b'"error"' in data:
            self._raise_if_error(data)
        try:
            event = self._adapter.validate_json(data)
        except ValidationError as exc:
            self.close()
            lines = describe(exc.errors(include_url=False))
            raise ResponseValidationError(
                f"{self._task}: a stream event does not match the schema:\n  " + "\n  ".join(lines[:10]),
                status_code=200,
                body=data,
                errors=exc.errors(include_url=False),
            ) from None
        if self._end != "[DONE]" and getattr(event, self._end, None) is not None:
            self._finished = True
        return event

    def _end_text(self) -> str:
        return "data: [DONE]" if self._end == "[DONE]" else f"an event with {self._end}"

    def _raise_if_error(self, data: bytes) -> None:
        try:
            parsed: Any = json.loads(data)
        except ValueError:
            return
        if isinstance(parsed, dict) and "error" in parsed:
            self.close()
            error = parsed["error"]
            message = error.get("message", json.dumps(error)) if isinstance(error, dict) else str(error)
            error_type = parsed.get("error_type")
            raise StreamError(f"{self._task}: error event in the stream: {message}", error_type)

    def close(self) -> None:
        """Closes the HTTP response (the connection is dropped when the body was not read to its end)."""
        if self._closed:
            return
        self._closed = True
        close_events = getattr(self._events, "close", None)
        if close_events is not None:
            close_events()
        close_chunks = getattr(self._chunks, "close", None)
        if close_chunks is not None:
            close_chunks()
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
