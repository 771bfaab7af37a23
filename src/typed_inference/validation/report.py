"""What validation says: the problems found in a payload, the verdict on one payload and on many."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["BATCH_VARIANT", "KINDS", "BatchReport", "Entry", "Kind", "Problem", "Report", "UsageError"]

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
    rule: str = "invalid-value"  # the kind of problem: an id of `validation.rules.RULES`

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
