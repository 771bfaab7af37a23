"""The one retry rule: which failures are retried, and how long to wait before the next attempt."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

RETRY_STATUSES = frozenset({408, 429, 502, 503, 504})
INITIAL_BACKOFF = 0.5
MAX_BACKOFF = 8.0


@dataclass
class RetryPolicy:
    """Exponential backoff with jitter, honouring the server's requested wait; clock and sleep are injectable."""

    max_retries: int = 2
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    wall_clock: Callable[[], float] = time.time
    jitter: Callable[[], float] = field(default=random.random)
    async_sleep: Callable[[float], Awaitable[None]] | None = None  # None: asyncio.sleep

    def backoff(self, retry_index: int) -> float:
        """The wait before retry number `retry_index` (0-based) when the server asked for none."""
        base = min(MAX_BACKOFF, INITIAL_BACKOFF * 2**retry_index)
        return float(base * (0.75 + 0.25 * self.jitter()))

    def server_wait(self, headers: Mapping[str, str], body: bytes) -> float | None:
        """The wait the server asked for: `Retry-After` (seconds or HTTP date) or a 503 body's `estimated_time`."""
        value = headers.get("retry-after")
        if value:
            value = value.strip()
            try:
                return max(0.0, float(value))
            except ValueError:
                parsed = _http_date(value)
                if parsed is not None:
                    return max(0.0, parsed.timestamp() - self.wall_clock())
        return estimated_time(body)


def _http_date(value: str) -> datetime | None:
    """An HTTP date (`Wed, 21 Oct 2026 07:28:00 GMT`), or None when the text is not one."""
    import email.utils

    try:
        return email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None


def estimated_time(body: bytes) -> float | None:
    """`estimated_time` of a model-loading 503 body, when present."""
    if b"estimated_time" not in body:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    value = data.get("estimated_time") if isinstance(data, dict) else None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
