"""`typed-inference validate`: payload files checked against a task's schema, reported as text, JSON or annotations."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from typed_inference.cli._common import KIND_CHOICES, LINE_SUFFIXES, CommandError, Subparsers, guarded

if TYPE_CHECKING:
    from typed_inference.validation import BatchReport, Entry

DEFAULT_GLOBS = ("*.json", "*.jsonl", "*.ndjson")


def add_commands(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="check JSON / JSONL payloads against a task's schema (exit 0 valid, 1 invalid, 2 usage error)",
        description="Check payloads against a task's schema: .json files (one payload, or an array with --each), "
        ".jsonl and .ndjson files (one payload a line), directories (recursed) or - for stdin.",
    )
    parser.add_argument("--task", required=True, help="task id, e.g. fill-mask (`typed-inference tasks` lists them)")
    parser.add_argument("--kind", default="input", help=f"what the payloads are: {', '.join(KIND_CHOICES)}")
    parser.add_argument("--each", action="store_true", help="a .json file (or stdin) holds an array of payloads")
    parser.add_argument("--jsonl", action="store_true", help="read every file and stdin as JSON Lines")
    parser.add_argument(
        "--glob",
        action="append",
        metavar="PATTERN",
        help=f"files to take from directories (default: {', '.join(DEFAULT_GLOBS)})",
    )
    parser.add_argument("--strict", action="store_true", help="outputs: reject fields the schema does not know")
    parser.add_argument("--canonical-only", action="store_true", help="outputs: reject the real wire variants")
    parser.add_argument("--format", choices=("text", "json", "github"), default="text", help="report format")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files, directories, or - for stdin")
    parser.set_defaults(run=guarded("validate", run_validate))


@dataclass
class Source:
    """One place payloads are read from: a file, or stdin."""

    name: str
    path: Path | None


@dataclass
class Outcome:
    """What validating one source found."""

    source: Source
    batch: BatchReport
    notes: list[str] = field(default_factory=list)


def run_validate(args: argparse.Namespace) -> int:
    """`typed-inference validate`: checks every payload of every path, prints a report, returns the exit code."""
    import gc

    collecting = gc.isenabled()
    gc.disable()  # the hot loop frees everything it makes: collections would only cost time
    try:
        return _validate_paths(args)
    finally:
        if collecting:
            gc.enable()


def _validate_paths(args: argparse.Namespace) -> int:
    """Validates every path of the command line and prints the report; returns the exit code."""
    from typed_inference.validation import validator

    check = validator(args.task, args.kind, strict=args.strict, canonical_only=args.canonical_only)
    sources = resolve_sources(args.paths, tuple(args.glob or DEFAULT_GLOBS))
    outcomes: list[Outcome] = []
    unreadable: list[str] = []
    for source in sources:
        try:
            data = read_source(source)
        except OSError as exc:
            unreadable.append(f"cannot read {source.name}: {exc.strerror or exc}")
            continue
        outcomes.append(validate_source(check, source, data, args))
    report = FORMATTERS[args.format](outcomes, unreadable, check.spec.task, check.kind)
    sys.stdout.write(report)
    sys.stdout.flush()
    for message in unreadable:
        print(f"typed-inference validate: error: {message}", file=sys.stderr)
    if unreadable:
        return 2
    return 1 if any(not o.batch.valid for o in outcomes) else 0


def resolve_sources(paths: Sequence[str], globs: Sequence[str]) -> list[Source]:
    """The files behind the PATH arguments (directories recursed with the globs); a CommandError for missing ones."""
    sources: list[Source] = []
    problems: list[str] = []
    for raw in paths:
        if raw == "-":
            sources.append(Source("<stdin>", None))
            continue
        path = Path(raw)
        if path.is_dir():
            found = sorted({p for pattern in globs for p in path.rglob(pattern) if p.is_file()})
            if not found:
                problems.append(f"no files matching {', '.join(globs)} under {raw}")
            sources += [Source(str(p), p) for p in found]
        elif path.exists():
            sources.append(Source(raw, path))
        else:
            problems.append(f"no such file or directory: {raw}")
    if problems:
        raise CommandError("; ".join(problems))
    return sources


def read_source(source: Source) -> bytes:
    """The bytes of a source (stdin read whole)."""
    if source.path is None:
        return sys.stdin.buffer.read()
    return source.path.read_bytes()


def validate_source(check: Any, source: Source, data: bytes, args: argparse.Namespace) -> Outcome:
    """The outcome of one source, read as JSON Lines, as an array of payloads (--each), or as one payload."""
    lines = args.jsonl or source.name.endswith(LINE_SUFFIXES)
    if lines:
        return Outcome(source, check.check_lines(data))
    if args.each:
        return Outcome(source, check.check_array(data))
    outcome = Outcome(source, check.check_document(data))
    if outcome.batch.valid:
        return outcome
    if check.kind != "output" and data.lstrip().startswith(b"["):
        outcome.notes.append("the file holds an array: pass --each to check each element as a payload")
    first = outcome.batch.entries[0].report.errors[0].message
    if first.startswith("malformed JSON: Extra data"):
        outcome.notes.append("the file holds several JSON values: pass --jsonl to read it as JSON Lines")
    return outcome


def _counts(outcomes: Sequence[Outcome]) -> tuple[int, int, int]:
    """(payloads checked, invalid payloads, payloads in a wire variant) over every source."""
    checked = invalid = variants = 0
    for outcome in outcomes:
        checked += outcome.batch.checked
        for entry in outcome.batch.entries:
            invalid += not entry.report.valid
            variants += bool(entry.report.valid and entry.report.variant)
    return checked, invalid, variants


def summary(outcomes: Sequence[Outcome], unreadable: Sequence[str], task: str, kind: str) -> str:
    """The closing line of a text report."""
    checked, invalid, variants = _counts(outcomes)
    files = f"{len(outcomes)} file{'s' if len(outcomes) != 1 else ''}"
    payloads = f"{checked:,} payload{'s' if checked != 1 else ''}"
    verdict = f"{invalid:,} of {payloads} invalid" if invalid else f"{payloads} valid"
    if not checked and not invalid:
        verdict = "no payloads found"
    extra = f", {variants:,} in a wire variant" if variants else ""
    failed = f", {len(unreadable)} unreadable" if unreadable else ""
    return f"{task} {kind}: {verdict} in {files}{extra}{failed}\n"


def _where(name: str, line: int | None, column: int | None) -> str:
    """`file:line:column` as far as known."""
    out = name
    if line is not None:
        out += f":{line}"
        if column is not None:
            out += f":{column}"
    return out


def format_text(outcomes: Sequence[Outcome], unreadable: Sequence[str], task: str, kind: str) -> str:
    """The human report: one line per problem (`file:line:col: error: path: message`), then a summary."""
    out: list[str] = []
    for outcome in outcomes:
        name = outcome.source.name
        for entry in outcome.batch.entries:
            report = entry.report
            if report.valid:
                out.append(f"{_where(name, entry.line, None)}: note: wire variant {report.variant!r}\n")
                continue
            for p in report.errors:
                out.append(f"{_where(name, p.line, p.column)}: error: {p.path}: {p.message}\n")
        out += [f"{name}: note: {note}\n" for note in outcome.notes]
    out.append(summary(outcomes, unreadable, task, kind))
    return "".join(out)


def _entry_json(name: str, entry: Entry) -> Iterator[dict[str, Any]]:
    """The JSON records of one entry: one per problem, or one for an output's wire variant."""
    report = entry.report
    if report.valid:
        yield {"file": name, "line": entry.line, "index": entry.index, "variant": report.variant}
        return
    for p in report.errors:
        yield {
            "file": name,
            "line": p.line,
            "column": p.column,
            "index": entry.index,
            "path": p.path,
            "message": p.message,
            "expected": p.expected,
            "found": p.found,
        }


