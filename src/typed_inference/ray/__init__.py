"""Bulk inference on Ray Data: `InferenceMapper` for `Dataset.map_batches`, and `infer` to run it in one call.

Needs the ray extra: `pip install 'typed-inference[ray]'`. The output column's Arrow type is derived from the
task's output model (the rule is in `typed_inference.ray._arrow`).
"""

from __future__ import annotations

from typed_inference.ray._arrow import UnsupportedOutputError, output_column
from typed_inference.ray._infer import infer
from typed_inference.ray._mapper import InferenceMapper

__all__ = ["InferenceMapper", "UnsupportedOutputError", "infer", "output_column"]
