"""Inference Providers: which providers this SDK knows, and the Hub's provider mapping of a model."""

from __future__ import annotations

from typed_inference._generated.providers import PROVIDERS
from typed_inference._provider_spec import ProviderSpec, ProviderTask
from typed_inference.providers._jobs import JobStatus
from typed_inference.providers._mapping import ProviderMapping

PROVIDER_NAMES: tuple[str, ...] = tuple(sorted(PROVIDERS))

__all__ = ["PROVIDERS", "PROVIDER_NAMES", "JobStatus", "ProviderMapping", "ProviderSpec", "ProviderTask"]
