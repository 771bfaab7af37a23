"""`client.imap` / `client.map`: one task method over many inputs, concurrently (sync and async share this)."""

from __future__ import annotations

import functools
import itertools
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from typed_inference._errors import (
    APIStatusError,
    InferenceError,
    ModelNotSupportedError,
    RequestValidationError,
    ResponseValidationError,
)
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


SPLIT_STATUSES = frozenset({400, 413, 422})  # answers that may be one input's fault: a batch is split on them


def splittable(exc: InferenceError) -> bool:
    """Whether a batch's failure may be the fault of one of its inputs (so halving the batch isolates it): a 400,
    413 or 422 answer, an answer that does not fit the output schema, or a local refusal of an input. Errors that
    would fail every input (401, 403, 404, 429 after retries, 5xx, connection, an unsupported model) are not."""
    if isinstance(exc, APIStatusError):
        return exc.status_code in SPLIT_STATUSES
    if isinstance(exc, ModelNotSupportedError):
        return False
    return isinstance(exc, (ResponseValidationError, RequestValidationError))


class Tally:
    """How many task calls (requests, before retries) a map made: bisected batches make more than one each."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls = 0

    def add(self) -> None:
        with self._lock:
            self.calls += 1


def run_job(target: Callable[..., Any], job: Job, tally: Tally) -> Any:
    """A job's outcome: the call's result or error; for a batch, one outcome per input (`bisect`)."""
    if job.batched:
        return bisect(lambda items: target(items, *job.args[1:], **job.kwargs), list(job.args[0]), tally)
    tally.add()
    try:
        return target(*job.args, **job.kwargs)
    except InferenceError as exc:
        return exc


def bisect(call: Callable[[list[Any]], Any], items: list[Any], tally: Tally) -> list[Any]:
    """One outcome per input of a batch: its results, or, when it fails with a `splittable` error, the outcomes of
    its halves, down to single inputs, so that only the offending inputs end in error (about 2·log2(batch) extra
    requests per bad input)."""
    tally.add()
    try:
        return list(call(items))
    except InferenceError as exc:
        if len(items) == 1 or not splittable(exc):
            return [exc] * len(items)
    half = len(items) // 2
    return bisect(call, items[:half], tally) + bisect(call, items[half:], tally)


async def run_job_async(target: Callable[..., Awaitable[Any]], job: Job, tally: Tally) -> Any:
    """`run_job` for coroutines."""
    if job.batched:
        return await bisect_async(lambda items: target(items, *job.args[1:], **job.kwargs), list(job.args[0]), tally)
    tally.add()
    try:
        return await target(*job.args, **job.kwargs)
    except InferenceError as exc:
        return exc


async def bisect_async(call: Callable[[list[Any]], Awaitable[Any]], items: list[Any], tally: Tally) -> list[Any]:
    """`bisect` for coroutines."""
    tally.add()
    try:
        return list(await call(items))
    except InferenceError as exc:
        if len(items) == 1 or not splittable(exc):
            return [exc] * len(items)
    half = len(items) // 2
    return await bisect_async(call, items[:half], tally) + await bisect_async(call, items[half:], tally)


def split(job: Job, outcome: Any) -> list[Any]:
    """The results (or errors) of a job's inputs from its one outcome.

    An input is split only when `batch_size` grouped it: any other input, a list included (a chat's messages, a
    list of texts for a batch task), is one input with one result.
    """
    return list(outcome) if job.batched else [outcome]  # a batch's outcome is already one per input (`bisect`)


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


T = TypeVar("T")


class Outcomes(Iterator[tuple[int, T]]):
    """What `imap` yields, `(input index, result or error)` as each completes; `requests` counts the task calls
    made so far (a bisected batch makes several); closing it stops the jobs."""

    def __init__(self, items: Iterator[tuple[int, T]], tally: Tally) -> None:
        self._items = items
        self._tally = tally

    def __next__(self) -> tuple[int, T]:
        return next(self._items)

    def close(self) -> None:
        close = getattr(self._items, "close", None)
        if close is not None:
            close()

    @property
    def requests(self) -> int:
        """Task calls made so far (retries aside)."""
        return self._tally.calls


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
