"""The Arrow type of a task's output column, derived from its output model, and the values converted to it.

The rule, in order:

1. a binary output (an image, audio, a video) is `binary`;
2. feature-extraction is `list<float32>`: one embedding per row (a model without pooling, answering a vector per
   token, gives a row error instead);
3. an output model whose only required field is a string (summarization's `summary_text`, translation, text
   generation, image-to-text, speech recognition) is `string`: that text, the optional extras left out;
4. anything else maps field by field: a model is a `struct` of its fields, a list a `list`, `str` and string
   literals `string`, `float` `double`, `int` `int64`, `bool` `bool`, bytes `binary`, `X | None` a nullable `X`
   (so classification is `list<struct<label: string, score: double>>`). Every field is nullable, as Parquet
   readers expect; a required one is never null in a valid answer.

A type none of these covers (a free-form dict, a union of different types) makes the task unsupported: asking for
it fails at construction, naming the task and the type.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from typed_inference._errors import RequestValidationError
from typed_inference._task import TaskSpec


class UnsupportedOutputError(RequestValidationError):
    """A task whose output has no Arrow type by the rule of `typed_inference.ray`."""

    __module__ = "typed_inference.ray"


@dataclass(frozen=True)
class OutputColumn:
    """A task's output column: its Arrow type and how one result becomes a value of it."""

    type: Any  # pyarrow.DataType
    convert: Callable[[Any], Any]


def output_column(spec: TaskSpec) -> OutputColumn:
    """The output column of a task by the module's rule; UnsupportedOutputError when it has none."""
    import pyarrow as pa

    if spec.output_kind == "binary":
        return OutputColumn(pa.binary(), bytes)
    if spec.task == "feature-extraction":
        return OutputColumn(pa.list_(pa.float32()), _embedding)
    output = _unwrap(spec.output)
    text = _only_text_field(output)
    if text is not None:
        return OutputColumn(pa.string(), lambda result: getattr(result, text))
    try:
        arrow_type = arrow_type_of(output)
    except UnsupportedOutputError as exc:
        raise UnsupportedOutputError(
            f"task {spec.task!r} has no Arrow output column: {exc.message} (see typed_inference.ray's rule)"
        ) from None
    return OutputColumn(arrow_type, plain)


def _embedding(result: Any) -> list[float]:
    """One input's embedding: the one vector of its answer (a pooled model's)."""
    if len(result) != 1:
        raise ValueError(f"{len(result)} vectors for one input (a model without pooling): not one embedding")
    vector: list[float] = result[0]  # already a list of floats: no copy (100,000 rows × 384 floats add up)
    return vector


def float_rows(values: list[Any], arrow_type: Any) -> Any:
    """A list<float> column built through one numpy array when every present row has the same length (embeddings):
    about 2.5× faster than `pa.array` on Python lists; None when the rows do not allow it (the caller falls back)."""
    import pyarrow as pa

    if not (pa.types.is_list(arrow_type) and pa.types.is_floating(arrow_type.value_type)):
        return None
    present = [value for value in values if value is not None]
    if not present or len({len(value) for value in present}) != 1:
        return None
    import numpy as np

    try:
        flat = np.asarray(present, dtype=arrow_type.value_type.to_pandas_dtype()).ravel()
    except (TypeError, ValueError):
        return None
    width = len(present[0])
    lengths = np.array([0 if value is None else width for value in values], dtype=np.int32)
    offsets = np.concatenate(([0], np.cumsum(lengths, dtype=np.int64))).astype(np.int32)
    mask = pa.array([value is None for value in values], pa.bool_())
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(flat), type=arrow_type, mask=mask)


def _unwrap(annotation: Any) -> Any:
    """The type under type aliases and `Annotated`."""
    while True:
        if hasattr(annotation, "__value__"):  # a TypeAliasType
            annotation = annotation.__value__
        elif typing.get_origin(annotation) is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        else:
            return annotation


def _only_text_field(output: Any) -> str | None:
    """The name of a model's one required field when it is a string; None otherwise."""
    if not (isinstance(output, type) and issubclass(output, BaseModel)):
        return None
    required = [name for name, info in output.model_fields.items() if info.is_required()]
    if len(required) == 1 and _unwrap(output.model_fields[required[0]].annotation) is str:
        return required[0]
    return None


def arrow_type_of(annotation: Any, depth: int = 0) -> Any:
    """The Arrow type of a Python type annotation (rule 4); UnsupportedOutputError for what it does not cover."""
    import pyarrow as pa

    if depth > 12:
        raise UnsupportedOutputError("a recursive type")
    annotation = _unwrap(annotation)
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            return arrow_type_of(members[0], depth + 1)
        raise UnsupportedOutputError(f"the union {annotation}")
    if origin is typing.Literal and all(isinstance(v, str) for v in typing.get_args(annotation)):
        return pa.string()
    if origin is list:
        (item,) = typing.get_args(annotation)
        return pa.list_(arrow_type_of(item, depth + 1))
    scalars = {str: pa.string(), bool: pa.bool_(), int: pa.int64(), float: pa.float64(), bytes: pa.binary()}
    if annotation in scalars:
        return scalars[annotation]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return pa.struct(
            [
                pa.field(name, arrow_type_of(info.annotation, depth + 1))
                for name, info in annotation.model_fields.items()
            ]
        )
    raise UnsupportedOutputError(f"the type {getattr(annotation, '__name__', annotation)}")


def plain(value: Any) -> Any:
    """A result as plain Python values (models as dicts keyed by field name), ready for `pyarrow.array`."""
    if isinstance(value, BaseModel):
        return {name: plain(getattr(value, name, None)) for name in type(value).model_fields}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value
