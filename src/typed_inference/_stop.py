"""Stopping a batch at once (Ctrl-C, a cancelled task): no new attempt starts and the connections in flight close.

`client.imap` runs each call under a `StopScope` (a context variable, set in each worker thread); the client's send
loop checks it before every attempt and sleeps on it between retries, and the requests transport registers each
connection it uses with it, so that `stop()` can shut the sockets the workers are blocked on.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from contextvars import ContextVar


class Interrupted(BaseException):
    """Raised inside the calls of a stopped batch; `imap` re-raises what stopped it (KeyboardInterrupt), never this."""


class StopScope:
    """The stop switch of one batch, and the connections its calls have in flight."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._closers: dict[object, Callable[[], None]] = {}

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    def enter(self, connection: object, close: Callable[[], None]) -> bool:
        """Registers a connection about to carry a request; False (register nothing) once stopped."""
        with self._lock:
            if self._stopped.is_set():
                return False
            self._closers[connection] = close
            return True

    def stop(self) -> None:
        """Stops the batch: later checks raise `Interrupted`, and every registered connection is shut."""
        with self._lock:
            self._stopped.set()
            closers, self._closers = list(self._closers.values()), {}
        for close in closers:
            with contextlib.suppress(Exception):
                close()

    def check(self) -> None:
        """Raises `Interrupted` once the batch is stopped."""
        if self._stopped.is_set():
            raise Interrupted

    def sleep(self, seconds: float) -> None:
        """A retry's wait, cut short (by `Interrupted`) when the batch stops."""
        if self._stopped.wait(seconds):
            raise Interrupted


_SCOPE: ContextVar[StopScope | None] = ContextVar("typed_inference_stop_scope", default=None)


def current_scope() -> StopScope | None:
    """The stop scope of the batch this call runs in, if any."""
    return _SCOPE.get()


def run_in(scope: StopScope, call: Callable[[], object]) -> object:
    """Runs `call` (in a worker thread) under `scope`."""
    token = _SCOPE.set(scope)
    try:
        return call()
    finally:
        _SCOPE.reset(token)
