"""Checks payloads against a task's schemas: one at a time with `validate`, or many at pydantic-core speed.

A payload is checked in two steps. A check-only validator, built once per task and kind from the generated
models' core schema, decides valid or not without building model objects; only a payload it rejects goes through
the generated models themselves, the real wire variants and the error describer, which say what is wrong, where
(JSON path, line, column) and what was expected and found.
"""

from __future__ import annotations

import copy
import difflib
import json
import re
import sys
import types
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from pydantic_core import SchemaValidator, from_json
from pydantic_core import core_schema as cs

from typed_inference._base import NotNull
from typed_inference._decode import adapter_type, extra_paths, output_adapter, strict_adapter
from typed_inference._task import TaskSpec
from typed_inference._validation import data_path, describe, json_path
from typed_inference._wire import WireShapeError, normalise

__all__ = [
    "KINDS",
    "BatchReport",
    "Entry",
    "Kind",
    "Problem",
    "Report",
    "UsageError",
    "Validator",
    "validate",
    "validator",
]

Kind = Literal["input", "parameters", "output", "stream-output"]
KINDS: tuple[Kind, ...] = ("input", "parameters", "output", "stream-output")
BATCH_VARIANT = "batch (one result per input)"


class UsageError(ValueError):
    """A task or kind that does not exist (or does not apply to the task), with a suggestion where one fits."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a payload: where it is (JSON path, line, column), what was expected, what was found."""

    path: str
    message: str
    expected: str
    found: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass(frozen=True)
class Report:
    """The verdict on one payload: valid or not, every problem, and the wire variant an output arrived in."""

    task: str
    kind: Kind
    valid: bool
    errors: tuple[Problem, ...] = ()
    variant: str | None = None

    def __bool__(self) -> bool:
        return self.valid


@dataclass(frozen=True)
class Entry:
    """A payload of a batch worth reporting (invalid, or an output in a wire variant) and where it sits."""

    index: int
    line: int | None
    report: Report


@dataclass
class BatchReport:
    """The verdict on many payloads: how many were checked, and an entry for each invalid one or wire variant."""

    checked: int = 0
    entries: list[Entry] = field(default_factory=list)

    @property
    def invalid(self) -> list[Entry]:
        """The entries of invalid payloads."""
        return [e for e in self.entries if not e.report.valid]

    @property
    def valid(self) -> bool:
        """Whether every payload is valid."""
        return all(e.report.valid for e in self.entries)


# -- task and kind ------------------------------------------------------------------------------------------------


def resolve_task(name: str) -> TaskSpec:
    """The registry entry of a task (`fill_mask` reads as `fill-mask`); a UsageError with a suggestion otherwise."""
    from typed_inference._generated.registry import TASKS

    key = name.strip().lower().replace("_", "-")
    spec = TASKS.get(key)
    if spec is None:
        hint = difflib.get_close_matches(key, list(TASKS), n=1, cutoff=0.5)
        suggestion = f"; did you mean {hint[0]!r}?" if hint else "; `typed-inference tasks` lists them"
        raise UsageError(f"unknown task {name!r}{suggestion}")
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


# -- the check-only validator -------------------------------------------------------------------------------------

_NOT_SCHEMA = frozenset({"cls", "function", "default", "config", "metadata", "serialization", "ref", "expected"})


def check_only_schema(node: Any) -> Any:
    """A core schema accepting exactly what `node` accepts, building plain dicts instead of model objects.

    Models become typed dicts with the same fields, config and extra-field rule; `NotNull` over a nullable type
    becomes the type itself. Everything else is kept. The payloads it rejects are re-checked by the real models,
    which also word the errors.
    """
    if isinstance(node, (list, tuple)):
        return type(node)(check_only_schema(item) for item in node)
    if not isinstance(node, dict):
        return node
    kind = node.get("type")
    if kind == "model" and _plain_model(node):
        return _typed_dict(node)
    if kind == "function-after" and node["function"].get("function") is NotNull.func:
        inner = node["schema"]
        if inner.get("type") == "nullable":
            return check_only_schema(inner["schema"])
    return {k: (v if k in _NOT_SCHEMA else check_only_schema(v)) for k, v in node.items()}


