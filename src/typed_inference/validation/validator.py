"""The Validator: a task's check for one kind of payload, built once, applied to one payload or to a file of many."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from pydantic import ValidationError
from pydantic_core import from_json

from typed_inference._decode import extra_paths, null_paths, output_adapter, strict_adapter
from typed_inference._error_messages import describe, json_path
from typed_inference._wire import WireShapeError, normalise
from typed_inference.validation.check_only import check_only_validator
from typed_inference.validation.files import binary_problem, malformed_problem, strip_bom, utf8_problem
from typed_inference.validation.positions import iter_array, locate, position, rebase, split_array, text_position
from typed_inference.validation.report import BATCH_VARIANT, BatchReport, Entry, Kind, Problem, Report
from typed_inference.validation.rules import rule_of
from typed_inference.validation.tasks import resolve_kind, resolve_task, target
from typed_inference.validation.wording import clean_errors, expected_found, merge_branches, prune_branches, show


class Validator:
    """A task's validator for one kind of payload, built once and reused: checks one payload or many.

    `strict` (outputs and stream events) rejects fields the schema does not know and nulls where it has none (lenient
    reads those as absent), as the client's `response_validation="strict"` does; input-side schemas always reject
    them. `canonical_only` (outputs) rejects the real wire variants and accepts only the canonical shape.
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
                "(body)", "the file is empty; expected a JSON document", "a JSON document", "nothing", 1, 1, "empty"
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
            return Problem(
                "(body)", "the file is empty; expected a JSON array", "a JSON array", "nothing", 1, 1, "empty"
            )
        if text.lstrip().startswith("["):
            return None
        try:
            value = from_json(text)
        except ValueError as exc:
            return malformed_problem(text, exc)
        line, column = text_position(text, len(text) - len(text.lstrip()))
        message = "expected a JSON array of payloads (--each)"
        return Problem("(body)", message, "an array of payloads", show(value), line, column, "not-an-array")

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
            return self._invalid(
                Problem("(body)", "empty; expected a JSON value", "a JSON value", "nothing", 1, 1, "empty")
            )
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
            return self._strict_report(result, None, text)
        if self.kind == "output":
            found = self._variant(value)
            if found is not None:
                name, result = found
                if not self.canonical_only:
                    return self._strict_report(result, name, text)
                return self._report(errors, value, text, hint=f"it arrives as the wire variant {name!r}")
        return self._report(errors, value, text)

    def _strict_report(self, result: Any, variant: str | None, text: str | None = None) -> Report:
        """The report on a payload the models accepted: valid, unless strict and it carries unknown fields or nulls
        the schema has no null for (placed at their key in `text`, or at the nearest parent a wire variant kept)."""
        if self.strict:
            problems: list[Problem] = []
            for path in extra_paths(result):
                line, column = (locate(text, _path_parts(path), key=True) if text is not None else None) or (None, None)
                message = f"unknown field {path.rsplit('.', 1)[-1]!r} (strict)"
                problems.append(Problem(path, message, "no such field", "a value", line, column, "unknown-field"))
            for path in null_paths(result):
                line, column = (locate(text, _path_parts(path), key=True) if text is not None else None) or (None, None)
                message = "null where the schema allows none (strict; lenient reads it as absent)"
                problems.append(
                    Problem(path, message, "a value or the field left out", "null", line, column, "not-allowed")
                )
            if problems:
                return Report(self.spec.task, self.kind, False, tuple(problems), variant)
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
        for err in merge_branches(clean_errors(prune_branches(errors, value), value)):
            line = describe([err], self.model)[0]
            path = json_path(err["loc"])
            message = line[len(path) + 2 :] if line.startswith(path + ": ") else line
            if hint and not problems:
                message += f" ({hint}; --canonical-only rejects it)"
            expected, found = expected_found(err)
            where = locate(text, err["loc"], key=err["type"] == "extra_forbidden") if text is not None else None
            line_at, column_at = where or (None, None)
            problems.append(Problem(path, message, expected, found, line_at, column_at, rule_of(err["type"])))
        return Report(self.spec.task, self.kind, False, tuple(problems))

    def _invalid(self, problem: Problem) -> Report:
        """An invalid report with one problem."""
        return Report(self.spec.task, self.kind, False, (problem,))


def _path_parts(path: str) -> list[int | str]:
    """`choices[0].message.extra` → `["choices", 0, "message", "extra"]`."""
    return [int(part[1:-1]) if part.startswith("[") else part for part in re.findall(r"\[\d+\]|[^.\[\]]+", path)]


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
