"""`validate` from the repository's config: `[[tool.typed-inference.validate]]` tables, and the hook that reads them."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_cli import FILL, run

ROOT = Path(__file__).resolve().parent.parent
CONFIG = """
[project]
name = "payloads"

[[tool.typed-inference.validate]]
paths = ["fixtures/requests", "recorded/*.ndjson"]   # files, folders, globs; relative to this file
task = "fill-mask"
kind = "input"

[[tool.typed-inference.validate]]
paths = "answers/*.json"
task = "fill-mask"
kind = "output"
strict = true
each = false
"""


def repository(root: Path, config: str = CONFIG) -> Path:
    """A repository with valid payloads for both entries of CONFIG."""
    (root / "fixtures" / "requests" / "deeper").mkdir(parents=True)
    (root / "recorded").mkdir()
    (root / "answers").mkdir()
    (root / "fixtures" / "requests" / "a.json").write_text('{"inputs": "a [MASK]."}')
    (root / "fixtures" / "requests" / "deeper" / "b.jsonl").write_text('{"inputs": "b [MASK]."}\n')
    (root / "recorded" / "calls.ndjson").write_text('{"inputs": "c [MASK]."}\n{"inputs": "d [MASK]."}\n')
    (root / "answers" / "one.json").write_text(json.dumps(FILL))
    (root / "pyproject.toml").write_text(config)
    return root


def test_a_bare_validate_checks_every_entry_with_one_exit_code(tmp_path: Path) -> None:
    root = repository(tmp_path)
    clean = run("validate", cwd=root)
    assert clean.code == 0, clean.err
    assert clean.out.splitlines() == [
        "fill-mask input: 4 payloads valid in 3 files",
        "fill-mask output: 1 payload valid in 1 file",
    ]
    (root / "answers" / "one.json").write_text(json.dumps([{**FILL[0], "extra": 1}]))  # strict = true in the entry
    invalid = run("validate", "--format", "json", cwd=root)
    assert invalid.code == 1
    report = invalid.json()
    assert report["checked"] == 5 and report["invalid"] == 1
    assert [(j["task"], j["kind"], j["checked"], j["invalid"]) for j in report["jobs"]] == [
        ("fill-mask", "input", 4, 0),
        ("fill-mask", "output", 1, 1),
    ]
    assert report["problems"][0]["file"] == "answers/one.json" and "(strict)" in report["problems"][0]["message"]


def test_the_config_is_found_from_a_subfolder_and_paths_are_relative_to_it(tmp_path: Path) -> None:
    root = repository(tmp_path)
    (root / "recorded" / "calls.ndjson").write_text('{"inputs": 3}\n')
    below = run("validate", cwd=root / "fixtures")
    assert below.code == 1 and "fill-mask input: 1 of 3 payloads invalid in 3 files" in below.out
    assert f"{root / 'recorded' / 'calls.ndjson'}:1:12: error: inputs" in below.out
    for fmt in ("junit", "sarif", "gitlab", "github"):
        assert run("validate", "--format", fmt, cwd=root).code == 1


def test_config_flag_reads_another_toml_file(tmp_path: Path) -> None:
    root = repository(tmp_path)
    (root / "pyproject.toml").write_text('[project]\nname = "x"\n')
    none_here = run("validate", cwd=root)
    assert none_here.code == 2 and "no pyproject.toml with [[tool.typed-inference.validate]]" in none_here.err
    (root / "ci").mkdir()
    elsewhere = CONFIG
    for folder in ("fixtures", "recorded", "answers"):
        elsewhere = elsewhere.replace(f'"{folder}/', f'"../{folder}/')
    (root / "ci" / "payloads.toml").write_text(elsewhere)
    assert run("validate", "--config", "ci/payloads.toml", cwd=root).code == 0
    assert (
        run("validate", "--config", root / "ci" / "payloads.toml", "--format", "junit", cwd=tmp_path.parent).code == 0
    )
    missing = run("validate", "--config", "nope.toml", cwd=root)
    assert missing.code == 2 and "cannot read config nope.toml" in missing.err


def test_task_with_paths_bypasses_the_config(tmp_path: Path) -> None:
    root = repository(tmp_path, CONFIG.replace('task = "fill-mask"', 'task = "no-such-task"', 1))
    assert run("validate", cwd=root).code == 2
    assert run("validate", "--task", "fill-mask", "answers/one.json", cwd=root).code == 1  # a list is no request
    assert run("validate", "--task", "fill-mask", "--kind", "output", "answers/one.json", cwd=root).code == 0


T, P = 'task = "fill-mask"', 'paths = ["data"]'
BAD_ENTRIES = [
    (f'tsk = "fill-mask"\n{P}', "entry 1: unknown key 'tsk'; did you mean 'task'?"),
    (f"{T}\n{P}\ncanonical_only = true", "entry 1 (task 'fill-mask'): unknown key 'canonical_only'; "
     "did you mean 'canonical-only'?"),
    (f'task = "fill-masks"\n{P}', "entry 1 (task 'fill-masks'): unknown task 'fill-masks'; did you mean 'fill-mask'?"),
    (f'{T}\n{P}\nkind = "ouput"', "entry 1 (task 'fill-mask'): unknown kind 'ouput'; did you mean 'output'?"),
    (f'{T}\n{P}\nkind = "stream-output"', "entry 1 (task 'fill-mask'): fill-mask does not stream"),
    (f"{T}\n{P}\nstrict = 1", "entry 1 (task 'fill-mask'): 'strict' should be true or false, found 1 (integer)"),
    (f"{T}\npaths = []", "entry 1 (task 'fill-mask'): 'paths' should be a string or a list of strings, "
     "found [] (array)"),
    (f'{T}\npaths = ["nope/"]', "entry 1 (task 'fill-mask'): no such file or directory: nope"),
    (f'{T}\npaths = ["*.nope"]', "entry 1 (task 'fill-mask'): no files match *.nope"),
    (T, "entry 1 (task 'fill-mask'): missing key 'paths'"),
    (P, "entry 1: missing key 'task'"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "message"), BAD_ENTRIES, ids=[m.split(": ", 1)[1][:40] for _, m in BAD_ENTRIES])
def test_a_bad_entry_is_a_usage_error_naming_it(tmp_path: Path, body: str, message: str) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.json").write_text('{"inputs": "a"}')
    good = f"[[tool.typed-inference.validate]]\n{T}\n{P}\n"
    (tmp_path / "pyproject.toml").write_text(f"[[tool.typed-inference.validate]]\n{body}\n")
    assert run("validate", cwd=tmp_path).code == 2
    (tmp_path / "pyproject.toml").write_text(f"{good}[[tool.typed-inference.validate]]\n{body}\n")  # the 2nd
    result = run("validate", cwd=tmp_path)
    assert result.code == 2, result.out + result.err
    assert result.out == ""  # nothing checked: every entry is read before any payload
    expected = message.replace("entry 1", "entry 2")
    assert (
        f"typed-inference validate: error: pyproject.toml: [[tool.typed-inference.validate]] {expected}" in result.err
    )
    (tmp_path / "pyproject.toml").write_text(good)
    assert run("validate", cwd=tmp_path).code == 0


def test_other_usage_errors(tmp_path: Path) -> None:
    root = repository(tmp_path)
    (root / "broken.toml").write_text("[[tool.typed-inference.validate]\n")
    broken = run("validate", "--config", "broken.toml", cwd=root)
    assert broken.code == 2 and "broken.toml: not valid TOML" in broken.err and "line 1" in broken.err
    paths_alone = run("validate", "answers/one.json", cwd=root)
    assert paths_alone.code == 2 and "need --task" in paths_alone.err
    flags = run("validate", "--strict", "--kind", "output", cwd=root)
    assert flags.code == 2 and "--kind, --strict: only with --task" in flags.err
    both = run("validate", "--task", "fill-mask", "--config", "pyproject.toml", "answers/one.json", cwd=root)
    assert both.code == 2 and "exclude each other" in both.err
    (root / "pyproject.toml").write_text('[tool.typed-inference]\nvalidate = "fixtures"\n')
    assert "should be [[tool.typed-inference.validate]] tables" in run("validate", cwd=root).err


def hook_fields(hook_id: str) -> dict[str, str]:
    """The `key: value` fields of one hook of the repository's `.pre-commit-hooks.yaml` (flat YAML, read as text)."""
    text = (ROOT / ".pre-commit-hooks.yaml").read_text()
    [block] = [b for b in re.split(r"^- ", text, flags=re.MULTILINE) if b.startswith(f"id: {hook_id}\n")]
    fields = re.findall(r"^\s*([\w_]+): (.*)$", block, flags=re.MULTILINE)
    return {key: value.strip().strip('"') for key, value in fields}


def test_the_config_hook_needs_no_args(tmp_path: Path) -> None:
    """The repository's `.pre-commit-hooks.yaml` hook, run as pre-commit runs it (its entry, no file names)."""
    hook = hook_fields("typed-inference-validate-config")
    assert hook["pass_filenames"] == "false" and "args" not in hook and hook["language"] == "python"
    root = repository(tmp_path)
    words = hook["entry"].split()
    assert words[0] == "typed-inference"
    command = [sys.executable, "-m", "typed_inference.cli", *words[1:]]
    assert subprocess.run(command, cwd=root, capture_output=True, timeout=60).returncode == 0
    (root / "fixtures" / "requests" / "a.json").write_text('{"inputs": 1}')
    failed = subprocess.run(command, cwd=root, capture_output=True, timeout=60)
    assert failed.returncode == 1 and b"fixtures/requests/a.json:1:12: error: inputs" in failed.stdout
    assert re.search(hook["files"], "pyproject.toml") and re.search(hook["files"], "x/y.jsonl")
    assert not re.search(hook["files"], "README.md")