def _plain_model(node: dict[str, Any]) -> bool:
    """Whether a model schema is a plain field container (no root model, custom init or post-init hook)."""
    inner = node.get("schema", {})
    return (
        inner.get("type") == "model-fields"
        and not node.get("root_model")
        and not node.get("custom_init")
        and not node.get("post_init")
        and not inner.get("computed_fields")
    )


def _typed_dict(node: dict[str, Any]) -> dict[str, Any]:
    """The typed-dict schema equivalent to a plain model schema, for validation only."""
    inner = node["schema"]
    config = node.get("config", {})
    extra = inner.get("extra_behavior") or config.get("extra_fields_behavior") or "ignore"
    fields = {}
    for name, spec in inner["fields"].items():
        item = {
            "type": "typed-dict-field",
            "schema": check_only_schema(spec["schema"]),
            "required": spec["schema"].get("type") != "default",
        }
        if "validation_alias" in spec:
            item["validation_alias"] = spec["validation_alias"]
        fields[name] = item
    out = {
        "type": "typed-dict",
        "fields": fields,
        "extra_behavior": "forbid" if extra == "forbid" else "ignore",
        "config": config,
    }
    if "ref" in node:
        out["ref"] = node["ref"]
    return out


def check_only_validator(tp: Any) -> SchemaValidator:
    """The check-only twin of `strict_adapter(tp)`: same verdicts, no model objects (its config for non-models)."""
    config = None
    if not (isinstance(tp, type) and issubclass(tp, BaseModel)):
        config = cs.CoreConfig(strict=True, allow_inf_nan=True)
    return SchemaValidator(check_only_schema(strict_adapter(tp).core_schema), config)


# -- the validator ------------------------------------------------------------------------------------------------


