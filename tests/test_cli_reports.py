"""`validate --format junit | sarif | gitlab`: each report read by the real consumer's parser or validator."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from junitparser import Error, Failure, JUnitXml

from tests.test_cli import example, jsonl, run
from typed_inference.validation.rules import RULES

BAD_TOP_K = {"inputs": "a [MASK].", "parameters": {"top_k": 0}}
MISSPELT = {"inputs": "a [MASK].", "parameters": {"top_kk": 2}}


def fixtures(folder: Path) -> dict[str, Any]:
    """A JSON Lines file of 200 requests with 1% invalid (a wrong value; a misspelt field and a wrong type; malformed
    JSON) and an array file of 3 with one invalid; each file's payload count and {line of a bad payload: problems}."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = [json.dumps({"inputs": f"text {i} [MASK]."}).encode() for i in range(200)]
    rows[49] = json.dumps(BAD_TOP_K).encode()
    rows[149] = json.dumps({"inputz": "a [MASK].", "parameters": {"top_k": "2"}}).encode()
    rows[199] = b'{"inputs": "a [MASK]." "parameters": {}}'
    (folder / "requests.jsonl").write_bytes(b"\n".join(rows) + b"\n")
    batch = [{"inputs": "a [MASK]."}, MISSPELT, {"inputs": "b [MASK]."}]
    (folder / "batch.json").write_text(json.dumps(batch, indent=1))
    return {"requests.jsonl": (200, {50: 1, 150: 3, 200: 1}), "batch.json": (3, {5: 1})}


# -- JUnit ----------------------------------------------------------------------------------------------------------


def test_junit_report_is_read_by_junitparser(tmp_path: Path) -> None:
    expected = fixtures(tmp_path / "fixtures")
    result = run("validate", "--task", "fill-mask", "--each", "--format", "junit", "fixtures", cwd=tmp_path)
    assert result.code == 1, result.err
    (tmp_path / "report.xml").write_text(result.out)
    xml = JUnitXml.fromfile(str(tmp_path / "report.xml"))
    suites = {suite.name: suite for suite in xml}
    assert set(suites) == {f"fixtures/{name}" for name in expected}
    assert xml.tests == 203 and xml.failures == 4 and xml.errors == 0
    for name, (payloads, bad_lines) in expected.items():
        suite = suites[f"fixtures/{name}"]
        cases = list(suite)
        assert len(cases) == payloads == suite.tests
        assert suite.failures == len(bad_lines)
        assert len({case.name for case in cases}) == payloads  # one case per payload, each named by its line
        assert all(case.name.startswith(f"fixtures/{name}:") for case in cases)
        failed = {case.name: case for case in cases if any(isinstance(r, Failure) for r in case.result)}
        assert set(failed) == {f"fixtures/{name}:{line}" for line in bad_lines}
        for line, problems in bad_lines.items():
            [failure] = failed[f"fixtures/{name}:{line}"].result
            text = failure.text or ""
            assert len(text.splitlines()) == problems  # every problem of the payload, one a line
            assert all(re.match(rf"fixtures/{re.escape(name)}:\d+:\d+: ", row) for row in text.splitlines())
    [top_k] = next(case for case in suites["fixtures/requests.jsonl"] if case.name.endswith(":50")).result
    assert isinstance(top_k, Failure) and top_k.type == "out-of-range"
    assert (top_k.text or "").startswith("fixtures/requests.jsonl:50:49: parameters.top_k: ")
    [batch_failure] = next(case for case in suites["fixtures/batch.json"] if case.result).result
    assert (batch_failure.text or "").startswith("fixtures/batch.json:8:4: parameters.top_kk: unknown field")
    assert "parameters.top_k" in (top_k.text or "") and "expected: greater than or equal to 1" in (top_k.text or "")
    assert "found: 0 (integer)" in (top_k.text or "")


def test_junit_names_every_payload_of_a_captured_stream_by_its_line(tmp_path: Path) -> None:
    event = json.dumps(example("text-generation", "stream-output"))
    capture = f'data: {event}\n\n: keep-alive\nevent: x\ndata: {event}\n\ndata: {{"token": 3}}\ndata: [DONE]\n'
    (tmp_path / "stream.txt").write_text(capture)
    args = ("validate", "--task", "text-generation", "--kind", "stream-output", "--jsonl", "--format", "junit")
    result = run(*args, "stream.txt", cwd=tmp_path)
    assert result.code == 1
    (tmp_path / "r.xml").write_text(result.out)
    [suite] = JUnitXml.fromfile(str(tmp_path / "r.xml"))
    assert [case.name for case in suite] == ["stream.txt:1", "stream.txt:5", "stream.txt:7"]
    assert [bool(case.result) for case in suite] == [False, False, True]


