"""What a backend is, and what it declares it can do for each task it serves: answer, stream, batch, nest."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from typed_inference.server.resolve import ModelSource

Emit = Callable[[Any], None]


@dataclass(frozen=True)
class Batching:
    """A task whose requests share forward passes (the server's micro-batching): requests whose keys are equal are
    run together, item by item.

    `split(backend, body)` gives a request's key and items; `run(backend, key, items)` one outcome per item (a
    ServerError for an item that alone fails); `join(backend, body, outcomes)` the request's answer.
    """

    split: Callable[[Any, Any], tuple[Hashable, list[Any]]]
    run: Callable[[Any, Any, list[Any]], list[Any]]
    join: Callable[[Any, Any, list[Any]], Any]


@dataclass(frozen=True)
class Serving:
    """What a backend does for one task; the server reads this instead of knowing tasks by name.

    `run(backend, body)` answers one request with the task's canonical JSON data; for tasks whose input is a file
    it is `run(backend, body, data)` with the file's bytes. `stream(backend, body, emit)`, for tasks that stream,
    calls `emit` with every event. `batching` micro-batches requests. `nesting(backend, body)` counts the list
    levels the answer wraps around the task's output beyond a batch's (fill-mask: one list per mask).
    `wire(backend, body, answer)` reshapes the validated canonical answer into the hosted service's shape (what
    `huggingface_hub`'s `InferenceClient` reads: text-classification's `[[...]]` for one text, summarization's
    `[{...}]`); without it the canonical answer is sent.
    """

    run: Callable[..., Any]
    stream: Callable[[Any, Any, Emit], None] | None = None
    batching: Batching | None = None
    nesting: Callable[[Any, Any], int] | None = None
    wire: Callable[[Any, Any, Any], Any] | None = None


class Backend:
    """A model loaded in memory, answering requests of the tasks in `serves` on a worker thread."""

    serves: ClassVar[Mapping[str, Serving]] = {}

    def __init__(self, source: ModelSource) -> None:
        self.source = source
        self.lock = threading.Lock()  # one request at a time per model: tokenizers and RNG state are shared