class Validator:
    """A task's validator for one kind of payload, built once and reused: checks one payload or many.

    `strict` (outputs and stream events) rejects fields the schema does not know, as the client's
    `response_validation="strict"` does; input-side schemas always reject them. `canonical_only` (outputs) rejects
    the real wire variants and accepts only the canonical shape.
    """

    def __init__(self, task: str, kind: str = "input", *, strict: bool = False, canonical_only: bool = False) -> None:
        self.spec = resolve_task(task)
        self.kind: Kind = resolve_kind(self.spec, kind)
        self.strict = strict and self.kind in ("output", "stream-output")
        self.canonical_only = canonical_only
        tp, self.model = target(self.spec, self.kind)
        self._real = strict_adapter(tp)
        fast = check_only_validator(tp)
        # Strict outputs take the full path for every payload: the unknown-field rule needs the model objects.
        self._quick_json: Callable[[Any], Any] | None = None if self.strict else fast.validate_json
        self._quick_python: Callable[[Any], Any] | None = None if self.strict else fast.validate_python
        self._valid = Report(self.spec.task, self.kind, True)

    def __repr__(self) -> str:
        return (
            f"Validator({self.spec.task!r}, {self.kind!r}, strict={self.strict}, canonical_only={self.canonical_only})"
        )

    # -- one payload ---------------------------------------------------------------------------------------------
    def check(self, payload: Any) -> Report:
        """The report on one payload: a Python value, or JSON text as bytes or str."""
        if isinstance(payload, (bytes, bytearray, memoryview, str)):
            return self.check_json(payload)
        quick = self._quick_python
        if quick is not None:
            try:
                quick(payload)
            except ValidationError:
                pass
            else:
                return self._valid
        return self._explain_value(payload)

    def check_json(self, data: bytes | bytearray | memoryview | str) -> Report:
        """The report on one payload given as JSON text."""
        if isinstance(data, memoryview):
            data = bytes(data)
        quick = self._quick_json
        if quick is not None:
            try:
                quick(data)
            except ValidationError:
                pass
            else:
                return self._valid
        return self.explain(data)

    # -- many payloads -------------------------------------------------------------------------------------------
    def check_many(self, payloads: Iterable[Any]) -> BatchReport:
        """The report on a sequence of payloads (Python values, or JSON texts as bytes or str)."""
        report = BatchReport()
        for index, payload in enumerate(payloads):
            result = self.check(payload)
            report.checked += 1
            if not result.valid or result.variant:
                report.entries.append(Entry(index, None, result))
        return report

    def check_lines(self, data: bytes) -> BatchReport:
        """The report on JSON Lines: one payload a line, blank lines skipped, positions counted from line 1."""
        data = strip_bom(data)
        binary = binary_problem(data)
        if binary is not None:
            return BatchReport(1, [Entry(0, binary.line, self._invalid(binary))])
        lines = data.split(b"\n")
        failed = self._failures(lines)
        report = BatchReport(len(lines))
        skipped = 0
        for i in failed:
            line = lines[i]
            result = self._line_report(line)
            if result is None:
                skipped += 1
            elif not result.valid or result.variant:
                report.entries.append(Entry(i - skipped, i + 1, rebase(result, i + 1, 1)))
        report.checked -= skipped
        return report

    def check_array(self, data: bytes) -> BatchReport:
        """The report on a JSON array of payloads (`--each`), each problem placed by line and column."""
        data = strip_bom(data)
        binary = binary_problem(data)
        if binary is not None:
            return BatchReport(1, [Entry(0, binary.line, self._invalid(binary))])
        chunks = split_array(data)
        if chunks is not None:
            failed = self._failures(chunks[0])
            if not failed:
                return BatchReport(len(chunks[0]))
            if not self._any_malformed(chunks[0], failed):
                return self._chunk_report(data, chunks, failed)
        return self._walk_report(data)

    def check_document(self, data: bytes) -> BatchReport:
        """The report on a file holding one payload, each problem placed by line and column."""
        data = strip_bom(data)
        if not data.strip():
            problem = Problem(
                "(body)", "the file is empty; expected a JSON document", "a JSON document", "nothing", 1, 1
            )
            return BatchReport(1, [Entry(0, 1, self._invalid(problem))])
        result = self.check_json(data)
        if result.valid and not result.variant:
            return BatchReport(1)
        start = len(data) - len(data.lstrip())
        return BatchReport(1, [Entry(0, data.count(b"\n", 0, start) + 1, result)])

    # -- the hot loop and its helpers ----------------------------------------------------------------------------
    def _failures(self, chunks: Sequence[bytes | str]) -> list[int]:
        """Indices of the chunks the check-only validator rejects (all of them for strict outputs)."""
        quick = self._quick_json
        if quick is None:
            return list(range(len(chunks)))
        failed: list[int] = []
        append = failed.append
        for i, chunk in enumerate(chunks):
            try:
                quick(chunk)
            except ValidationError:
                append(i)
        return failed

    def _line_report(self, line: bytes) -> Report | None:
        """The report on one JSON Lines line; None for a line that holds no payload (blank, or SSE framing)."""
        text = line.strip()
        if not text:
            return None
        if self.kind == "stream-output":
            # A captured server-sent-event stream: `data:` lines carry the events; other fields are framing.
            if text.startswith(b"data:"):
                event = text[5:].strip()
                if event == b"[DONE]":
                    return None
                return rebase(self.check_json(event), 1, len(line[: line.index(event)].decode("utf-8", "replace")) + 1)
            if text.startswith((b"event:", b"id:", b"retry:", b":")):
                return None
        return self.explain(line)

    def _any_malformed(self, chunks: list[bytes], failed: list[int]) -> bool:
        """Whether any rejected chunk is not JSON at all (then the array may have been cut at a wrong seam)."""
        for i in failed:
            try:
                from_json(chunks[i])
            except ValueError:
                return True
        return False

    def _chunk_report(self, data: bytes, chunks: tuple[list[bytes], int, int], failed: list[int]) -> BatchReport:
        """The report on an array cut at its seams, explaining the rejected elements."""
        parts, start, seam = chunks
        report = BatchReport(len(parts))
        offset, done = start, 0
        for i in failed:
            offset += sum(len(p) for p in parts[done:i]) + seam * (i - done)
            done = i
            chunk = parts[i]
            lead = len(chunk) - len(chunk.lstrip())
            result = self.explain(chunk)
            if not result.valid or result.variant:
                line, column = position(data, offset + lead)
                report.entries.append(Entry(i, line, rebase(result, line, column)))
        return report

    def _walk_report(self, data: bytes) -> BatchReport:
        """The report on an array read element by element with Python's JSON scanner (the exact, slower path)."""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            problem = utf8_problem(data, exc)
            return BatchReport(1, [Entry(0, problem.line, self._invalid(problem))])
        not_array = self._not_array(text)
        if not_array is not None:
            return BatchReport(1, [Entry(0, not_array.line, self._invalid(not_array))])
        report = BatchReport()
        elements = iter_array(text)
        index = 0
        while True:
            try:
                span = next(elements, None)
            except (ValueError, RecursionError) as exc:
                problem = malformed_problem(text, exc)
                report.checked += 1
                report.entries.append(Entry(index, problem.line, self._invalid(problem)))
                return report
            if span is None:
                return report
            begin, end = span
            report.checked += 1
            result = self.check_json(text[begin:end])
            if not result.valid or result.variant:
                line, column = text_position(text, begin)
                report.entries.append(Entry(index, line, rebase(result, line, column)))
            index += 1

    def _not_array(self, text: str) -> Problem | None:
        """A problem when a file given to `--each` holds no JSON array (empty, malformed, or another value)."""
        if not text.strip():
            return Problem("(body)", "the file is empty; expected a JSON array", "a JSON array", "nothing", 1, 1)
        if text.lstrip().startswith("["):
            return None
        try:
            value = from_json(text)
        except ValueError as exc:
            return malformed_problem(text, exc)
        line, column = text_position(text, len(text) - len(text.lstrip()))
        message = "expected a JSON array of payloads (--each)"
        return Problem("(body)", message, "an array of payloads", show(value), line, column)

    # -- the full path: what is wrong, and where -----------------------------------------------------------------
    def explain(self, data: bytes | bytearray | str) -> Report:
        """The full report on one payload given as JSON text: the path of every payload the quick check rejects."""
        if isinstance(data, str):
            text = data
        else:
            data = bytes(data)
            binary = binary_problem(data)
            if binary is not None:
                return self._invalid(binary)
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                return self._invalid(utf8_problem(data, exc))
        if not text.strip():
            return self._invalid(Problem("(body)", "empty; expected a JSON value", "a JSON value", "nothing", 1, 1))
        try:
            value = from_json(text)
        except ValueError as exc:
            return self._invalid(malformed_problem(text, exc))
        return self._explain_value(value, text)

    def _explain_value(self, value: Any, text: str | None = None) -> Report:
        """The full report on one parsed payload; `text` (its JSON source) places problems by line and column."""
        try:
            result = self._real.validate_json(text) if text is not None else self._real.validate_python(value)
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
        else:
            return self._strict_report(result, None)
        if self.kind == "output":
            found = self._variant(value)
            if found is not None:
                name, result = found
                if not self.canonical_only:
                    return self._strict_report(result, name)
                return self._report(errors, value, text, hint=f"it arrives as the wire variant {name!r}")
        return self._report(errors, value, text)

    def _strict_report(self, result: Any, variant: str | None) -> Report:
        """The report on a payload the models accepted: valid, unless strict and it carries unknown fields."""
        if self.strict:
            problems = tuple(
                Problem(path, f"unknown field {path.rsplit('.', 1)[-1]!r} (strict)", "no such field", "a value")
                for path in extra_paths(result)
            )
            if problems:
                return Report(self.spec.task, self.kind, False, problems, variant)
        if variant is None:
            return self._valid
        return Report(self.spec.task, self.kind, True, (), variant)

    def _variant(self, value: Any) -> tuple[str, Any] | None:
        """The real wire variant that explains an output the canonical shape rejects, with its typed result."""
        spec = self.spec
        attempts: list[tuple[bool, dict[str, Any], int]] = [(False, {}, 0)]
        attempts += [(False, {v.args["flag"]: True}, 1) for v in spec.wire_variants if v.op == "per_mask"]
        if spec.batch:
            attempts.append((True, {}, 1))
        for batch, flags, nesting in attempts:
            try:
                shaped, seen = normalise(spec, copy.deepcopy(value), batch=batch, flags=flags)
                result = output_adapter(spec, nesting).validate_python(shaped)
            except (WireShapeError, ValidationError):
                continue
            names = seen or ([BATCH_VARIANT] if batch else [])
            if names:
                return ", ".join(names), result
        return None

    def _report(self, errors: list[Any], value: Any, text: str | None, hint: str = "") -> Report:
        """An invalid report from pydantic's errors: union branches merged, positions found, suggestions made."""
        problems: list[Problem] = []
        for err in merge_branches(clean_errors(errors, value)):
            line = describe([err], self.model)[0]
            path = json_path(err["loc"])
            message = line[len(path) + 2 :] if line.startswith(path + ": ") else line
            if hint and not problems:
                message += f" ({hint}; --canonical-only rejects it)"
            expected, found = expected_found(err)
            where = locate(text, err["loc"], key=err["type"] == "extra_forbidden") if text is not None else None
            problems.append(Problem(path, message, expected, found, *(where or (None, None))))
        return Report(self.spec.task, self.kind, False, tuple(problems))

    def _invalid(self, problem: Problem) -> Report:
        """An invalid report with one problem."""
        return Report(self.spec.task, self.kind, False, (problem,))


