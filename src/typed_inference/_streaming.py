"""Streams of server-sent events, parsed into typed events; the HTTP response closes when the stream does."""

from __future__ import annotations

import contextlib
import json
import re
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from types import TracebackType
from typing import Any, Generic, TypeVar

from pydantic import TypeAdapter, ValidationError

from typed_inference._error_messages import describe
from typed_inference._errors import (
    IncompleteStreamError,
    InferenceError,
    Redactor,
    ResponseValidationError,
    StreamError,
)
from typed_inference._task import TaskSpec
from typed_inference.transport import TransportError

T = TypeVar("T")
DONE = b"[DONE]"
_LINE_END = re.compile(rb"\r\n|\r|\n")


class SSEParser:
    """Splits server-sent events fed in arbitrary chunks and returns the `data` of each complete event.

    Lines end with `\\n`, `\\r\\n` or `\\r`; `data:` may or may not be followed by a space; other fields and
    comments are ignored. An event ends at a blank line, and also (framing seen on real servers):
    - on a single line end, when the pending event is exactly one `data:` line holding complete JSON and the next
      line starts a new `data:` field (each line is tried as JSON at most once; `data:` lines that are not
      complete JSON on their own are joined by newlines, as the SSE standard says);
    - at the end of the body (`end()`), when the pending data is complete JSON (or `[DONE]`).

    Every byte fed is scanned once for line ends, and a line at most once more when tried as JSON: `scanned`
    counts both, so a test can check the work is linear in the body size however the bytes are chunked.
    """

    def __init__(self) -> None:
        self._line: list[bytes] = []  # pieces of the line not ended yet (a line may span many chunks)
        self._data: list[bytes] = []  # `data` values of the pending event
        self._start = b""  # the pending event's first raw line (its start, for error messages)
        self._after_cr = False  # the previous chunk ended with \r: a \n opening this chunk belongs to it
        self._cut = False  # the body ended inside an event
        self.scanned = 0

    def feed(self, chunk: bytes) -> list[bytes]:
        """The data of every event the chunk completes."""
        found: list[bytes] = []
        pos = 0
        if self._after_cr and chunk[:1] == b"\n":
            pos = 1
        self._after_cr = False
        size = len(chunk)
        while pos < size:
            match = _LINE_END.search(chunk, pos)
            if match is None:
                self.scanned += size - pos
                self._line.append(chunk[pos:])
                break
            self.scanned += match.end() - pos
            piece = chunk[pos : match.start()]
            if self._line:
                self._line.append(piece)
                piece = b"".join(self._line)
                self._line = []
            self._take(piece, found)
            pos = match.end()
            if match.group() == b"\r" and pos == size:
                self._after_cr = True
        return found

    def end(self) -> list[bytes]:
        """At the end of the body: the data of the events still pending (the last one may lack its blank line).
        Raises IncompleteStreamError when the body stopped inside an event (pending data that is not complete
        JSON), once the complete events before it were returned: call it until it returns nothing."""
        found: list[bytes] = []
        if self._line:
            line = b"".join(self._line)
            self._line = []
            self._take(line, found)
        if self._data:
            data = b"\n".join(self._data)
            if self._cut or not self._complete(data):
                self._cut = True
                if found:
                    return found  # those first; the next call raises
                raise IncompleteStreamError(f"the stream ended inside an event: {self._start[:80]!r}")
            found.append(data)
            self._data = []
        return found

    def _take(self, line: bytes, found: list[bytes]) -> None:
        """Handles one complete line."""
        if not line:
            if self._data:
                found.append(b"\n".join(self._data))
                self._data = []
            return
        if not line.startswith(b"data:"):
            return  # comments and the fields we do not use (event, id, retry)
        value = line[6:] if line[5:6] == b" " else line[5:]
        if len(self._data) == 1 and self._complete(self._data[0]):
            found.append(self._data[0])  # one `\n` between events: the pending line was a whole event
            self._data = []
        if not self._data:
            self._start = line[:80]
        self._data.append(value)

    def _complete(self, data: bytes) -> bool:
        """Whether event data is complete JSON (or the `[DONE]` marker); counted as scanned."""
        self.scanned += len(data)
        if data.strip() == DONE:
            return True
        try:
            json.loads(data)
        except ValueError:
            return False
        except RecursionError:  # too deep to tell: an event (the decoder then refuses it, typed)
            return True
        return True


