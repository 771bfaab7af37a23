"""The retry rule's home moved to `typed_inference.transport` (public); these names stay importable from here."""

from __future__ import annotations

from typed_inference.transport import INITIAL_BACKOFF, MAX_BACKOFF, RETRY_STATUSES, RetryPolicy, estimated_time

__all__ = ["INITIAL_BACKOFF", "MAX_BACKOFF", "RETRY_STATUSES", "RetryPolicy", "estimated_time"]