_VALIDATORS: dict[tuple[str, str, bool, bool], Validator] = {}


def validator(task: str, kind: str = "input", *, strict: bool = False, canonical_only: bool = False) -> Validator:
    """The cached Validator of a task and kind (built on first use)."""
    key = (task, kind, strict, canonical_only)
    found = _VALIDATORS.get(key)
    if found is None:
        found = _VALIDATORS[key] = Validator(task, kind, strict=strict, canonical_only=canonical_only)
    return found


def validate(
    task: str, payload: Any, kind: str = "input", *, strict: bool = False, canonical_only: bool = False
) -> Report:
    """Checks one payload (a Python value, or JSON text as bytes or str) against a task's schema for `kind`.

    Kinds: "input" (a request body), "parameters", "output" (a response body; every real wire variant is accepted
    and named in `report.variant` unless `canonical_only`), "stream-output" (one stream event). `strict` rejects
    unknown fields in outputs. Raises UsageError (a ValueError) for an unknown task or a kind the task lacks.
    """
    return validator(task, kind, strict=strict, canonical_only=canonical_only).check(payload)


# -- errors: cleaning, merging, wording ---------------------------------------------------------------------------


def clean_errors(errors: Iterable[Any], value: Any) -> list[dict[str, Any]]:
    """Errors whose locations name only real keys and indices of the payload (union branch names dropped)."""
    return [
        {
            **err,
            "loc": tuple(data_path(err["loc"], value, missing=err["type"] == "missing")),
            "msg": str(err["msg"]).removeprefix("Value error, "),
        }
        for err in errors
    ]


