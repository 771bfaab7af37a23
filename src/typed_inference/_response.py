"""`RawResponse`, a typed result with its status and headers, and `as_raw`, which makes a task method return one."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, ParamSpec, TypeVar, cast

from typed_inference.transport import sensitive_header

T = TypeVar("T", covariant=True)
R = TypeVar("R")
P = ParamSpec("P")


@dataclass(frozen=True)
class RawResponse(Generic[T]):
    """A typed result together with the HTTP status and headers it came with."""

    status_code: int
    headers: Mapping[str, str]
    parsed: T

    def __repr__(self) -> str:
        headers = {name: "***" if sensitive_header(name) else value for name, value in self.headers.items()}
        return f"RawResponse(status_code={self.status_code!r}, headers={headers!r}, parsed={self.parsed!r})"

    @property
    def request_id(self) -> str | None:
        """The service's `x-request-id`."""
        return self.headers.get("x-request-id")

    @property
    def compute_type(self) -> str | None:
        """`x-compute-type`: cpu, gpu or cache."""
        return self.headers.get("x-compute-type")

    @property
    def compute_time(self) -> str | None:
        """`x-compute-time`, as the service sent it."""
        return self.headers.get("x-compute-time")


class _RawCalls:
    """Stands in for a client as `self` of a task method, so the method's `_call` returns a `RawResponse`."""

    def __init__(self, client: Any) -> None:
        self._call = client._call_raw


def _unbind(method: Callable[..., Any]) -> tuple[Callable[..., Any], _RawCalls]:
    function, client = getattr(method, "__func__", None), getattr(method, "__self__", None)
    if function is None or not hasattr(client, "_call_raw"):
        raise TypeError(f"as_raw takes a task method of a client, not {method!r}")
    return function, _RawCalls(client)


def as_raw(method: Callable[P, R]) -> Callable[P, RawResponse[R]]:
    """A client's task method returning `RawResponse[R]` (status, headers, typed result) instead of `R`.

    The signature, overloads included, is kept for type checkers: `as_raw(client.fill_mask)("a [MASK].")` is a
    `RawResponse[list[FillMaskOutputElement]]`.
    """
    function, calls = _unbind(method)

    @functools.wraps(method)
    def raw(*args: P.args, **kwargs: P.kwargs) -> RawResponse[R]:
        return cast("RawResponse[R]", function(calls, *args, **kwargs))

    return raw


def as_async_raw(method: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[RawResponse[R]]]:
    """The async twin of `as_raw`, for the task methods of `AsyncInferenceClient`."""
    function, calls = _unbind(method)

    @functools.wraps(method)
    async def raw(*args: P.args, **kwargs: P.kwargs) -> RawResponse[R]:
        return cast("RawResponse[R]", await function(calls, *args, **kwargs))

    return raw
