"""`typed_inference.validate`: check payloads against a task's schemas (the public face of `validation/`).

`validate(task, payload, kind)` checks one payload; `validator(task, kind)` is the cached `Validator` that checks
many. The module itself is callable, `typed_inference.validate(task, payload)`, because importing it binds the
module over the function `typed_inference.validate` re-exports.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from typed_inference.validation import (
    KINDS,
    BatchReport,
    Entry,
    Kind,
    Problem,
    Report,
    UsageError,
    Validator,
    validate,
    validator,
)

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


class _CallableModule(types.ModuleType):
    """This module, callable: importing `typed_inference.validate` binds the module over the re-exported function."""

    def __call__(
        self, task: str, payload: Any, kind: str = "input", *, strict: bool = False, canonical_only: bool = False
    ) -> Report:
        return validate(task, payload, kind, strict=strict, canonical_only=canonical_only)


sys.modules[__name__].__class__ = _CallableModule
