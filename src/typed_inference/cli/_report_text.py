"""The reports `validate` has always printed: text for people, JSON for machines, GitHub Actions annotations."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typed_inference.cli._validate_jobs import Outcome, Results
    from typed_inference.validation import Entry


def counts(outcomes: Sequence[Outcome]) -> tuple[int, int, int]:
    """(payloads checked, invalid payloads, payloads in a wire variant) over the outcomes."""
    checked = invalid = variants = 0
    for outcome in outcomes:
        checked += outcome.batch.checked
        for entry in outcome.batch.entries:
            invalid += not entry.report.valid
            variants += bool(entry.report.valid and entry.report.variant)
    return checked, invalid, variants


def summaries(results: Results) -> str:
    """The closing lines of a text report: one per job (`fill-mask input: 3 of 4 payloads invalid in 1 file`)."""
    out = []
    for index, check in enumerate(results.validators):
        outcomes = [o for o in results.outcomes if o.job == index]
        unreadable = len(results.unreadable) if len(results.jobs) == 1 else 0
        out.append(_summary(outcomes, unreadable, check.spec.task, check.kind))
    if len(results.jobs) > 1 and results.unreadable:
        out.append(f"{len(results.unreadable)} unreadable\n")
    return "".join(out)


def _summary(outcomes: Sequence[Outcome], unreadable: int, task: str, kind: str) -> str:
    checked, invalid, variants = counts(outcomes)
    files = f"{len(outcomes)} file{'s' if len(outcomes) != 1 else ''}"
    payloads = f"{checked:,} payload{'s' if checked != 1 else ''}"
    verdict = f"{invalid:,} of {payloads} invalid" if invalid else f"{payloads} valid"
    if not checked and not invalid:
        verdict = "no payloads found"
    extra = f", {variants:,} in a wire variant" if variants else ""
    failed = f", {unreadable} unreadable" if unreadable else ""
    return f"{task} {kind}: {verdict} in {files}{extra}{failed}\n"


def where(name: str, line: int | None, column: int | None) -> str:
    """`file:line:column` as far as known."""
    out = name
    if line is not None:
        out += f":{line}"
        if column is not None:
            out += f":{column}"
    return out


def format_text(results: Results) -> str:
    """The human report: one line per problem (`file:line:col: error: path: message`), then the summaries."""
    out: list[str] = []
    for outcome in results.outcomes:
        name = outcome.source.name
        for entry in outcome.batch.entries:
            report = entry.report
            if report.valid:
                out.append(f"{where(name, entry.line, None)}: note: wire variant {report.variant!r}\n")
                continue
            for p in report.errors:
                out.append(f"{where(name, p.line, p.column)}: error: {p.path}: {p.message}\n")
        out += [f"{name}: note: {note}\n" for note in outcome.notes]
    out.append(summaries(results))
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


def format_json(results: Results) -> str:
    """The machine-readable report: totals, per-file counts, every problem and every wire variant seen (and with
    several jobs, a record of each under `jobs`)."""
    checked, invalid, _ = counts(results.outcomes)
    problems: list[dict[str, Any]] = []
    variants: list[dict[str, Any]] = []
    files = []
    for outcome in results.outcomes:
        name = outcome.source.name
        for entry in outcome.batch.entries:
            (variants if entry.report.valid else problems).extend(_entry_json(name, entry))
        bad = len(outcome.batch.invalid)
        files.append({"file": name, "checked": outcome.batch.checked, "invalid": bad, "notes": outcome.notes})
    names = [(check.spec.task, check.kind) for check in results.validators]
    jobs = []
    for index, (task, kind) in enumerate(names):
        mine = [o for o in results.outcomes if o.job == index]
        job_checked, job_invalid, _ = counts(mine)
        jobs.append({"task": task, "kind": kind, "checked": job_checked, "invalid": job_invalid, "files": len(mine)})
    single = len(set(names)) == 1
    document = {
        "task": names[0][0] if single else None,
        "kind": names[0][1] if single else None,
        "valid": not invalid and not results.unreadable,
        "checked": checked,
        "invalid": invalid,
        "files": files,
        "problems": problems,
        "variants": variants,
        "errors": [f"cannot read {name}: {why}" for name, why in results.unreadable],
        "jobs": jobs,
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _escape(text: str, *, prop: bool = False) -> str:
    """Text escaped for a GitHub Actions workflow command (its properties also escape `:` and `,`)."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def format_github(results: Results) -> str:
    """GitHub Actions annotations (`::error file=...,line=...::`), one per problem, then the summaries."""
    out: list[str] = []
    for outcome in results.outcomes:
        title = _escape(f"typed-inference {outcome.task} {outcome.kind}", prop=True)
        name = _escape(outcome.source.name, prop=True)
        for entry in outcome.batch.entries:
            report = entry.report
            if report.valid:
                place = f"file={name},line={entry.line or 1}"
                out.append(f"::notice {place},title={title}::{_escape(f'wire variant {report.variant!r}')}\n")
                continue
            for p in report.errors:
                place = f"file={name},line={p.line or 1}" + (f",col={p.column}" if p.column else "")
                out.append(f"::error {place},title={title}::{_escape(f'{p.path}: {p.message}')}\n")
        for note in outcome.notes:
            out.append(f"::notice file={name},title={title}::{_escape(note)}\n")
    title = _escape("typed-inference validate", prop=True)
    if len(results.validators) == 1:
        check = results.validators[0]
        title = _escape(f"typed-inference {check.spec.task} {check.kind}", prop=True)
    for name, why in results.unreadable:
        out.append(f"::error title={title}::{_escape(f'cannot read {name}: {why}')}\n")
    out.append(summaries(results))
    return "".join(out)