def test_junit_reports_unreadable_files_as_errors(tmp_path: Path) -> None:
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "ok.json").write_text('{"inputs": "a"}')
    result = run("validate", "--task", "fill-mask", "--format", "junit", "sub", "sub", cwd=tmp_path)
    assert result.code == 0
    (tmp_path / "r.xml").write_text(result.out)
    assert JUnitXml.fromfile(str(tmp_path / "r.xml")).tests == 2
    if os.name == "posix" and os.geteuid() != 0:
        locked = folder / "locked.json"
        locked.write_text("{}")
        locked.chmod(0)
        failed = run("validate", "--task", "fill-mask", "--format", "junit", "sub", cwd=tmp_path)
        assert failed.code == 2 and "cannot read" in failed.err
        (tmp_path / "r.xml").write_text(failed.out)
        xml = JUnitXml.fromfile(str(tmp_path / "r.xml"))
        assert xml.errors == 1
        assert any(isinstance(r, Error) for suite in xml for case in suite for r in case.result)


# -- SARIF ----------------------------------------------------------------------------------------------------------


def sarif_multitool() -> str:
    """Microsoft's SARIF validator: $SARIF_MULTITOOL, on PATH, or installed with npm into a cache folder."""
    if os.environ.get("SARIF_MULTITOOL"):
        return os.environ["SARIF_MULTITOOL"]
    found = shutil.which("sarif-multitool")
    if found:
        return found
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "typed-inference-tests" / "sarif"
    tool = cache / "node_modules" / ".bin" / "sarif-multitool"
    if tool.exists():
        return str(tool)
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed: cannot install @microsoft/sarif-multitool to validate the SARIF report")
    cache.mkdir(parents=True, exist_ok=True)
    command = [npm, "install", "--prefix", str(cache), "--no-audit", "--no-fund", "@microsoft/sarif-multitool"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        pytest.skip("npm install @microsoft/sarif-multitool timed out")
    if done.returncode != 0 or not tool.exists():
        pytest.skip(f"npm install @microsoft/sarif-multitool failed: {done.stderr.strip()[-300:]}")
    return str(tool)


def multitool_findings(tool: str, folder: Path, name: str) -> list[dict[str, Any]]:
    """What `sarif-multitool validate` finds wrong with a log at the error and warning levels (its defaults)."""
    out = folder / f"{name}.validation.sarif"
    out.unlink(missing_ok=True)
    done = subprocess.run([tool, "validate", name, "-o", out.name], cwd=folder, capture_output=True, text=True)
    assert out.exists(), done.stdout + done.stderr
    findings: list[dict[str, Any]] = json.loads(out.read_text())["runs"][0].get("results", [])
    return [f for f in findings if f.get("level", "warning") in ("error", "warning")]


def test_sarif_report_passes_microsofts_validator(tmp_path: Path) -> None:
    tool = sarif_multitool()
    fixtures(tmp_path / "fixtures")
    result = run("validate", "--task", "fill-mask", "--each", "--format", "sarif", "fixtures", cwd=tmp_path)
    assert result.code == 1, result.err
    (tmp_path / "report.sarif").write_text(result.out)
    assert multitool_findings(tool, tmp_path, "report.sarif") == []
    broken = json.loads(result.out)  # the validator does find faults: a region at line 0, a numeric ruleId
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    broken["runs"][0]["results"][1]["ruleId"] = 5
    (tmp_path / "broken.sarif").write_text(json.dumps(broken))
    assert len(multitool_findings(tool, tmp_path, "broken.sarif")) >= 2


def test_sarif_results_match_problems(tmp_path: Path) -> None:
    fixtures(tmp_path / "fixtures")
    sarif = run("validate", "--task", "fill-mask", "--each", "--format", "sarif", "fixtures", cwd=tmp_path).json()
    problems = run("validate", "--task", "fill-mask", "--each", "--format", "json", "fixtures", cwd=tmp_path).json()
    assert sarif["version"] == "2.1.0"
    [run_log] = sarif["runs"]
    driver = run_log["tool"]["driver"]
    assert driver["name"] == "typed-inference" and driver["version"] and driver["informationUri"].startswith("https")
    declared = [rule["id"] for rule in driver["rules"]]
    assert declared == list(RULES)
    results = run_log["results"]
    assert len(results) == len(problems["problems"]) == 6
    for result, problem in zip(results, problems["problems"], strict=True):
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"] == {"uri": problem["file"], "uriBaseId": "SRCROOT"}
        assert location["region"] == {"startLine": problem["line"], "startColumn": problem["column"]}
        assert declared[result["ruleIndex"]] == result["ruleId"]
        assert result["properties"]["jsonPath"] == problem["path"]
        assert result["message"]["text"].endswith(f"{problem['path']}: {problem['message']}")
    rules = ["unknown-field", "out-of-range", "missing-field", "wrong-type", "unknown-field", "malformed-json"]
    assert [r["ruleId"] for r in results] == rules
    assert run_log["originalUriBaseIds"]["SRCROOT"]["uri"] == tmp_path.resolve().as_uri() + "/"


# -- GitLab Code Quality --------------------------------------------------------------------------------------------


def test_gitlab_code_quality_fields_and_stable_fingerprints(tmp_path: Path) -> None:
    fixtures(tmp_path / "fixtures")
    args = ("validate", "--task", "fill-mask", "--each", "--format", "gitlab", "fixtures")
    first = run(*args, cwd=tmp_path)
    assert first.code == 1
    issues = first.json()
    assert len(issues) == 6
    for issue in issues:
        assert set(issue) >= {"description", "check_name", "fingerprint", "severity", "location"}
        assert issue["check_name"] in RULES and issue["severity"] in ("info", "minor", "major", "critical", "blocker")
        assert issue["location"]["path"].startswith("fixtures/") and issue["location"]["lines"]["begin"] >= 1
    assert [(i["location"]["path"], i["location"]["lines"]["begin"]) for i in issues] == [
        ("fixtures/batch.json", 8),
        ("fixtures/requests.jsonl", 50),
        ("fixtures/requests.jsonl", 150),
        ("fixtures/requests.jsonl", 150),
        ("fixtures/requests.jsonl", 150),
        ("fixtures/requests.jsonl", 200),
    ]
    fingerprints = [i["fingerprint"] for i in issues]
    assert len(set(fingerprints)) == len(fingerprints)
    assert [i["fingerprint"] for i in run(*args, cwd=tmp_path).json()] == fingerprints  # the same run, the same
    path = tmp_path / "fixtures" / "requests.jsonl"
    path.write_bytes(b'{"inputs": "new [MASK]."}\n\n' + path.read_bytes())  # lines above move every problem down
    moved = run(*args, cwd=tmp_path).json()
    assert [i["location"]["lines"]["begin"] for i in moved][1:] == [52, 152, 152, 152, 202]
    assert [i["fingerprint"] for i in moved] == fingerprints
    path.write_bytes(path.read_bytes().replace(b'"top_k": 0', b'"top_k": -3'))  # the problem changed: a new print
    changed = run(*args, cwd=tmp_path).json()
    assert changed[1]["fingerprint"] != fingerprints[1] and changed[2:] == moved[2:]
    assert first.json()[0]["severity"] == "major" and issues[-1]["severity"] == "critical"


def test_every_format_gives_the_same_exit_codes(tmp_path: Path) -> None:
    (tmp_path / "good.jsonl").write_bytes(jsonl({"inputs": "a [MASK]."}))
    (tmp_path / "bad.jsonl").write_bytes(jsonl({"inputs": 1}))
    for fmt in ("text", "json", "github", "junit", "sarif", "gitlab"):
        assert run("validate", "--task", "fill-mask", "--format", fmt, "good.jsonl", cwd=tmp_path).code == 0
        assert run("validate", "--task", "fill-mask", "--format", fmt, "bad.jsonl", cwd=tmp_path).code == 1
        missing = run("validate", "--task", "fill-mask", "--format", fmt, "nope.jsonl", cwd=tmp_path)
        assert missing.code == 2 and missing.out == "" and "no such file or directory: nope.jsonl" in missing.err
