"""Response bodies → canonical typed results, for any task, by the registry's facts and its wire variants."""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from typed_inference._base import NullMeansAbsent
from typed_inference._binary import BinaryOutput
from typed_inference._error_messages import describe
from typed_inference._errors import Redactor, ResponseValidationError
from typed_inference._task import TaskSpec, ValidationMode
from typed_inference._wire import WireShapeError, normalise


@dataclass
class DecodeContext:
    """What decoding a response needs to know about the call that produced it."""

    spec: TaskSpec
    batch: bool = False
    flags: dict[str, Any] = field(default_factory=dict)
    mode: ValidationMode = "lenient"
    stream: bool = False
    redactor: Redactor = field(default_factory=Redactor, repr=False)  # masks the client's tokens in errors
    answer: Callable[[bytes], bytes] | None = None  # a provider's answer → the task's wire shape
    provider: str | None = None  # the provider that answered (None: an endpoint)
    events: Callable[[Any], Any] | None = None  # a provider's stream event → the task's event


_ADAPTERS: dict[tuple[str, int], TypeAdapter[Any]] = {}


def output_adapter(spec: TaskSpec, nesting: int) -> TypeAdapter[Any]:
    """A TypeAdapter for the task's output type wrapped in `nesting` lists (batches, one list per mask)."""
    key = (spec.task, nesting)
    adapter = _ADAPTERS.get(key)
    if adapter is None:
        adapter = _ADAPTERS[key] = strict_adapter(adapter_type(spec, nesting))
    return adapter


def stream_adapter(spec: TaskSpec) -> TypeAdapter[Any]:
    """The cached TypeAdapter of one stream event of a task."""
    key = (spec.task, -1)
    adapter = _ADAPTERS.get(key)
    if adapter is None:
        adapter = _ADAPTERS[key] = strict_adapter(spec.stream)
    return adapter


def strict_adapter(tp: Any) -> TypeAdapter[Any]:
    """A TypeAdapter that validates without coercion also where no model's config reaches (bare lists, aliases)."""
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return TypeAdapter(tp)
    return TypeAdapter(tp, config=ConfigDict(strict=True, allow_inf_nan=True))


_FLOAT_TYPES: dict[int, Any] = {
    1: list[float],
    2: list[list[float]],
    3: list[list[list[float]]],
    4: list[list[list[list[float]]]],
}
_FLOATS: dict[int, TypeAdapter[Any]] = {}  # built on first use


def _floats(depth: int) -> TypeAdapter[Any]:
    adapter = _FLOATS.get(depth)
    if adapter is None:
        adapter = _FLOATS[depth] = strict_adapter(_FLOAT_TYPES[depth])
    return adapter


def _leading_brackets(body: bytes) -> int:
    """Nesting depth of a JSON array read from its first bytes (`[[[0.1` → 3)."""
    depth = 0
    for byte in body[:64]:
        if byte == 0x5B:
            depth += 1
        elif byte not in b" \t\r\n":
            break
    return depth


def _fail(message: str, status: int, body: bytes, headers: dict[str, str], errors: Any = ()) -> ResponseValidationError:
    return ResponseValidationError(message, status_code=status, body=body, errors=errors, headers=headers)


def decode(ctx: DecodeContext, status: int, headers: dict[str, str], body: bytes) -> Any:
    """The canonical typed result of a successful response, or a ResponseValidationError saying what is wrong
    (with the client's tokens masked: a server may echo them in a body)."""
    try:
        return _decode(ctx, status, headers, body)
    except ResponseValidationError as exc:
        raise ctx.redactor.error(exc) from None
    except RecursionError:  # JSON nested deeper than Python's recursion limit (a hostile or broken answer)
        error = _fail(f"{ctx.spec.task}: the response is nested too deeply to read", status, body, headers)
        raise ctx.redactor.error(error) from None


