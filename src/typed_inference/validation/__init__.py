"""Checks payloads against a task's schemas: one at a time with `validate`, or many at pydantic-core speed.

A payload is checked in two steps. A check-only validator (`check_only`), built once per task and kind from the
generated models' core schema, decides valid or not without building model objects; only a payload it rejects goes
through the generated models themselves, the real wire variants and the error wording (`wording`), which say what
is wrong, where (JSON path, line, column: `positions`, `files`) and what was expected and found (`report`).
`typed_inference.validate` is the public face of this package.
"""

from __future__ import annotations

from typed_inference.validation.check_only import check_only_schema, check_only_validator
from typed_inference.validation.report import KINDS, BatchReport, Entry, Kind, Problem, Report, UsageError
from typed_inference.validation.tasks import kinds_of, resolve_kind, resolve_task, target
from typed_inference.validation.validator import Validator, validate, validator

__all__ = [
    "KINDS",
    "BatchReport",
    "Entry",
    "Kind",
    "Problem",
    "Report",
    "UsageError",
    "Validator",
    "check_only_schema",
    "check_only_validator",
    "kinds_of",
    "resolve_kind",
    "resolve_task",
    "target",
    "validate",
    "validator",
]
