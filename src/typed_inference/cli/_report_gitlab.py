"""`validate --format gitlab`: a GitLab Code Quality report (the Code Climate issue subset GitLab reads)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from typed_inference.cli._report_ci import problems_with_fingerprints, report_path

if TYPE_CHECKING:
    from typed_inference.cli._validate_jobs import Results

# a file that is not JSON at all is worse than a payload with a wrong field
_CRITICAL = frozenset({"malformed-json", "not-utf8", "binary-content", "too-deep", "empty", "not-an-array"})


def format_gitlab(results: Results) -> str:
    """The Code Quality JSON array: one issue per problem, with a fingerprint stable across runs."""
    issues: list[dict[str, Any]] = []
    for outcome in results.outcomes:
        path = report_path(outcome.source)
        for entry, problem, fingerprint in problems_with_fingerprints(outcome):
            issues.append(
                {
                    "type": "issue",
                    "check_name": problem.rule,
                    "description": f"{outcome.task} {outcome.kind}: {problem.path}: {problem.message}",
                    "categories": ["Bug Risk"],
                    "fingerprint": fingerprint,
                    "severity": "critical" if problem.rule in _CRITICAL else "major",
                    "location": {"path": path, "lines": {"begin": problem.line or entry.line or 1}},
                }
            )
    for name, why in results.unreadable:
        issues.append(
            {
                "type": "issue",
                "check_name": "unreadable",
                "description": f"cannot read {name}: {why}",
                "categories": ["Bug Risk"],
                "fingerprint": _unreadable_fingerprint(name),
                "severity": "blocker",
                "location": {"path": name, "lines": {"begin": 1}},
            }
        )
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"


def _unreadable_fingerprint(name: str) -> str:
    import hashlib

    return hashlib.sha256(f"unreadable\0{name}".encode("utf-8", "backslashreplace")).hexdigest()[:32]