def _decode(ctx: DecodeContext, status: int, headers: dict[str, str], body: bytes) -> Any:
    spec = ctx.spec
    if ctx.answer is not None:
        try:
            body = ctx.answer(body)
        except ResponseValidationError as exc:
            raise _fail(f"{spec.task}: {exc}", status, body, headers) from None
    content_type = headers.get("content-type", "")
    if spec.output_kind == "binary":
        if content_type.startswith("application/json") or not body:
            raise _fail(
                f"{spec.task}: expected binary content, got {content_type or 'an empty body'}", status, body, headers
            )
        return BinaryOutput(body, content_type.split(";")[0].strip() or "application/octet-stream")
    nesting = int(ctx.batch) + int(bool(ctx.flags.get("multiple_masks")))
    if any(v.op == "embedding_depth" for v in spec.wire_variants):
        depth = _leading_brackets(body)
        if depth in _FLOAT_TYPES:
            try:
                data = _floats(depth).validate_json(body)
            except ValidationError as exc:
                raise _invalid(spec, status, headers, body, exc) from None
            shaped, _ = normalise(spec, data, batch=ctx.batch, flags=ctx.flags)
            if _leading_brackets_of(shaped) == 2 + int(ctx.batch):
                return shaped
        raise _fail(
            f"{spec.task}: expected an array of floats nested 1 to 4 deep, found {body[:40]!r}", status, body, headers
        )
    adapter = output_adapter(spec, nesting)
    if ctx.mode != "off":
        try:
            result = adapter.validate_json(body)
        except ValidationError:
            pass
        else:
            if ctx.mode == "strict":
                _check_no_extras(result, spec, status, headers, body)
            return result
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise _fail(f"{spec.task}: the response is not valid JSON: {exc}", status, body, headers) from None
    raw = data  # as it came: what `hint` compares with other tasks' answers
    try:
        data, _seen = normalise(spec, data, batch=ctx.batch, flags=ctx.flags)
    except WireShapeError as exc:
        other = hint(spec, raw)
        if other:  # not this task's variant gone wrong: another task's answer
            raise _fail(f"{spec.task}: {other}", status, body, headers) from None
        raise _fail(f"{spec.task}: {exc}", status, body, headers) from None
    if ctx.mode == "off":
        return construct(adapter_type(spec, nesting), data)
    try:
        result = adapter.validate_python(data)
    except ValidationError as exc:
        raise _invalid(spec, status, headers, body, exc, data, hint(spec, raw)) from None
    if ctx.mode == "strict":
        _check_no_extras(result, spec, status, headers, body)
    return result


def _leading_brackets_of(data: Any) -> int:
    depth = 0
    while isinstance(data, list) and data:
        depth += 1
        data = data[0]
    return depth


def _invalid(
    spec: TaskSpec,
    status: int,
    headers: dict[str, str],
    body: bytes,
    exc: ValidationError,
    data: Any = None,
    other: str = "",
) -> Exception:
    lines = (
        describe(exc.errors(include_url=False), data=data)
        if data is not None
        else describe(exc.errors(include_url=False))
    )
    return _fail(
        f"{spec.task}: the response does not match {spec.output_model}:\n  "
        + "\n  ".join([*lines[:10], *([f"({other})"] if other else [])]),
        status,
        body,
        headers,
        exc.errors(include_url=False),
    )


def extra_paths(value: Any, path: str = "") -> list[str]:
    """JSON paths of every field the output models kept without knowing it."""
    found: list[str] = []
    if isinstance(value, BaseModel):
        for key in value.model_extra or {}:
            found.append(f"{path}.{key}" if path else key)
        for name in type(value).model_fields:
            found += extra_paths(getattr(value, name), f"{path}.{name}" if path else name)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += extra_paths(item, f"{path}[{i}]")
    return found


