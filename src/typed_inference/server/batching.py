"""Micro-batching: concurrent requests are collected for a few milliseconds and run as one forward pass.

Like text-embeddings-inference: the first request of a batch waits at most `max_wait` seconds for company (less
when the batch fills up); while a batch runs, newcomers queue for the next one. Requests whose options differ
(normalize, truncation, prompt) go into separate passes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypeVar

from typed_inference.server.scheduler import Scheduler

K = TypeVar("K", bound=Hashable)

# Runs one batch: (options key, every text of the batch) → one outcome per text (a result or an exception).
BatchFn = Callable[[K, list[str]], list[Any]]


@dataclass
class _Pending(Generic[K]):
    """One request waiting in the batcher."""

    key: K
    texts: list[str]
    future: asyncio.Future[tuple[list[Any], float]]


class MicroBatcher(Generic[K]):
    """Groups concurrent requests for one model into batches run on the scheduler's workers."""

    def __init__(self, scheduler: Scheduler, run: BatchFn[K], *, max_wait: float, max_batch: int) -> None:
        self.scheduler = scheduler
        self.run = run
        self.max_wait = max_wait
        self.max_batch = max_batch
        self.batches = 0  # forward passes run, for the benchmark and the tests
        self.items = 0
        self._queue: asyncio.Queue[_Pending[K]] | None = None
        self._task: asyncio.Task[None] | None = None

    async def submit(self, key: K, texts: list[str]) -> tuple[list[Any], float]:
        """The outcomes for `texts` (one per text, results or exceptions) and the batch's compute seconds."""
        if self._queue is None:
            self._queue = asyncio.Queue()
            self._task = asyncio.get_running_loop().create_task(self._loop(self._queue))
        future: asyncio.Future[tuple[list[Any], float]] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Pending(key, texts, future))
        return await future

    async def _collect(self, queue: asyncio.Queue[_Pending[K]]) -> list[_Pending[K]]:
        """One batch: the first waiting request, then whatever else arrives within `max_wait`."""
        loop = asyncio.get_running_loop()
        batch = [await queue.get()]
        size = len(batch[0].texts)
        deadline = loop.time() + self.max_wait
        while size < self.max_batch:
            try:
                item = queue.get_nowait()
            except asyncio.QueueEmpty:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    item = await asyncio.wait_for(queue.get(), remaining)
                except asyncio.TimeoutError:
                    break
            batch.append(item)
            size += len(item.texts)
        return batch

    async def _loop(self, queue: asyncio.Queue[_Pending[K]]) -> None:
        while True:
            batch = await self._collect(queue)
            groups: dict[K, list[_Pending[K]]] = {}
            for item in batch:
                groups.setdefault(item.key, []).append(item)
            for key, items in groups.items():
                texts = [text for item in items for text in item.texts]
                try:
                    outcomes, seconds = await self.scheduler.execute(partial(self.run, key, texts))
                except Exception as exc:  # the whole pass failed: every request of it gets the error
                    for item in items:
                        if not item.future.done():
                            item.future.set_exception(exc)
                    continue
                self.batches += 1
                self.items += len(items)
                start = 0
                for item in items:
                    end = start + len(item.texts)
                    if not item.future.done():
                        item.future.set_result((outcomes[start:end], seconds))
                    start = end

    def close(self) -> None:
        """Stops collecting."""
        if self._task is not None:
            self._task.cancel()