def format_json(outcomes: Sequence[Outcome], unreadable: Sequence[str], task: str, kind: str) -> str:
    """The machine-readable report: totals, per-file counts, every problem and every wire variant seen."""
    checked, invalid, _ = _counts(outcomes)
    problems: list[dict[str, Any]] = []
    variants: list[dict[str, Any]] = []
    files = []
    for outcome in outcomes:
        name = outcome.source.name
        for entry in outcome.batch.entries:
            (variants if entry.report.valid else problems).extend(_entry_json(name, entry))
        bad = len(outcome.batch.invalid)
        files.append({"file": name, "checked": outcome.batch.checked, "invalid": bad, "notes": outcome.notes})
    document = {
        "task": task,
        "kind": kind,
        "valid": not invalid and not unreadable,
        "checked": checked,
        "invalid": invalid,
        "files": files,
        "problems": problems,
        "variants": variants,
        "errors": list(unreadable),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _escape(text: str, *, prop: bool = False) -> str:
    """Text escaped for a GitHub Actions workflow command (its properties also escape `:` and `,`)."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def format_github(outcomes: Sequence[Outcome], unreadable: Sequence[str], task: str, kind: str) -> str:
    """GitHub Actions annotations (`::error file=...,line=...::`), one per problem, then the summary line."""
    title = _escape(f"typed-inference {task} {kind}", prop=True)
    out: list[str] = []
    for outcome in outcomes:
        name = _escape(outcome.source.name, prop=True)
        for entry in outcome.batch.entries:
            report = entry.report
            if report.valid:
                where = f"file={name},line={entry.line or 1}"
                out.append(f"::notice {where},title={title}::{_escape(f'wire variant {report.variant!r}')}\n")
                continue
            for p in report.errors:
                where = f"file={name},line={p.line or 1}" + (f",col={p.column}" if p.column else "")
                out.append(f"::error {where},title={title}::{_escape(f'{p.path}: {p.message}')}\n")
        for note in outcome.notes:
            out.append(f"::notice file={name},title={title}::{_escape(note)}\n")
    for message in unreadable:
        out.append(f"::error title={title}::{_escape(message)}\n")
    out.append(summary(outcomes, unreadable, task, kind))
    return "".join(out)


FORMATTERS: dict[str, Callable[[Sequence[Outcome], Sequence[str], str, str], str]] = {
    "text": format_text,
    "json": format_json,
    "github": format_github,
}
