"""`typed-inference schema`: only the `$defs` a task and kind reach, `--all --out DIR`, and verdicts that agree."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.test_cli import TARGETS, _mutations, example, invalid_inputs, run
from typed_inference._generated.registry import TASKS
from typed_inference.cli.schema import json_schema, schema_kinds, task_bundle
from typed_inference.validation import validate


def refs(node: Any) -> set[str]:
    """Every `$ref` in a schema."""
    if isinstance(node, list):
        return {r for item in node for r in refs(item)}
    if not isinstance(node, dict):
        return set()
    found = {r for value in node.values() for r in refs(value)}
    if isinstance(node.get("$ref"), str):
        found.add(node["$ref"])
    return found


def test_fill_mask_input_prints_only_what_it_reaches() -> None:
    result = run("schema", "fill-mask", "--kind", "input")
    assert result.code == 0
    schema = result.json()
    assert set(schema["$defs"]) == {"FillMaskInput", "FillMaskParameters", "Options"}
    assert len(task_bundle("fill-mask")["$defs"]) > len(schema["$defs"])
    assert len(result.out.splitlines()) < 150  # was 302 with every definition (117: optional fields admit null)


@pytest.mark.parametrize(("task", "kind"), TARGETS, ids=[f"{t}:{k}" for t, k in TARGETS])
def test_pruned_schemas_are_self_contained_and_minimal(task: str, kind: str) -> None:
    schema = json_schema(TASKS[task], kind)
    Draft202012Validator.check_schema(schema)
    names = {r.removeprefix("#/$defs/") for r in refs(schema)}
    assert all(r.startswith("#/$defs/") for r in refs(schema))
    assert names == set(schema["$defs"])  # every definition is referenced, every reference is defined


def _verdicts(task: str, kind: str) -> list[tuple[Any, bool, bool]]:
    """(payload, validate's verdict, jsonschema's verdict) for the example, known-bad payloads and mutations."""
    checker = Draft202012Validator(json_schema(TASKS[task], kind))
    payloads = [example(task, kind), *_mutations(example(task, kind))]
    if kind == "input":
        payloads += invalid_inputs(task)
    # the schema describes the canonical shape: outputs' wire variants are validate's own (see the test below)
    canonical = kind == "output"
    return [(p, validate(task, p, kind, canonical_only=canonical).valid, checker.is_valid(p)) for p in payloads]


@pytest.mark.parametrize(("task", "kind"), TARGETS, ids=[f"{t}:{k}" for t, k in TARGETS])
def test_the_printed_schemas_give_validates_verdicts(task: str, kind: str) -> None:
    """jsonschema with the printed schema agrees with `validate` on the example, the known-bad payloads and every
    mutation. Outputs are compared with `--canonical-only`: `validate` also accepts the real wire variants (a flat
    vector for feature-extraction, one list per mask for fill-mask, ...), which no schema of the canonical shape
    describes."""
    verdicts = _verdicts(task, kind)
    assert verdicts[0][1] and verdicts[0][2]  # the example is valid for both
    if kind == "input":
        assert not any(ours or theirs for _, ours, theirs in verdicts[-len(invalid_inputs(task)) :])
    differ = [(json.dumps(p), ours, theirs) for p, ours, theirs in verdicts if ours != theirs]
    assert differ == [], differ[:5]


def test_schema_all_writes_every_task_and_kind(tmp_path: Path) -> None:
    result = run("schema", "--all", "--out", tmp_path / "schemas")
    assert result.code == 0, result.err
    written = sorted(p.name for p in (tmp_path / "schemas").iterdir())
    expected = sorted(f"{task}.{kind}.json" for task, spec in TASKS.items() for kind in schema_kinds(spec))
    assert written == expected and len(written) > len(TASKS) * 2
    one = json.loads((tmp_path / "schemas" / "fill-mask.input.json").read_text())
    assert one == json_schema(TASKS["fill-mask"], "input")
    assert json.loads((tmp_path / "schemas" / "text-to-image.output.json").read_text())["$ref"].endswith("Output")
    arrays = run("schema", "--all", "--array", "--out", tmp_path / "arrays")
    assert arrays.code == 0
    assert json.loads((tmp_path / "arrays" / "fill-mask.input.json").read_text())["type"] == "array"


def test_schema_usage_errors(tmp_path: Path) -> None:
    assert "--all needs --out" in run("schema", "--all").err
    assert "give neither a task" in run("schema", "fill-mask", "--all", "--out", tmp_path).err
    assert "--out goes with --all" in run("schema", "fill-mask", "--out", tmp_path).err
    assert "give a task" in run("schema").err
    (tmp_path / "file").write_text("")
    blocked = run("schema", "--all", "--out", tmp_path / "file" / "sub")
    assert blocked.code == 2 and "cannot create" in blocked.err
