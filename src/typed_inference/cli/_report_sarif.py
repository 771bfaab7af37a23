"""`validate --format sarif`: a SARIF 2.1.0 log, one result per problem, for GitHub code scanning and others."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from typed_inference.cli._report_ci import STDIN, problems_with_fingerprints, relative_path

if TYPE_CHECKING:
    from typed_inference.cli._validate_jobs import Outcome, Results

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/typed-inference/"
ROOT_ID = "SRCROOT"
FINGERPRINT = "typedInferenceProblem/v1"


def _driver() -> dict[str, Any]:
    """`tool.driver`: the name, version and home of typed-inference, and every rule a result may name."""
    from typed_inference._version import __version__
    from typed_inference.validation.rules import RULES

    rules = [
        {
            "id": rule.id,
            "name": rule.name,
            "shortDescription": {"text": rule.description},
            "defaultConfiguration": {"level": "error"},
            "helpUri": INFORMATION_URI,
        }
        for rule in RULES.values()
    ]
    return {
        "name": "typed-inference",
        "version": __version__,
        "semanticVersion": __version__,
        "informationUri": INFORMATION_URI,
        "rules": rules,
    }


def _artifact(outcome: Outcome) -> dict[str, Any]:
    """`artifactLocation`: relative to the working directory (`SRCROOT`), else an absolute file URI."""
    relative = relative_path(outcome.source)
    if relative is not None:
        return {"uri": quote(relative), "uriBaseId": ROOT_ID}
    if outcome.source.path is None:
        return {"uri": STDIN}
    return {"uri": outcome.source.path.resolve().as_uri()}


def _results(outcome: Outcome, rule_index: dict[str, int]) -> list[dict[str, Any]]:
    """One SARIF result per problem of an outcome."""
    artifact = _artifact(outcome)
    out = []
    for entry, problem, fingerprint in problems_with_fingerprints(outcome):
        region: dict[str, int] = {"startLine": problem.line or entry.line or 1}
        if problem.column:
            region["startColumn"] = problem.column
        out.append(
            {
                "ruleId": problem.rule,
                "ruleIndex": rule_index[problem.rule],
                "level": "error",
                "message": {"text": f"{outcome.task} {outcome.kind}: {problem.path}: {problem.message}"},
                "locations": [{"physicalLocation": {"artifactLocation": artifact, "region": region}}],
                "partialFingerprints": {FINGERPRINT: fingerprint},
                "properties": {
                    "task": outcome.task,
                    "kind": outcome.kind,
                    "jsonPath": problem.path,
                    "expected": problem.expected,
                    "found": problem.found,
                    "payloadIndex": entry.index,
                },
            }
        )
    return out


def format_sarif(results: Results) -> str:
    """The SARIF 2.1.0 log: one run, every rule declared, one result per problem, unreadable files as errors of
    the invocation."""
    driver = _driver()
    rule_index = {rule["id"]: i for i, rule in enumerate(driver["rules"])}
    found = [result for outcome in results.outcomes for result in _results(outcome, rule_index)]
    notifications = [
        {"level": "error", "message": {"text": f"cannot read {name}: {why}"}} for name, why in results.unreadable
    ]
    invocation: dict[str, Any] = {"executionSuccessful": not results.unreadable}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    run = {
        "tool": {"driver": driver},
        "invocations": [invocation],
        "originalUriBaseIds": {ROOT_ID: {"uri": Path.cwd().resolve().as_uri() + "/"}},
        "columnKind": "unicodeCodePoints",
        "results": found,
    }
    log = {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