class EventDecoder(Generic[T]):
    """Turns event data into typed events: `[DONE]`, error events, wire variants, validation, and the end rules."""

    def __init__(
        self,
        adapter: TypeAdapter[T],
        *,
        end: str,
        task: str,
        closes_after: str | None = None,
        spec: TaskSpec | None = None,
        redactor: Redactor | None = None,
        transform: Callable[[Any], Any] | None = None,
    ) -> None:
        self.adapter = adapter
        self.transform = transform  # a provider's event (parsed JSON) → the task's event, or None to skip it
        self.redactor = redactor or Redactor()  # masks the client's tokens in every error the stream raises
        self.end = end
        self.task = task
        self.closes_after = closes_after
        self.spec = spec
        self.finished = False
        self.closable = False  # an event allowed the stream to close without its final marker
        # a field a variant renames may sit beside an optional target and validate as an extra: look for it first
        variants = spec.wire_variants if spec is not None else ()
        self._renamed = tuple(f'"{v.args["from"]}"'.encode() for v in variants if v.op == "rename")

    @classmethod
    def for_task(
        cls, spec: TaskSpec, redactor: Redactor | None = None, transform: Callable[[Any], Any] | None = None
    ) -> EventDecoder[Any]:
        """The decoder of a streaming task's events (its event type and how its stream ends, from the registry);
        with `transform`, of a provider's OpenAI-style stream (ended by `[DONE]`) mapped into the task's events."""
        from typed_inference._decode import stream_adapter

        assert spec.stream_end is not None
        return EventDecoder(
            stream_adapter(spec),
            end=spec.stream_end if transform is None else "[DONE]",
            task=spec.task,
            closes_after=spec.stream_closes_after if transform is None else spec.stream_end,
            spec=spec,
            redactor=redactor,
            transform=transform,
        )

    def decode(self, data: bytes) -> T | None:
        """The typed event, or None for the `[DONE]` marker (which finishes the stream)."""
        if self.end == "[DONE]" and data.strip() == DONE:
            self.finished = True
            return None
        try:
            if b'"error"' in data:
                self._raise_if_error(data)
            if self.transform is not None:
                return self._transformed(data)
            event = self._validated(data, shaped_first=any(field in data for field in self._renamed))
        except RecursionError:  # JSON nested deeper than Python's recursion limit
            raise ResponseValidationError(
                f"{self.task}: a stream event is nested too deeply to read", status_code=200, body=data
            ) from None
        if self.end != "[DONE]" and _value_at(event, self.end) is not None:
            self.finished = True
        if self.closes_after is not None and _value_at(event, self.closes_after) is not None:
            self.closable = True
        return event

    def _transformed(self, data: bytes) -> T | None:
        """A provider's event mapped by `transform` and validated as the task's event (None: nothing to yield)."""
        assert self.transform is not None
        try:
            parsed = json.loads(data)
        except ValueError as exc:
            raise ResponseValidationError(
                f"{self.task}: a stream event is not JSON: {exc}", status_code=200, body=data
            ) from None
        mapped = self.transform(parsed)
        if mapped is None:
            return None
        try:
            event = self.adapter.validate_python(mapped)
        except ValidationError as exc:
            lines = describe(exc.errors(include_url=False))
            raise ResponseValidationError(
                f"{self.task}: a stream event does not match the schema:\n  " + "\n  ".join(lines[:10]),
                status_code=200,
                body=data,
            ) from None
        if self.closes_after is not None and _value_at(event, self.closes_after) is not None:
            self.closable = True
        return event

    def _validated(self, data: bytes, *, shaped_first: bool) -> T:
        """The typed event, through the task's wire variants when it does not validate as it is (tool-call
        arguments sent as an object) or when it holds a field a variant renames; else the validation error."""
        error: ValidationError | None = None
        if not shaped_first:
            try:
                return self.adapter.validate_json(data)
            except ValidationError as exc:
                error = exc
        shaped, seen = self._shaped(data)
        try:
            if seen:
                return self.adapter.validate_python(shaped)
            if error is None:
                return self.adapter.validate_json(data)
        except ValidationError as exc:
            error = exc
        assert error is not None
        lines = describe(error.errors(include_url=False))
        raise ResponseValidationError(
            f"{self.task}: a stream event does not match the schema:\n  " + "\n  ".join(lines[:10]),
            status_code=200,
            body=data,
            errors=error.errors(include_url=False),
        ) from None

    def _shaped(self, data: bytes) -> tuple[Any, list[str]]:
        """The event data with the task's wire variants applied, and the names of those that applied."""
        if self.spec is None or not self.spec.wire_variants:
            return None, []
        from typed_inference._wire import WireShapeError, normalise

        try:
            return normalise(self.spec, json.loads(data))
        except (ValueError, WireShapeError):
            return None, []

    def at_close(self) -> None:
        """The body ended with no event left: finishes the stream when an event allowed that, else raises."""
        if not self.closable:
            raise self.ended_early()
        self.finished = True

    def ended_early(self) -> IncompleteStreamError:
        end = "data: [DONE]" if self.end == "[DONE]" else f"an event with {self.end}"
        if self.closes_after is not None:
            end += f", or an event with {self.closes_after} before the body ends"
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


