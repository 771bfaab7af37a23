"""The models the server knows, loaded in the background one after another; 503 with `estimated_time` meanwhile."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from typed_inference.server.backends import Backend, load_backend
from typed_inference.server.errors import ServerError
from typed_inference.server.resolve import ModelSource, from_cache

logger = logging.getLogger("typed_inference.server")

State = Literal["idle", "queued", "loading", "ready", "failed"]


@dataclass
class ModelEntry:
    """One model: where it comes from, how far its loading got, and the backend once loaded."""

    source: ModelSource
    expected_seconds: float
    state: State = "idle"  # known, not asked for yet
    backend: Backend | None = None
    error: str | None = None
    started: float | None = None
    load_seconds: float | None = None
    future: Future[Backend] = field(default_factory=Future)
    users: int = 0  # requests using the model now (touched only on the event loop thread)
    last_used: float = 0.0

    def remaining(self, now: float) -> float:
        """Seconds this model still needs to load, by the estimate."""
        if self.state == "loading" and self.started is not None:
            return max(0.5, self.expected_seconds - (now - self.started))
        return self.expected_seconds if self.state == "queued" else 0.0


def _estimate(source: ModelSource) -> float:
    """Expected loading time: start-up costs plus reading and initialising the weights (~100 MB/s)."""
    return round(1.0 + source.size_bytes() / 100e6, 1)


def load_error(source: ModelSource, exc: Exception) -> str:
    """What went wrong loading a model, in a sentence: where from, as which task, and the first line of the cause."""
    if isinstance(exc, ValueError) and str(exc).startswith(source.model_id):
        return str(exc)  # load_backend's own words (a task no backend serves)
    cause = str(exc).strip().splitlines()[0] if str(exc).strip() else "no message"
    return f"cannot load {source.path} as a {source.task} model ({type(exc).__name__}: {cause})"


def failed(entry: ModelEntry) -> ServerError:
    """The 500 every call of a model that failed to load gets: the load error, never a raw exception."""
    return ServerError(500, f"Model {entry.source.model_id} failed to load: {entry.error}")


class ModelStore:
    """Registers models, loads them on a background thread in order, and hands out ready backends."""

    def __init__(self, sources: list[ModelSource], hf_cache: Path | None) -> None:
        self.hf_cache = hf_cache
        self._entries: dict[str, ModelEntry] = {}
        self._order: list[str] = []
        self._lock = threading.Lock()
        self._loader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model-loader")
        for source in sources:
            self._register(source)

    def _register(self, source: ModelSource) -> ModelEntry:
        entry = ModelEntry(source, _estimate(source))
        self._entries[source.model_id] = entry
        self._order.append(source.model_id)
        return entry

    def start(self) -> None:
        """Queues every registered model for loading (returns at once)."""
        with self._lock:
            for model_id in self._order:
                self._submit(self._entries[model_id])

    def _submit(self, entry: ModelEntry) -> None:
        """Queues a model for loading unless it already is (call with the lock held)."""
        if entry.state == "idle":
            entry.state = "queued"
            self._loader.submit(self._load, entry)

    def _load(self, entry: ModelEntry) -> None:
        entry.state, entry.started = "loading", time.monotonic()
        logger.info("loading %s (%s) from %s", entry.source.model_id, entry.source.task, entry.source.path)
        try:
            backend = load_backend(entry.source)
        except Exception as exc:  # any failure leaves the server up, answering 500 for this model
            entry.state, entry.error = "failed", load_error(entry.source, exc)
            logger.error("could not load %s: %s", entry.source.model_id, entry.error)
            entry.future.set_exception(exc)
            return
        entry.load_seconds = time.monotonic() - entry.started
        entry.backend, entry.state = backend, "ready"
        logger.info("%s ready in %.1f s", entry.source.model_id, entry.load_seconds)
        entry.future.set_result(backend)

    def entries(self) -> list[ModelEntry]:
        """Every known model, in registration order."""
        return [self._entries[m] for m in self._order]

    def lookup(self, model_id: str) -> ModelEntry | None:
        """The entry of a model id, registering (not loading) a model found in the Hugging Face cache."""
        with self._lock:
            entry = self._entries.get(model_id)
            if entry is None and self.hf_cache is not None:
                source = from_cache(model_id, self.hf_cache)
                if source is not None:
                    entry = self._register(source)
            return entry

    def get(self, model_id: str) -> ModelEntry:
        """The entry of a model, its loading started if it has not been; 404 when no source has it."""
        entry = self.lookup(model_id)
        if entry is None:
            raise ServerError(404, self.not_served(model_id))
        with self._lock:
            self._submit(entry)
        return entry

    def unload(self, entry: ModelEntry) -> None:
        """Forgets a loaded model's backend (its memory goes with it); its next request loads it again."""
        with self._lock:
            if entry.state != "ready":
                return
            entry.backend, entry.state, entry.load_seconds, entry.future = None, "idle", None, Future()
        logger.info("unloaded %s (--max-loaded-models)", entry.source.model_id)

    def not_served(self, model_id: str) -> str:
        """Why a model id gets a 404, with what is served instead and how to serve it."""
        served = ", ".join(self._order) or "none"
        return (
            f"Model {model_id} does not exist on this server. Served: {served}. To serve a model, start the server "
            f"with --model ID=PATH[@TASK] (a folder from_pretrained reads), or put it in the Hugging Face cache"
        )

    def estimated_time(self, entry: ModelEntry) -> float:
        """Seconds until `entry` should be ready: what is left of the models ahead of it, and its own."""
        now = time.monotonic()
        total = 0.0
        for other in self.entries():
            if other.state in ("queued", "loading"):
                total += other.remaining(now)
            if other is entry:
                break
        return round(max(total, 0.5), 1)

    async def ready(self, entry: ModelEntry, *, wait: bool) -> Backend:
        """The loaded backend; while loading: 503 with `estimated_time`, or the wait for it when asked to wait."""
        if entry.backend is not None:
            return entry.backend
        if entry.state == "failed":
            raise failed(entry)
        if not wait:
            raise ServerError(
                503,
                f"Model {entry.source.model_id} is currently loading",
                estimated_time=self.estimated_time(entry),
            )
        try:
            return await asyncio.wrap_future(entry.future)
        except Exception:
            raise failed(entry) from None

    def close(self) -> None:
        """Stops loading what has not started."""
        self._loader.shutdown(wait=False, cancel_futures=True)