def merge_branches(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One error per location for the branches of a union ("a valid string or a valid array")."""
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    out: list[dict[str, Any]] = []
    for err in errors:
        if err["type"] in ("missing", "extra_forbidden"):
            out.append(err)
            continue
        key = tuple(err["loc"])
        first = merged.get(key)
        if first is None:
            merged[key] = err = dict(err)
            out.append(err)
            continue
        wanted = str(err["msg"]).removeprefix("Input should be ")
        if wanted not in first["msg"]:
            joiner = " or " if first["msg"].startswith("Input should be ") and wanted != err["msg"] else "; "
            first["msg"] = f"{first['msg']}{joiner}{wanted}"
    return out


_JSON_TYPES = {dict: "object", list: "array", str: "string", int: "integer", float: "number", bool: "boolean"}


def show(value: Any) -> str:
    """A short JSON rendering of a value with its JSON type: `0 (integer)`, `"5" (string)`."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    name = "null" if value is None else _JSON_TYPES.get(type(value), type(value).__name__)
    return f"{text} ({name})"


def expected_found(err: dict[str, Any]) -> tuple[str, str]:
    """What the schema expected at an error's location, and what the payload holds there."""
    if err["type"] == "missing":
        return "a value (the field is required)", "nothing"
    if err["type"] == "extra_forbidden":
        return "no such field", f"field {str(err['loc'][-1]) if err['loc'] else '?'!r}"
    return str(err["msg"]).removeprefix("Input should be "), show(err.get("input"))


# -- positions in JSON text ---------------------------------------------------------------------------------------

_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()
_SCANSTRING: Callable[[str, int], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]
_AT = re.compile(r" at line (\d+) column (\d+)$")


def text_position(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def position(data: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of a byte offset in UTF-8 text."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", "replace")) + 1
    return data.count(b"\n", 0, offset) + 1, column


def rebase(report: Report, line: int, column: int) -> Report:
    """A report whose problem positions, relative to a payload, are made relative to the file it starts in."""
    if not report.errors:
        return report
    moved = []
    for p in report.errors:
        if p.line is None:
            moved.append(replace(p, line=line, column=None))
        else:
            moved.append(
                replace(p, line=line + p.line - 1, column=(column + (p.column or 1) - 1) if p.line == 1 else p.column)
            )
    return replace(report, errors=tuple(moved))


def locate(text: str, loc: Sequence[int | str], *, key: bool = False) -> tuple[int, int] | None:
    """Line and column of the value at a JSON path in `text` (of its key with `key`; the nearest existing parent)."""
    try:
        pos = _skip(text, 0)
        for depth, part in enumerate(loc):
            found = _member(text, pos, part)
            if found is None:
                break
            pos = found[0] if key and depth == len(loc) - 1 else found[1]
    except (ValueError, IndexError, StopIteration, RecursionError):
        return None
    return text_position(text, pos)


def _skip(text: str, pos: int) -> int:
    return _WS.match(text, pos).end()  # type: ignore[union-attr]


def _member(text: str, pos: int, part: int | str) -> tuple[int, int] | None:
    """(key offset, value offset) of member `part` of the object or array that starts at `pos`."""
    if text.startswith("{", pos) and isinstance(part, str):
        i = _skip(text, pos + 1)
        while text.startswith('"', i):
            name, end = _SCANSTRING(text, i + 1)
            value = _skip(text, _skip(text, end) + 1)
            if name == part:
                return i, value
            _, after = _DECODER.raw_decode(text, value)
            i = _skip(text, _skip(text, after) + 1)
    elif text.startswith("[", pos) and isinstance(part, int):
        i = _skip(text, pos + 1)
        for _ in range(part):
            _, after = _DECODER.raw_decode(text, i)
            i = _skip(text, _skip(text, after) + 1)
        return i, i
    return None


def iter_array(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) offsets of each element of the JSON array `text`; a ValueError at the first syntax error."""
    i = _skip(text, 0)
    if not text.startswith("["):
        raise ValueError("expected a JSON array of payloads (--each)")
    i = _skip(text, i + 1)
    if text.startswith("]", i):
        i = _skip(text, i + 1)
    else:
        while True:
            _, end = _DECODER.raw_decode(text, i)
            yield i, end
            i = _skip(text, end)
            if text.startswith(",", i):
                i = _skip(text, i + 1)
                continue
            if text.startswith("]", i):
                i = _skip(text, i + 1)
                break
            json.loads(text)  # raises the parser's own error at the right place
            raise ValueError("expected ',' or ']' after an element")
    if i != len(text):
        json.loads(text)
        raise ValueError("extra data after the array")


_SEAM = re.compile(rb"\}[ \t\r\n]*,[ \t\r\n]*\{")


def split_array(data: bytes) -> tuple[list[bytes], int, int] | None:
    """A JSON array of objects cut at its first `},{` seam's bytes: (elements, offset of the first, seam length).

    Cheap and only sometimes right: a cut inside a string or a nested object leaves an element that is not
    complete JSON, so the caller trusts the cut only when every element parses.
    """
    body = data.strip()
    if not (body.startswith(b"[") and body.endswith(b"]")) or b"\x00" in body:
        return None
    start = data.index(b"[") + 1
    inner = body[1:-1]
    if not inner.strip():
        return [], start, 0
    seam = _SEAM.search(inner)
    if seam is None:
        return [inner], start, 0
    cut = seam.group()
    return inner.replace(cut, b"}\x00{").split(b"\x00"), start, len(cut) - 2


# -- file-level problems ------------------------------------------------------------------------------------------


def strip_bom(data: bytes) -> bytes:
    """The data without a leading UTF-8 byte order mark (some editors write one)."""
    return data[3:] if data.startswith(b"\xef\xbb\xbf") else data


def binary_problem(data: bytes) -> Problem | None:
    """A problem for binary content (a NUL byte: not JSON text), placed at its first NUL byte."""
    at = data.find(b"\x00")
    if at < 0:
        return None
    line, column = position(data, at)
    return Problem("(body)", "binary content, not JSON text (a NUL byte)", "JSON text", "binary data", line, column)


def utf8_problem(data: bytes, exc: UnicodeDecodeError) -> Problem:
    """A problem for text that is not UTF-8, placed at the first byte that is not."""
    line, column = position(data, exc.start)
    byte = data[exc.start]
    return Problem("(body)", f"not UTF-8 text: byte 0x{byte:02x}", "UTF-8 text", f"byte 0x{byte:02x}", line, column)


def malformed_problem(text: str, exc: ValueError | RecursionError) -> Problem:
    """A problem for malformed JSON, worded and placed by Python's JSON parser (pydantic's when only it objects)."""
    try:
        json.loads(text)
    except json.JSONDecodeError as err:
        found = text[err.pos : err.pos + 20] or "the end of the text"
        return Problem("(body)", f"malformed JSON: {err.msg}", "valid JSON", repr(found), err.lineno, err.colno)
    except (ValueError, RecursionError):
        pass
    message = str(exc).splitlines()[0] if str(exc) else "malformed JSON"
    at = _AT.search(message)
    line, column = (int(at.group(1)), max(1, int(at.group(2)))) if at else (None, None)
    if isinstance(exc, RecursionError) or "recursion" in message:
        return Problem(
            "(body)", "JSON nested too deeply to check", "less deeply nested JSON", "deep nesting", line, column
        )
    message = _AT.sub("", message).removeprefix("Invalid JSON: ")
    return Problem("(body)", f"malformed JSON: {message}", "valid JSON", "text that is not JSON", line, column)


class _CallableModule(types.ModuleType):
    """This module, callable: importing `typed_inference.validate` binds the module over the re-exported function."""

    def __call__(
        self, task: str, payload: Any, kind: str = "input", *, strict: bool = False, canonical_only: bool = False
    ) -> Report:
        return validate(task, payload, kind, strict=strict, canonical_only=canonical_only)


sys.modules[__name__].__class__ = _CallableModule
