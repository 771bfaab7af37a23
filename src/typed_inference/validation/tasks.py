"""Which task and which kind of payload a validation is about, and the type that kind must match."""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import BaseModel

from typed_inference._decode import adapter_type
from typed_inference._task import TaskSpec
from typed_inference.validation.report import KINDS, Kind, UsageError


def resolve_task(name: str) -> TaskSpec:
    """The registry entry of a task (`fill_mask` reads as `fill-mask`); a UsageError with a suggestion otherwise."""
    from typed_inference._call import lookup_task

    spec, hint = lookup_task(name)
    if spec is None:
        raise UsageError(f"unknown task {name!r}{hint or '; `typed-inference tasks` lists them'}")
    return spec


def kinds_of(spec: TaskSpec) -> tuple[Kind, ...]:
    """The kinds of payload a task has: input, parameters, output unless it is binary, stream-output if it streams."""
    found: list[Kind] = ["input", "parameters"]
    if spec.output_kind == "json":
        found.append("output")
    if spec.stream_model:
        found.append("stream-output")
    return tuple(found)


def resolve_kind(spec: TaskSpec, kind: str) -> Kind:
    """`kind` checked against the task's kinds; a UsageError saying why it does not apply otherwise."""
    if kind not in KINDS:
        hint = difflib.get_close_matches(kind, KINDS, n=1)
        suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
        raise UsageError(f"unknown kind {kind!r}{suggestion} (kinds: {', '.join(KINDS)})")
    if kind not in kinds_of(spec):
        reason = "answers raw bytes, not JSON" if kind == "output" else "does not stream"
        raise UsageError(f"{spec.task} {reason}: no {kind} to validate (kinds: {', '.join(kinds_of(spec))})")
    return kind


def target(spec: TaskSpec, kind: Kind) -> tuple[Any, type[BaseModel] | None]:
    """The type a kind of payload must match, and the model whose fields name its "did you mean" suggestions."""
    if kind == "input":
        return spec.input, spec.input
    if kind == "parameters":
        return spec.parameters, spec.parameters
    if kind == "stream-output":
        stream: type[BaseModel] = spec.stream
        return stream, stream
    output = adapter_type(spec, 0)
    named = spec.lookup(spec.element_model) if spec.element_model else spec.output
    return output, named if isinstance(named, type) and issubclass(named, BaseModel) else None