def null_paths(value: Any, path: str = "") -> list[str]:
    """JSON paths of every optional field the answer set to null although its schema has no null (lenient
    validation reads them as absent)."""
    found: list[str] = []
    if isinstance(value, BaseModel):
        fields = type(value).model_fields
        for name in value.model_fields_set:
            info = fields.get(name)
            if info is not None and getattr(value, name) is None and any(m is NullMeansAbsent for m in info.metadata):
                found.append(f"{path}.{info.alias or name}" if path else info.alias or name)
        for name in fields:
            found += null_paths(getattr(value, name), f"{path}.{name}" if path else name)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += null_paths(item, f"{path}[{i}]")
    return found


def _check_no_extras(result: Any, spec: TaskSpec, status: int, headers: dict[str, str], body: bytes) -> None:
    extras = extra_paths(result)
    if extras:
        raise _fail(
            f"{spec.task}: strict response validation: unknown fields {', '.join(extras[:10])}", status, body, headers
        )
    nulls = null_paths(result)
    if nulls:
        raise _fail(
            f"{spec.task}: strict response validation: null where the schema allows none: {', '.join(nulls[:10])}",
            status,
            body,
            headers,
        )


def adapter_type(spec: TaskSpec, nesting: int) -> Any:
    """The output type wrapped in `nesting` lists."""
    tp: Any = spec.output
    for _ in range(nesting):
        tp = list[tp]
    return tp


def construct(tp: Any, data: Any) -> Any:
    """Builds the typed result without validating (response_validation="off"): models from dicts, lists of them."""
    value = getattr(tp, "__value__", None)
    if value is not None:
        return construct(value, data)
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return construct(typing.get_args(tp)[0], data)
    if isinstance(tp, type) and issubclass(tp, BaseModel) and isinstance(data, dict):
        fields = tp.model_fields
        values: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        by_alias = {(f.alias or name): name for name, f in fields.items()}
        for key, item in data.items():
            name = by_alias.get(key)
            if name is None:
                extra[key] = item
            else:
                values[name] = construct(fields[name].annotation, item)
        model = tp.model_construct(**values)
        if extra:
            object.__setattr__(model, "__pydantic_extra__", extra)
        return model
    if origin is list and isinstance(data, list):
        (item_tp,) = typing.get_args(tp) or (Any,)
        return [construct(item_tp, item) for item in data]
    if origin in (typing.Union, types.UnionType):
        for member in typing.get_args(tp):
            if _could_be(member, data):
                return construct(member, data)
    return data


def _could_be(tp: Any, data: Any) -> bool:
    value = getattr(tp, "__value__", None)
    if value is not None:
        return _could_be(value, data)
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _could_be(typing.get_args(tp)[0], data)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return isinstance(data, dict)
    if origin is list:
        return isinstance(data, list)
    if tp is type(None):
        return data is None
    return not isinstance(data, (dict, list))


# Text tasks whose answers have distinct shapes, in the order a match is named (image-classification answers look
# like text-classification's, and feature-extraction's floats fit many shapes: neither is named).
HINT_TASKS = (
    "text-classification",
    "fill-mask",
    "token-classification",
    "question-answering",
    "zero-shot-classification",
    "summarization",
    "translation",
    "text-generation",
)


def shaped_like(spec: TaskSpec, data: Any) -> str | None:
    """The first other task whose output `data` fits (its wire variants applied), or None."""
    from typed_inference._generated.registry import TASKS

    if data in ([], {}, None):
        return None
    for task in HINT_TASKS:
        if task == spec.task:
            continue
        other = TASKS[task]
        try:
            shaped, _ = normalise(other, data)
            output_adapter(other, 0).validate_python(shaped)
        except (ValidationError, WireShapeError, TypeError, ValueError, KeyError, IndexError):
            continue
        return task
    return None


def hint(spec: TaskSpec, data: Any) -> str:
    """The sentence naming the task the answer is shaped like ("" when none fits)."""
    task = shaped_like(spec, data)
    if task is None:
        return ""
    return f"the answer is shaped like a {task} answer: does the model serve {task} rather than {spec.task}?"
