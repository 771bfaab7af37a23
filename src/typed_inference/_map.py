"""`client.imap` / `client.map`: one task method over many inputs, concurrently (sync and async share this)."""

from __future__ import annotations

import functools
import itertools
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from typed_inference._errors import InferenceError, RequestValidationError
from typed_inference._generated.registry import TASKS
from typed_inference._stop import StopScope, run_in
from typed_inference._task import TaskSpec


@dataclass
class Job:
    """One call of the mapped method: one input, or a batch of `size` inputs that `batch_size` grouped."""

    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    size: int = 1
    batched: bool = False


@dataclass
class Progress:
    """A counter line on stderr (`done/total`), when asked for."""

    total: int
    enabled: bool
    done: int = 0
    stream: Any = field(default_factory=lambda: sys.stderr)

    def advance(self, count: int) -> None:
        self.done += count
        if self.enabled:
            end = "\n" if self.done >= self.total else ""
            self.stream.write(f"\rtyped-inference: {self.done}/{self.total}{end}")
            self.stream.flush()


def map_target(client: Any, method: Callable[..., Any]) -> tuple[TaskSpec, Callable[..., Any]]:
    """The task a mapped method runs (known by its name) and what to call per job: `client.call` for the client's
    own task methods, the method itself otherwise (a `with_raw_response` method, say)."""
    name = getattr(method, "__name__", "")
    spec = TASKS.get(name.replace("_", "-"))
    if spec is None:
        raise RequestValidationError(f"map runs a task method such as client.fill_mask; {name or method!r} is not one")
    owner = getattr(method, "__self__", None)
    if owner is not None and owner is client:
        return spec, functools.partial(owner.call, spec.task)
    return spec, method


def plan(spec: TaskSpec, inputs: Iterable[Any], kwargs: Mapping[str, Any], batch_size: int | None) -> list[Job]:
    """The calls to make: each input as the task's first argument (or keywords for object inputs), maybe batched."""
    name = spec.task.replace("-", "_")
    items = list(inputs)
    if batch_size is not None:
        if not spec.batch:
            batchable = sorted(t.replace("-", "_") for t, s in TASKS.items() if s.batch)
            raise RequestValidationError(f"batch_size works only with {', '.join(batchable)}; not with {name}")
        if batch_size < 1:
            raise RequestValidationError(f"batch_size must be at least 1, not {batch_size}")
        return [
            Job((items[i : i + batch_size],), dict(kwargs), len(items[i : i + batch_size]), batched=True)
            for i in range(0, len(items), batch_size)
        ]
    jobs = []
    for item in items:
        if spec.first_argument is not None:
            jobs.append(Job((item,), dict(kwargs)))
        elif isinstance(item, Mapping):
            jobs.append(Job((), {**kwargs, **item}))
        else:
            raise RequestValidationError(f"{name} takes keyword inputs: give each input as a dict of them")
    return jobs


def split(job: Job, outcome: Any) -> list[Any]:
    """The results (or errors) of a job's inputs from its one outcome.

    An input is split only when `batch_size` grouped it: any other input, a list included (a chat's messages, a
    list of texts for a batch task), is one input with one result.
    """
    if not job.batched:
        return [outcome]
    if isinstance(outcome, BaseException):
        return [outcome] * job.size
    return list(outcome)


def starts(jobs: Sequence[Job]) -> list[int]:
    """The index of each job's first input."""
    out, at = [], 0
    for job in jobs:
        out.append(at)
        at += job.size
    return out


def run_threads(calls: Iterable[Callable[[], Any]], concurrency: int) -> Iterator[tuple[int, Any]]:
    """Runs `calls` on at most `concurrency` threads, yielding `(position, outcome)` as each completes.

    A call is submitted only when a thread is free, so nothing queues up that a stop would have to undo. Anything
    that stops the iteration early (KeyboardInterrupt, a call raising, the caller closing the iterator) stops the
    batch before it propagates: no new call or attempt starts, the sockets in flight are shut, and the threads are
    not waited for.
    """
    from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

    scope = StopScope()
    source = enumerate(calls)
    pool = ThreadPoolExecutor(max(1, concurrency), thread_name_prefix="typed-inference-map")
    pending: dict[Future[Any], int] = {}
    finished = False
    try:
        for n, call in itertools.islice(source, max(1, concurrency)):
            pending[pool.submit(run_in, scope, call)] = n
        while pending:
            # a bounded wait: a signal delivered to another thread is still seen within the timeout
            done, _ = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
            ready = []
            for future in done:
                ready.append((pending.pop(future), future.result()))
                for n, call in itertools.islice(source, 1):
                    pending[pool.submit(run_in, scope, call)] = n
            yield from ready
        finished = True
    finally:
        if not finished:
            scope.stop()
        pool.shutdown(wait=finished, cancel_futures=True)


async def run_tasks(calls: Iterable[Callable[[], Awaitable[Any]]], concurrency: int) -> AsyncIterator[tuple[int, Any]]:
    """`run_threads` for coroutines: at most `concurrency` tasks, `(position, outcome)` as each completes; stopped
    early (cancellation, KeyboardInterrupt, closing), it cancels the tasks in flight (closing their connections)
    and waits for them to unwind before the stop propagates."""
    import asyncio

    source = enumerate(calls)
    pending: dict[asyncio.Future[Any], int] = {}
    finished = False
    try:
        for n, call in itertools.islice(source, max(1, concurrency)):
            pending[asyncio.ensure_future(call())] = n
        while pending:
            done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            ready = []
            for task in done:
                ready.append((pending.pop(task), task.result()))
                for n, call in itertools.islice(source, 1):
                    pending[asyncio.ensure_future(call())] = n
            for item in ready:
                yield item
        finished = True
    finally:
        if not finished and pending:
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)


def per_input(jobs: Sequence[Job], outcomes: Iterator[tuple[int, Any]], counter: Progress) -> Iterator[tuple[int, Any]]:
    """`(input index, result or error)` from `(job position, outcome)`; closing it stops the jobs."""
    first = starts(jobs)
    try:
        for n, outcome in outcomes:
            counter.advance(jobs[n].size)
            for i, item in enumerate(split(jobs[n], outcome)):
                yield first[n] + i, item
    finally:
        close = getattr(outcomes, "close", None)
        if close is not None:
            close()


async def per_input_async(
    jobs: Sequence[Job], outcomes: AsyncIterator[tuple[int, Any]], counter: Progress
) -> AsyncIterator[tuple[int, Any]]:
    """`per_input` for `run_tasks`."""
    first = starts(jobs)
    try:
        async for n, outcome in outcomes:
            counter.advance(jobs[n].size)
            for i, item in enumerate(split(jobs[n], outcome)):
                yield first[n] + i, item
    finally:
        close = getattr(outcomes, "aclose", None)
        if close is not None:
            await close()


def check(results: list[Any], return_exceptions: bool) -> list[Any]:
    """Raises the first per-item error when errors are not to be returned as values."""
    if not return_exceptions:
        for result in results:
            if isinstance(result, InferenceError):
                raise result
    return results
