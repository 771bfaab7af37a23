"""Base classes of the generated models: strict in (inputs, parameters), lenient out (responses)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class InputModel(BaseModel):
    """A request-side model: unknown fields are errors and no value is coerced ("5" is not an integer)."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True, allow_inf_nan=False)


class OutputModel(BaseModel):
    """A response-side model: unknown fields are kept, known ones are type-checked without coercion."""

    model_config = ConfigDict(extra="allow", strict=True, populate_by_name=True)


class _NullMeansAbsent:
    """The type of `NullMeansAbsent`: a marker pydantic ignores and `null_paths` looks for."""

    def __repr__(self) -> str:
        return "NullMeansAbsent"


NullMeansAbsent = _NullMeansAbsent()
"""Marks an optional response field whose schema does not list null: lenient validation reads a null there as the
field left out (servers send `"role": null` on stream deltas), strict response validation refuses it."""
