"""`validate --format junit`: a JUnit XML report, a suite per file and a test case per payload."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape, quoteattr

from typed_inference.cli._report_ci import report_path
from typed_inference.cli._report_text import counts, where

if TYPE_CHECKING:
    from typed_inference.cli._validate_jobs import Outcome, Results
    from typed_inference.validation import Entry, Problem

# characters XML 1.0 cannot carry at all, even escaped
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _attr(value: object) -> str:
    return quoteattr(_NOT_XML.sub("\ufffd", str(value)))


def _text(value: str) -> str:
    return escape(_NOT_XML.sub("\ufffd", value))


def problem_line(name: str, problem: Problem) -> str:
    """One problem in a failure's text: `file:line:column: path: message (expected ...; found ...)`."""
    place = where(name, problem.line, problem.column)
    return f"{place}: {problem.path}: {problem.message} (expected: {problem.expected}; found: {problem.found})"


def _case(outcome: Outcome, index: int, entry: Entry | None, common: str) -> str:
    """The `<testcase>` of one payload: passed, a failure listing every problem, or a note on its wire variant."""
    name = outcome.source.name
    line = entry.line if entry is not None else None
    if line is None and outcome.lines is not None and index < len(outcome.lines):
        line = outcome.lines[index]
    case_name = f"{name}:{line}" if line is not None else f"{name}[{index}]"
    head = f"<testcase name={_attr(case_name)} {common}"
    head += f" line={_attr(line)}" if line is not None else ""
    if entry is None:
        return f"    {head}/>\n"
    report = entry.report
    if report.valid:
        note = _text(f"wire variant {report.variant!r}")
        return f"    {head}>\n      <system-out>{note}</system-out>\n    </testcase>\n"
    errors = report.errors
    count = f"{len(errors)} problem{'s' if len(errors) != 1 else ''}"
    message = f"{count}: {errors[0].path}: {errors[0].message}"
    body = "\n".join(problem_line(name, p) for p in errors)
    failure = f"<failure message={_attr(message)} type={_attr(errors[0].rule)}>{_text(body)}</failure>"
    return f"    {head}>\n      {failure}\n    </testcase>\n"


def _suite(outcome: Outcome) -> str:
    """The `<testsuite>` of one file: its counts in the attributes, a case per payload, its notes as output."""
    classname = f"{outcome.task}.{outcome.kind}"
    by_index = {entry.index: entry for entry in outcome.batch.entries}
    checked, invalid, _ = counts([outcome])
    attrs = (
        f"name={_attr(outcome.source.name)} tests={_attr(checked)} failures={_attr(invalid)}"
        f' errors="0" skipped="0" time={_attr(f"{outcome.seconds:.3f}")}'
    )
    common = f"classname={_attr(classname)} file={_attr(report_path(outcome.source))}"  # the same for every case
    cases = "".join(_case(outcome, i, by_index.get(i), common) for i in range(checked))
    notes = f"    <system-out>{_text(chr(10).join(outcome.notes))}</system-out>\n" if outcome.notes else ""
    return f"  <testsuite {attrs}>\n{cases}{notes}  </testsuite>\n"


def _unreadable_suites(unreadable: Sequence[tuple[str, str]]) -> str:
    """A suite with one erroring case per source that could not be read."""
    out = []
    for name, why in unreadable:
        error = f'<error message={_attr(f"cannot read {name}: {why}")} type="unreadable"/>'
        case = f'<testcase name={_attr(name)} classname="typed-inference.validate">{error}</testcase>'
        out.append(
            f'  <testsuite name={_attr(name)} tests="1" failures="0" errors="1" skipped="0">{case}</testsuite>\n'
        )
    return "".join(out)


def format_junit(results: Results) -> str:
    """The JUnit XML report GitLab, Jenkins and Azure DevOps read: a suite per file, a case per payload."""
    checked, invalid, _ = counts(results.outcomes)
    seconds = sum(o.seconds for o in results.outcomes)
    errors = len(results.unreadable)
    head = (
        f'<testsuites name="typed-inference validate" tests={_attr(checked + errors)} failures={_attr(invalid)}'
        f" errors={_attr(errors)} time={_attr(f'{seconds:.3f}')}>\n"
    )
    suites = "".join(_suite(o) for o in results.outcomes)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n{head}{suites}{_unreadable_suites(results.unreadable)}</testsuites>\n'
    )
