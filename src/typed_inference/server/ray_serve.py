"""Deprecated: the Ray Serve deployment moved to `typed_inference.ray.serve` (this alias goes in the next release)."""

from __future__ import annotations

import warnings
from typing import Any

_MOVED = ("ReplicaSettingsError", "Scaling", "deployment", "parse_autoscale")


def __getattr__(name: str) -> Any:
    """The moved names, each with a DeprecationWarning naming the new path."""
    if name not in _MOVED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    warnings.warn(
        f"typed_inference.server.ray_serve.{name} moved to typed_inference.ray.serve.{name}; this alias is removed in "
        "the next release",
        DeprecationWarning,
        stacklevel=2,
    )
    from typed_inference.ray import serve

    return getattr(serve, name)
