"""Inference Providers: which providers this SDK knows, and the Hub's provider mapping of a model."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from typed_inference._generated.providers import PROVIDERS
from typed_inference._provider_spec import ProviderSpec, ProviderTask

if TYPE_CHECKING:
    from typed_inference.providers._jobs import JobStatus
    from typed_inference.providers._mapping import ProviderMapping

PROVIDER_NAMES: tuple[str, ...] = tuple(sorted(PROVIDERS))

__all__ = ["PROVIDERS", "PROVIDER_NAMES", "JobStatus", "ProviderMapping", "ProviderSpec", "ProviderTask"]

_LAZY = {"JobStatus": "typed_inference.providers._jobs", "ProviderMapping": "typed_inference.providers._mapping"}


def __getattr__(name: str) -> Any:
    """The job and mapping types, imported on first use (a client that calls no provider never loads them)."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
