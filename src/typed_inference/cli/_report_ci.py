"""What the CI reports (JUnit, SARIF, GitLab) share: paths relative to the working directory, stable fingerprints."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typed_inference.cli._validate_jobs import Outcome, Source
    from typed_inference.validation import Entry, Problem

STDIN = "stdin"


def relative_path(source: Source) -> str | None:
    """A source's path relative to the working directory with `/` separators; None for stdin or a path outside."""
    if source.path is None:
        return None
    absolute = source.path.resolve()
    try:
        return absolute.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return None


def report_path(source: Source) -> str:
    """The path a CI report names: relative to the working directory, else absolute, `stdin` for stdin."""
    if source.path is None:
        return STDIN
    return relative_path(source) or source.path.resolve().as_posix()


def problems_with_fingerprints(outcome: Outcome) -> Iterator[tuple[Entry, Problem, str]]:
    """Every problem of an outcome with a fingerprint that stays the same across runs while the problem does.

    The fingerprint hashes the file, task, kind, rule, JSON path and message, and how many identical problems came
    before it in the file, but no line: a problem keeps its fingerprint when lines above it move.
    """
    seen: dict[tuple[str, ...], int] = {}
    name = report_path(outcome.source)
    for entry in outcome.batch.entries:
        for problem in entry.report.errors:
            key = (name, outcome.task, outcome.kind, problem.rule, problem.path, problem.message)
            nth = seen[key] = seen.get(key, -1) + 1
            digest = hashlib.sha256("\0".join((*key, str(nth))).encode("utf-8", "backslashreplace"))
            yield entry, problem, digest.hexdigest()[:32]
