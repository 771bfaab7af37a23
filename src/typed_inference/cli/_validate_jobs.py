"""What `validate` runs: jobs (a task and kind, how to read, which paths), their sources, and what each found."""

from __future__ import annotations

import glob
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from typed_inference.cli._common import LINE_SUFFIXES, CommandError

if TYPE_CHECKING:
    from typed_inference.validation import BatchReport, Validator

DEFAULT_GLOBS = ("*.json", "*.jsonl", "*.ndjson")
_GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True)
class Job:
    """One validation: a task and kind, how to read the payloads, the paths, and where it was asked for."""

    task: str
    kind: str
    paths: tuple[str, ...]
    each: bool = False
    jsonl: bool = False
    globs: tuple[str, ...] = DEFAULT_GLOBS
    strict: bool = False
    canonical_only: bool = False
    origin: str = ""  # "pyproject.toml, entry 2": prefixes the usage errors of a config entry
    base: Path | None = None  # where relative paths start (the config file's folder); None: the working directory


@dataclass
class Source:
    """One place payloads are read from: a file, or stdin."""

    name: str
    path: Path | None


@dataclass
class Outcome:
    """What validating one source found, for which task and kind, and how long it took."""

    source: Source
    batch: BatchReport
    task: str
    kind: str
    job: int = 0  # the index of the job it belongs to
    notes: list[str] = field(default_factory=list)
    lines: list[int] | None = None  # each payload's line, for reports naming every payload (JUnit)
    seconds: float = 0.0


@dataclass
class Results:
    """Everything one `validate` run found: the outcomes, the sources it could not read, and its jobs."""

    jobs: list[Job]
    outcomes: list[Outcome]
    unreadable: list[tuple[str, str]]  # (source name, why)
    validators: list[Validator] = field(default_factory=list)

    def exit_code(self) -> int:
        """0 all valid, 1 some payload invalid, 2 some source unreadable."""
        if self.unreadable:
            return 2
        return 1 if any(not o.batch.valid for o in self.outcomes) else 0


def _prefixed(job: Job, message: str) -> str:
    return f"{job.origin}: {message}" if job.origin else message


def build_validator(job: Job) -> Validator:
    """The validator of a job; a CommandError naming the job's config entry for an unknown task or kind."""
    from typed_inference.validation import UsageError, validator

    try:
        return validator(job.task, job.kind, strict=job.strict, canonical_only=job.canonical_only)
    except UsageError as exc:
        raise CommandError(_prefixed(job, str(exc))) from None


def _display(path: Path) -> str:
    """A path as reports show it: as given when relative, else relative to the working directory when below it."""
    if not path.is_absolute():
        return str(path)
    text = os.path.relpath(path)
    return str(path) if text.startswith("..") else text


def resolve_sources(job: Job) -> list[Source]:
    """The files behind a job's paths (directories recursed with its globs, patterns expanded); a CommandError
    naming every missing one."""
    sources: list[Source] = []
    problems: list[str] = []
    for raw in job.paths:
        if raw == "-":
            sources.append(Source("<stdin>", None))
            continue
        if job.base is not None and _GLOB_CHARS & set(raw):
            matches = sorted(glob.glob(raw, root_dir=job.base, recursive=True))
            if not matches:
                problems.append(f"no files match {raw} (relative to {_display(job.base) or '.'})")
            for match in matches:
                sources += _below(job.base / match, _display(job.base / match), job.globs, problems)
            continue
        path = Path(raw) if job.base is None else job.base / raw
        name = raw if job.base is None else _display(path)
        if not path.exists():
            problems.append(f"no such file or directory: {name}")
            continue
        sources += _below(path, name, job.globs, problems, as_found=job.base is None)
    if problems:
        raise CommandError(_prefixed(job, "; ".join(problems)))
    return sources


def _below(path: Path, name: str, globs: Sequence[str], problems: list[str], *, as_found: bool = False) -> list[Source]:
    """A file as one source, a directory as the files matching the globs below it (named as found when the
    directory was named on the command line, else relative to the working directory)."""
    if not path.is_dir():
        return [Source(name, path)]
    found = sorted({p for pattern in globs for p in path.rglob(pattern) if p.is_file()})
    if not found:
        problems.append(f"no files matching {', '.join(globs)} under {name}")
    return [Source(str(p) if as_found else _display(p), p) for p in found]


def read_source(source: Source) -> bytes:
    """The bytes of a source (stdin read whole)."""
    if source.path is None:
        return sys.stdin.buffer.read()
    return source.path.read_bytes()


def check_source(check: Any, job: Job, source: Source, data: bytes, *, with_lines: bool = False) -> Outcome:
    """The outcome of one source, read as JSON Lines, as an array of payloads (each), or as one payload."""
    from typed_inference.validation.positions import array_payload_lines, document_payload_line, jsonl_payload_lines

    started = time.perf_counter()
    task, kind = check.spec.task, check.kind
    lines: list[int] | None = None
    if job.jsonl or source.name.endswith(LINE_SUFFIXES):
        outcome = Outcome(source, check.check_lines(data), task, kind)
        if with_lines:
            lines = jsonl_payload_lines(data.removeprefix(b"\xef\xbb\xbf"), events=kind == "stream-output")
    elif job.each:
        outcome = Outcome(source, check.check_array(data), task, kind)
        if with_lines:
            lines = array_payload_lines(data.removeprefix(b"\xef\xbb\xbf"))
    else:
        outcome = Outcome(source, check.check_document(data), task, kind)
        if with_lines:
            lines = [document_payload_line(data.removeprefix(b"\xef\xbb\xbf"))]
        _explain_document(outcome, kind, data)
    outcome.lines = lines
    outcome.seconds = time.perf_counter() - started
    return outcome


def _explain_document(outcome: Outcome, kind: str, data: bytes) -> None:
    """Notes on a one-payload file that fails as a whole because it holds an array or several values."""
    if outcome.batch.valid:
        return
    if kind != "output" and data.lstrip().startswith(b"["):
        outcome.notes.append("the file holds an array: pass --each to check each element as a payload")
    first = outcome.batch.entries[0].report.errors[0].message
    if first.startswith("malformed JSON: Extra data"):
        outcome.notes.append("the file holds several JSON values: pass --jsonl to read it as JSON Lines")


def run_jobs(jobs: Sequence[Job], *, with_lines: bool = False) -> Results:
    """Every job checked, source by source; usage errors (unknown task, missing path) before anything is read."""
    checks = [build_validator(job) for job in jobs]
    planned = [resolve_sources(job) for job in jobs]
    results = Results(list(jobs), [], [], checks)
    for index, (job, check, sources) in enumerate(zip(jobs, checks, planned, strict=True)):
        for source in sources:
            try:
                data = read_source(source)
            except OSError as exc:
                results.unreadable.append((source.name, str(exc.strerror or exc)))
                continue
            outcome = check_source(check, job, source, data, with_lines=with_lines)
            outcome.job = index
            results.outcomes.append(outcome)
    return results