def _value_at(event: Any, path: str) -> Any:
    """The value at a dotted path of an event (attribute names; a number indexes a list); None when absent."""
    node = event
    for key in path.split("."):
        if isinstance(node, list):
            if not key.isdigit() or int(key) >= len(node):
                return None
            node = node[int(key)]
        else:
            node = getattr(node, key, None)
        if node is None:
            return None
    return node


def _stream_repr(stream: object, decoder: EventDecoder[Any], closed: bool) -> str:
    """`<Stream of text-generation events: open>`; then `finished` (its final event was read) or `closed`."""
    state = "finished" if decoder.finished else "closed" if closed else "open"
    return f"<{type(stream).__name__} of {decoder.task} events: {state}>"


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
        self._pending: deque[bytes] = deque()
        self._body_ended = False
        self._closed = False

    def __iter__(self) -> Iterator[T]:
        return self

    def __next__(self) -> T:
        try:
            while not (self._decoder.finished or self._closed):
                if not self._pending:
                    if self._body_ended:
                        self._pending.extend(self._parser.end())  # raises when the body stopped inside an event
                        if self._pending:
                            continue
                        self._decoder.at_close()
                        break
                    chunk = next(self._chunks, None)
                    if chunk is None:
                        self._body_ended = True
                        self._pending.extend(self._parser.end())
                    else:
                        self._pending.extend(self._parser.feed(chunk))
                    continue
                event = self._decoder.decode(self._pending.popleft())
                if event is not None:
                    return event
        except TransportError as exc:
            self.close()
            raise self._decoder.redactor.error(self._decoder.broken(exc)) from None
        except InferenceError as exc:
            self.close()
            self._decoder.redactor.error(exc)  # masked in place
            raise
        except BaseException:
            self.close()
            raise
        self.close()
        raise StopIteration

    def __repr__(self) -> str:
        return _stream_repr(self, self._decoder, self._closed)

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
        self._pending: deque[bytes] = deque()
        self._body_ended = False
        self._closed = False

    def __aiter__(self) -> AsyncIterator[T]:
        return self

    async def __anext__(self) -> T:
        try:
            while not (self._decoder.finished or self._closed):
                if not self._pending:
                    if self._body_ended:
                        self._pending.extend(self._parser.end())  # raises when the body stopped inside an event
                        if self._pending:
                            continue
                        self._decoder.at_close()
                        break
                    try:
                        chunk = await self._chunks.__anext__()
                    except StopAsyncIteration:
                        self._body_ended = True
                        self._pending.extend(self._parser.end())
                    else:
                        self._pending.extend(self._parser.feed(chunk))
                    continue
                event = self._decoder.decode(self._pending.popleft())
                if event is not None:
                    return event
        except TransportError as exc:
            await self.aclose()
            raise self._decoder.redactor.error(self._decoder.broken(exc)) from None
        except InferenceError as exc:
            await self.aclose()
            self._decoder.redactor.error(exc)  # masked in place
            raise
        except BaseException:
            await self.aclose()
            raise
        await self.aclose()
        raise StopAsyncIteration

    def __repr__(self) -> str:
        return _stream_repr(self, self._decoder, self._closed)

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
