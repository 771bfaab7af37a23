"""Runs inference off the event loop on worker threads, admitting a bounded number of requests at once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

from typed_inference.server.errors import ServerError

T = TypeVar("T")


class Scheduler:
    """A worker pool and an admission count: past `capacity` requests in flight, new ones get 429 at once."""

    def __init__(self, workers: int = 1, capacity: int = 64) -> None:
        self.capacity = capacity
        self.in_flight = 0  # touched only on the event loop thread
        self.runs = 0  # jobs handed to the workers so far (the tests see that a refused request never ran)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="inference")

    @contextmanager
    def admit(self) -> Iterator[None]:
        """Counts one request in for its whole life (queued and running), or answers 429 when full."""
        self.enter()
        try:
            yield
        finally:
            self.leave()

    def enter(self) -> None:
        """Counts one request in, or answers 429 when `capacity` are already in flight."""
        if self.in_flight >= self.capacity:
            raise ServerError(
                429,
                f"Model is overloaded: {self.in_flight} requests are already queued or running",
                headers={"Retry-After": "1"},
                error_type="overloaded",
            )
        self.in_flight += 1

    def leave(self) -> None:
        """Counts one request out."""
        self.in_flight -= 1

    async def execute(self, fn: Callable[[], T]) -> tuple[T, float]:
        """Runs `fn` on a worker thread; returns its result and the seconds it computed."""

        def timed() -> tuple[T, float]:
            started = time.perf_counter()
            result = fn()
            return result, time.perf_counter() - started

        self.runs += 1
        return await asyncio.get_running_loop().run_in_executor(self._pool, timed)

    def submit(self, fn: Callable[[], None]) -> None:
        """Runs `fn` on a worker thread without waiting for it (a stream's producer)."""
        self.runs += 1
        self._pool.submit(fn)

    def close(self) -> None:
        """Stops the workers once the running jobs end; queued ones are dropped."""
        self._pool.shutdown(wait=False, cancel_futures=True)
