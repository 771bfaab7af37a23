"""`client.map`: one task method over many inputs, concurrently, results in input order (sync and async share this)."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from typed_inference._errors import InferenceError, RequestValidationError
from typed_inference._generated.registry import TASKS
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


def spread(jobs: Sequence[Job], outcomes: Sequence[Any]) -> list[Any]:
    """One result (or error) per input, in input order, from one outcome per job.

    An input is split only when `batch_size` grouped it: any other input, a list included (a chat's messages, a
    list of texts for a batch task), is one input with one result.
    """
    results: list[Any] = []
    for job, outcome in zip(jobs, outcomes, strict=True):
        if not job.batched:
            results.append(outcome)
        elif isinstance(outcome, BaseException):
            results.extend([outcome] * job.size)
        else:
            results.extend(outcome)
    return results


def check(results: list[Any], return_exceptions: bool) -> list[Any]:
    """Raises the first per-item error when errors are not to be returned as values."""
    if not return_exceptions:
        for result in results:
            if isinstance(result, InferenceError):
                raise result
    return results
