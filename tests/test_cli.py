"""The `typed-inference` command line (validate, tasks, schema, example, call) run as a process on real files,
and the library call `typed_inference.validate` it is a thin layer over."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from pydantic import ValidationError

from tests.provider_fake import ProviderFake
from tests.server import Received, Reply, ScriptedServer
from typed_inference import cli
from typed_inference._decode import strict_adapter
from typed_inference._generated.registry import TASKS
from typed_inference.cli.example import example_value
from typed_inference.cli.schema import json_schema, schema_title, task_bundle
from typed_inference.client import InferenceClient
from typed_inference.validation import check_only_validator, kinds_of, resolve_kind, target, validate, validator

ROOT = Path(__file__).resolve().parent.parent
FILL = [{"sequence": "the goal of life is life.", "score": 0.109, "token": 2166, "token_str": "life"}]
TARGETS = [(task, kind) for task, spec in TASKS.items() for kind in kinds_of(spec)]


@dataclass
class Result:
    """What a CLI process did."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def run(*args: str | Path, stdin: bytes | None = None, cwd: Path | None = None) -> Result:
    """Runs `typed-inference ARGS...` as a process; a traceback on stderr fails the test wherever it happens."""
    done = subprocess.run(
        [sys.executable, "-m", "typed_inference.cli", *map(str, args)],
        input=stdin if stdin is not None else b"",
        capture_output=True,
        cwd=cwd,
        timeout=120,
    )
    out, err = done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err and "Traceback" not in out, err
    return Result(done.returncode, out, err)


def example(task: str, kind: str = "input") -> Any:
    """The minimal valid payload `typed-inference example` prints."""
    bundle = task_bundle(task)
    return example_value(bundle["$defs"][schema_title(TASKS[task], kind)], bundle["$defs"])


def jsonl(*values: Any) -> bytes:
    return b"".join(json.dumps(v).encode() + b"\n" for v in values)


def lines_reported(result: Result) -> list[int]:
    return sorted({p["line"] for p in result.json()["problems"]})


# -- valid and invalid payloads for every task ----------------------------------------------------------------------


def invalid_inputs(task: str) -> list[Any]:
    """Requests every task must reject: a misspelt top-level field, a wrong type, an unknown parameter."""
    good = example(task)
    first = next(iter(good))
    misspelt = {k if k != first else first[:-1]: v for k, v in good.items()}
    wrong_type = {**good, first: 12345}
    unknown_param = {**good, "parameters": {"not_a_parameter": 1}}
    return [misspelt, wrong_type, unknown_param, [good], "text"]


@pytest.mark.parametrize("task", sorted(TASKS))
def test_inputs_of_every_task(task: str, tmp_path: Path) -> None:
    good = example(task)
    with_options = {**good, "options": {"wait_for_model": True}}
    bad = invalid_inputs(task)
    path = tmp_path / "requests.jsonl"
    path.write_bytes(jsonl(good, *bad, with_options))
    result = run("validate", "--task", task, "--kind", "input", "--format", "json", path)
    assert result.code == 1, result.out
    report = result.json()
    assert report["checked"] == 2 + len(bad) and report["invalid"] == len(bad)
    assert lines_reported(result) == list(range(2, 2 + len(bad)))
    messages = " ".join(p["message"] for p in report["problems"] if p["line"] == 2)
    assert "did you mean" in messages  # the misspelt first field


@pytest.mark.parametrize("task", sorted(t for t, s in TASKS.items() if s.output_kind == "json"))
def test_outputs_of_every_task(task: str, tmp_path: Path) -> None:
    variants = json.loads((ROOT / "schemas" / task / "task.json").read_text())["wire_variants"]
    accepted = [v["example"] for v in variants if v["transform"]["op"] == "accepted"]
    good = [example(task, "output"), *(v["canonical"] for v in variants if "canonical" in v), *accepted]
    shaped = [v["example"] for v in variants if v["transform"]["op"] != "accepted"]
    bad = ["not an output", [1, "x", None]]
    path = tmp_path / "responses.jsonl"
    path.write_bytes(jsonl(*good, *shaped, *bad))
    result = run("validate", "--task", task, "--kind", "output", "--format", "json", path)
    assert result.code == 1, result.out
    report = result.json()
    first_bad = len(good) + len(shaped) + 1
    assert lines_reported(result) == [first_bad, first_bad + 1]
    named = {v["name"] for v in variants}
    assert len(report["variants"]) == len(shaped)
    assert all(set(v["variant"].split(", ")) <= named | {"batch (one result per input)"} for v in report["variants"])
    if shaped:
        strict = run("validate", "--task", task, "--kind", "output", "--canonical-only", "--format", "json", path)
        assert strict.code == 1 and lines_reported(strict)[: len(shaped)] == list(
            range(len(good) + 1, len(good) + len(shaped) + 1)
        )


@pytest.mark.parametrize(("task", "kind"), TARGETS, ids=[f"{t}:{k}" for t, k in TARGETS])
def test_examples_and_exported_schemas_agree(task: str, kind: str) -> None:
    value = example(task, kind)
    assert validate(task, value, kind).valid
    schema = json_schema(TASKS[task], kind)
    Draft202012Validator.check_schema(schema)
    assert Draft202012Validator(schema).is_valid(value)
    array = json_schema(TASKS[task], kind, array=True)
    assert Draft202012Validator(array).is_valid([value, value])


def _mutations(value: Any) -> Iterator[Any]:
    """Every node of a payload replaced by values of other types, removed, or given an unknown sibling."""

    def spots(node: Any, path: list[Any]) -> Iterator[list[Any]]:
        yield path
        children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, child in children:
            yield from spots(child, [*path, key])

    for path in spots(value, []):
        replacements: tuple[Any, ...] = (None, "x", 0, -1, 1.5, True, [], {})
        for replacement in replacements:
            if not path:
                yield replacement
                continue
            changed = copy.deepcopy(value)
            parent = changed
            for key in path[:-1]:
                parent = parent[key]
            parent[path[-1]] = replacement
            yield changed
        changed = copy.deepcopy(value)
        node = changed
        for key in path:
            node = node[key]
        if isinstance(node, dict):
            node["zz_unknown"] = 1
            yield changed
            for key in list(node)[:-1]:
                smaller = copy.deepcopy(node)
                del smaller[key]
                yield smaller if not path else _replaced(value, path, smaller)


def _replaced(value: Any, path: list[Any], new: Any) -> Any:
    changed = copy.deepcopy(value)
    parent = changed
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = new
    return changed


@pytest.mark.parametrize(("task", "kind"), TARGETS, ids=[f"{t}:{k}" for t, k in TARGETS])
def test_check_only_validator_agrees_with_the_models(task: str, kind: str) -> None:
    """The fast check decides valid exactly when the generated models do (it only skips building them)."""
    spec = TASKS[task]
    tp, _ = target(spec, resolve_kind(spec, kind))
    real, fast = strict_adapter(tp), check_only_validator(tp)
    for value in [example(task, kind), *_mutations(example(task, kind))]:
        data = json.dumps(value).encode()
        assert accepts(fast.validate_json, data) == accepts(real.validate_json, data), data


def accepts(fn: Any, data: bytes) -> bool:
    try:
        fn(data)
    except ValidationError:
        return False
    return True


# -- the report: formats, positions, exit codes ---------------------------------------------------------------------

MIXED = (
    b'{"inputs": "Paris is the [MASK] of France."}\n'
    b'{"inputs": "a [MASK].", "parameters": {"top_kk": 2}}\n'
    b"\n"
    b'{"inputs": "a [MASK].", "parameters": {"top_k": 0}}\n'
    b'{"inputs": "a [MASK]." "parameters": {}}\n'
)


def test_text_format_places_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    path.write_bytes(MIXED)
    result = run("validate", "--task", "fill-mask", path)
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines == [
        f"{path}:2:40: error: parameters.top_kk: unknown field 'top_kk'; did you mean 'top_k'?",
        f"{path}:4:49: error: parameters.top_k: Input should be greater than or equal to 1; found 0 (int)",
        f"{path}:5:24: error: (body): malformed JSON: Expecting ',' delimiter",
        "fill-mask input: 3 of 4 payloads invalid in 1 file",
    ]


def test_json_format_is_machine_readable(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    path.write_bytes(MIXED)
    report = run("validate", "--task", "fill-mask", "--format", "json", path).json()
    assert report["valid"] is False and report["checked"] == 4 and report["invalid"] == 3
    first = report["problems"][0]
    assert first == {
        "file": str(path),
        "line": 2,
        "column": 40,
        "index": 1,
        "path": "parameters.top_kk",
        "message": "unknown field 'top_kk'; did you mean 'top_k'?",
        "expected": "no such field",
        "found": "field 'top_kk'",
    }
    ranged = report["problems"][1]
    assert ranged["path"] == "parameters.top_k" and ranged["found"] == "0 (integer)"
    assert ranged["expected"] == "greater than or equal to 1"
    assert report["files"] == [{"file": str(path), "checked": 4, "invalid": 3, "notes": []}]


def test_github_format_annotates(tmp_path: Path) -> None:
    path = tmp_path / "a,b.jsonl"
    path.write_bytes(MIXED)
    result = run("validate", "--task", "fill-mask", "--format", "github", path)
    assert result.code == 1
    annotations = [line for line in result.out.splitlines() if line.startswith("::error ")]
    assert len(annotations) == 3
    name = str(path).replace(":", "%3A").replace(",", "%2C")
    assert annotations[0] == (
        f"::error file={name},line=2,col=40,title=typed-inference fill-mask input::"
        "parameters.top_kk: unknown field 'top_kk'; did you mean 'top_k'?"
    )


def test_exit_codes(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text('{"inputs": "a [MASK]."}')
    bad.write_text('{"inputs": 1}')
    assert run("validate", "--task", "fill-mask", good).code == 0
    assert run("validate", "--task", "fill-mask", good, bad).code == 1
    unknown_kind = run("validate", "--task", "fill-mask", "--kind", "ouput", good)
    assert unknown_kind.code == 2 and "did you mean 'output'" in unknown_kind.err
    binary_output = run("validate", "--task", "text-to-image", "--kind", "output", good)
    assert binary_output.code == 2 and "raw bytes" in binary_output.err
    no_stream = run("validate", "--task", "fill-mask", "--kind", "stream-output", good)
    assert no_stream.code == 2 and "does not stream" in no_stream.err
    assert run("validate", "--task", "fill-mask").code == 2  # no path: argparse's usage error
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    nothing = run("validate", "--task", "fill-mask", empty_dir)
    assert nothing.code == 2 and "no files matching" in nothing.err


def test_unknown_task_suggests_one(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text("{}")
    result = run("validate", "--task", "fill_masks", path)
    assert result.code == 2
    assert "unknown task 'fill_masks'; did you mean 'fill-mask'?" in result.err
    assert run("validate", "--task", "FILL_MASK", path).code == 1  # ids are read case- and underscore-blind
    assert "did you mean 'fill-mask'" in run("schema", "fil-mask").err
    assert "did you mean 'zero-shot-classification'" in run("example", "zero-shot-clasification").err


def test_missing_file(tmp_path: Path) -> None:
    result = run("validate", "--task", "fill-mask", tmp_path / "nope.json")
    assert result.code == 2
    assert f"no such file or directory: {tmp_path / 'nope.json'}" in result.err
    assert result.out == ""


def test_malformed_json_has_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "request.json"
    path.write_text('{\n  "inputs": "a [MASK].",\n  "parameters": {"top_k": 2,}\n}\n')
    result = run("validate", "--task", "fill-mask", path)
    assert result.code == 1
    assert result.out.startswith(f"{path}:3:29: error: (body): malformed JSON: Expecting property name")


def test_problem_positions_in_a_pretty_printed_document(tmp_path: Path) -> None:
    path = tmp_path / "request.json"
    path.write_text('{\n  "inputs": "a [MASK].",\n  "parameters": {\n    "top_k": "2"\n  }\n}\n')
    result = run("validate", "--task", "fill-mask", path)
    assert result.code == 1
    assert result.out.startswith(f"{path}:4:14: error: parameters.top_k: Input should be a valid integer")


def test_empty_files(tmp_path: Path) -> None:
    empty_json, empty_lines = tmp_path / "empty.json", tmp_path / "empty.jsonl"
    empty_json.write_bytes(b"")
    empty_lines.write_bytes(b"\n\n")
    result = run("validate", "--task", "fill-mask", empty_json)
    assert result.code == 1 and "the file is empty" in result.out
    lines = run("validate", "--task", "fill-mask", empty_lines)
    assert lines.code == 0 and "no payloads found" in lines.out
    each = run("validate", "--task", "fill-mask", "--each", empty_json)
    assert each.code == 1 and "expected a JSON array" in each.out
    assert run("validate", "--task", "fill-mask", "--each", "-", stdin=b"[]").code == 0


def test_binary_garbage(tmp_path: Path) -> None:
    path = tmp_path / "garbage.json"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x01")
    for extra in ([], ["--each"], ["--jsonl"]):
        result = run("validate", "--task", "fill-mask", "--format", "json", *extra, path)
        assert result.code == 1
        problem = result.json()["problems"][0]
        assert "binary content" in problem["message"] and problem["line"] == 3


def test_deep_nesting_and_json_lines_in_a_json_file(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text('[{"inputs": "x"}, ' + "[" * 5000 + "]" * 5000 + "]")
    for extra in ([], ["--each"], ["--jsonl"]):
        result = run("validate", "--task", "fill-mask", *extra, deep)
        assert result.code == 1 and "nested too deeply" in result.out
    lines = tmp_path / "lines.json"
    lines.write_text('{"inputs": "a"}\n{"inputs": "b"}\n')
    result = run("validate", "--task", "fill-mask", lines)
    assert result.code == 1 and "pass --jsonl" in result.out
    assert run("validate", "--task", "fill-mask", "--jsonl", lines).code == 0


def test_non_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(b'{"inputs": "a [MASK]."}\n{"inputs": "caf\xe9 [MASK]."}\n')
    result = run("validate", "--task", "fill-mask", path)
    assert result.code == 1
    assert f"{path}:2:16: error: (body): not UTF-8 text: byte 0xe9" in result.out
    doc = tmp_path / "latin1.json"
    doc.write_bytes(b'{"inputs":\n "caf\xe9"}')
    assert f"{doc}:2:6: error: (body): not UTF-8 text: byte 0xe9" in run("validate", "--task", "fill-mask", doc).out


def test_100000_line_jsonl(tmp_path: Path) -> None:
    rows = [b'{"inputs": "The goal of number %d is [MASK].", "parameters": {"top_k": 3}}' % i for i in range(100_000)]
    rows[41_999] = b'{"inputs": "x", "parameters": {"top_k": -1}}'
    rows[99_999] = b'{"inputs": "x" "parameters": {}}'
    path = tmp_path / "big.jsonl"
    path.write_bytes(b"\n".join(rows) + b"\n")
    started = time.perf_counter()
    result = run("validate", "--task", "fill-mask", "--format", "json", path)
    elapsed = time.perf_counter() - started
    assert result.code == 1
    assert result.json()["checked"] == 100_000
    assert lines_reported(result) == [42_000, 100_000]
    assert elapsed < 10, elapsed


def test_each_validates_the_elements_of_an_array(tmp_path: Path) -> None:
    path = tmp_path / "requests.json"
    items: list[dict[str, Any]] = [{"inputs": f"text {i} [MASK]."} for i in range(50)]
    items[7] = {"inputs": "x", "parameters": {"top_k": 0}}
    path.write_text(json.dumps(items, indent=2))
    result = run("validate", "--task", "fill-mask", "--each", "--format", "json", path)
    assert result.code == 1
    report = result.json()
    assert report["checked"] == 50
    assert [(p["index"], p["line"], p["column"]) for p in report["problems"]] == [(7, 26, 16)]
    alone = run("validate", "--task", "fill-mask", path)  # an array given without --each is one invalid payload
    assert alone.code == 1 and "pass --each" in alone.out
    annotated = run("validate", "--task", "fill-mask", "--format", "github", path)  # the hint survives the format
    assert annotated.code == 1
    assert any(line.startswith("::notice ") and "pass --each" in line for line in annotated.out.splitlines())


def test_each_with_nested_objects_and_syntax_errors(tmp_path: Path) -> None:
    chat = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    wrong = {"messages": [{"role": "user", "content": "Hi"}], "temprature": 0.5}
    path = tmp_path / "chats.json"
    path.write_text(json.dumps([chat, wrong, chat]))
    result = run("validate", "--task", "chat-completion", "--each", "--format", "json", path)
    assert result.code == 1
    problem = result.json()["problems"][0]
    assert (problem["index"], problem["path"]) == (1, "temprature")
    assert "did you mean 'temperature'" in problem["message"]
    path.write_text(json.dumps([chat, chat])[:-1] + ", {]")
    broken = run("validate", "--task", "chat-completion", "--each", "--format", "json", path)
    assert broken.code == 1
    assert broken.json()["checked"] == 3 and "malformed JSON" in broken.json()["problems"][0]["message"]


def test_directories_globs_and_stdin(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.json").write_text('{"inputs": "a [MASK]."}')
    (tmp_path / "b.jsonl").write_text('{"inputs": "b [MASK]."}\n{"inputs": 2}\n')
    (tmp_path / "notes.txt").write_text("not a payload")
    everything = run("validate", "--task", "fill-mask", tmp_path)
    assert everything.code == 1 and "1 of 3 payloads invalid in 2 files" in everything.out
    only_json = run("validate", "--task", "fill-mask", "--glob", "*.json", tmp_path)
    assert only_json.code == 0 and "1 payload valid in 1 file" in only_json.out
    piped = run("validate", "--task", "fill-mask", "--jsonl", "-", stdin=b'{"inputs": "x"}\n{"inputz": "x"}\n')
    assert piped.code == 1 and "<stdin>:2:2: error: inputz: unknown field 'inputz'; did you mean 'inputs'?" in piped.out


def test_strict_outputs_reject_unknown_fields(tmp_path: Path) -> None:
    path = tmp_path / "answer.json"
    path.write_text(json.dumps([{**FILL[0], "extra": 1}]))
    assert run("validate", "--task", "fill-mask", "--kind", "output", path).code == 0
    strict = run("validate", "--task", "fill-mask", "--kind", "output", "--strict", path)
    assert strict.code == 1 and "[0].extra: unknown field 'extra' (strict)" in strict.out
    assert f"{path}:1:" in strict.out  # placed like every other problem: file, line, column of the key
    lines = tmp_path / "answers.jsonl"
    lines.write_text(json.dumps(FILL) + "\n" + json.dumps([FILL[0], {**FILL[0], "extra": 1}]) + "\n")
    report = run("validate", "--task", "fill-mask", "--kind", "output", "--strict", "--format", "json", lines)
    [problem] = report.json()["problems"]
    key = lines.read_text().splitlines()[1].index('"extra"') + 1
    assert (problem["path"], problem["line"], problem["column"]) == ("[1].extra", 2, key)


def test_wire_variants_are_named(tmp_path: Path) -> None:
    path = tmp_path / "answer.json"
    path.write_text(json.dumps({"answer": "Paris", "score": 0.9, "start": 0, "end": 5}))
    seen = run("validate", "--task", "question-answering", "--kind", "output", path)
    assert seen.code == 0 and f"{path}:1: note: wire variant 'single answer object'" in seen.out
    canonical = run("validate", "--task", "question-answering", "--kind", "output", "--canonical-only", path)
    assert canonical.code == 1 and "'single answer object'; --canonical-only rejects it" in canonical.out
    report = validate("question-answering", path.read_bytes(), "output")
    assert report.valid and report.variant == "single answer object"


def test_stream_events_from_a_captured_stream(tmp_path: Path) -> None:
    event = example("text-generation", "stream-output")
    last = {**event, "generated_text": "a"}
    capture = b"data:" + json.dumps(event).encode() + b"\n\n: keep-alive\ndata: " + json.dumps(last).encode() + b"\n\n"
    path = tmp_path / "stream.txt"
    path.write_bytes(capture + b'data: {"token": 3}\n')
    result = run("validate", "--task", "text-generation", "--kind", "stream-output", "--jsonl", path)
    assert result.code == 1 and "1 of 3 payloads invalid" in result.out
    assert f"{path}:6:17: error: token: Input should be an object" in result.out


def test_validate_does_not_import_the_http_stack(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text('{"inputs": "a [MASK]."}')
    code = (
        "import sys\nfrom typed_inference.cli import main\n"
        f"assert main(['validate', '--task', 'fill-mask', {str(path)!r}]) == 0\n"
        "assert 'requests' not in sys.modules and 'urllib3' not in sys.modules, 'the HTTP stack was imported'\n"
        "assert 'typed_inference.types.chat_completion' not in sys.modules, 'other tasks were loaded'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_library_call_is_typed_inference_validate() -> None:
    code = (
        "import typed_inference\n"
        "from typed_inference.validate import Report\n"  # binds the submodule first: it must stay callable
        "r = typed_inference.validate('fill-mask', {'inputs': 'a [MASK].', 'parameters': {'top_kk': 1}})\n"
        "assert isinstance(r, Report) and not r.valid and r.errors[0].path == 'parameters.top_kk', r\n"
        "from typed_inference import validate\n"
        "assert validate('fill-mask', b'{\"inputs\": \"a\"}').valid\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_library_reports_per_payload() -> None:
    check = validator("fill-mask")
    report = check.check_lines(b'{"inputs": "a"}\n{"inputs": 1}\n\n{"inputs": "b"}\n{"input": "c"}\n')
    assert report.checked == 4 and not report.valid
    assert [(e.index, e.line) for e in report.invalid] == [(1, 2), (3, 5)]
    assert report.invalid[1].report.errors[1].message == "unknown field 'input'; did you mean 'inputs'?"
    many = check.check_many([{"inputs": "a"}, {"inputs": []}, b'{"inputs": "x"}'])
    assert many.checked == 3 and [e.index for e in many.invalid] == [1]
    with pytest.raises(ValueError, match="did you mean 'fill-mask'"):
        validate("fillmask", {})


# -- never a traceback ----------------------------------------------------------------------------------------------


def run_in_process(*args: str) -> int:
    """`typed-inference ARGS` in this process, its output swallowed."""
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        try:
            return cli.main(list(args))
        except SystemExit as exc:  # argparse's own usage errors
            return int(exc.code or 0)


MODES: tuple[list[str], ...] = (["--jsonl"], ["--each"], [])
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
SETTINGS = settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(data=st.binary(max_size=300), mode=st.sampled_from(MODES), kind=st.sampled_from(["input", "output"]))
def test_random_bytes_never_raise(data: bytes, mode: list[str], kind: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "random.json"
        path.write_bytes(data)
        code = run_in_process("validate", "--task", "question-answering", "--kind", kind, *mode, str(path))
    assert code in (0, 1)


@SETTINGS
@given(
    value=JSON,
    mode=st.sampled_from(MODES),
    target=st.sampled_from([("fill-mask", "input"), ("chat-completion", "output"), ("text-generation", "output")]),
    strict=st.booleans(),
)
def test_random_json_never_raises(value: Any, mode: list[str], target: tuple[str, str], strict: bool) -> None:
    text = json.dumps(value)
    if mode == ["--jsonl"]:
        text = text + "\n" + text
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "random.json"
        path.write_text(text)
        options = ["--strict"] if strict else []
        code = run_in_process("validate", "--task", target[0], "--kind", target[1], *options, *mode, str(path))
    assert code in (0, 1)


def test_a_random_bytes_file_as_a_process(tmp_path: Path) -> None:
    path = tmp_path / "random.jsonl"
    path.write_bytes(bytes(range(256)) * 8)
    for kind in ("input", "output"):
        assert run("validate", "--task", "fill-mask", "--kind", kind, path).code == 1


# -- tasks, schema, example -----------------------------------------------------------------------------------------


def test_tasks_lists_every_task_with_its_method() -> None:
    result = run("tasks", "--format", "json")
    assert result.code == 0
    records = result.json()
    assert [r["task"] for r in records] == list(TASKS)
    for record in records:
        assert callable(getattr(InferenceClient, record["method"]))
        assert record["input_kind"] == TASKS[record["task"]].input_kind
    table = run("tasks").out.splitlines()
    assert table[0].split() == ["TASK", "INPUT", "METHOD", "KINDS"]
    assert any(line.split()[:3] == ["fill-mask", "text", "fill_mask"] for line in table)


def test_schema_feeds_other_tools() -> None:
    result = run("schema", "fill-mask", "--kind", "input", "--array")
    assert result.code == 0
    schema = result.json()
    assert schema["type"] == "array" and schema["items"] == {"$ref": "#/$defs/FillMaskInput"}
    checker = Draft202012Validator(schema)
    assert checker.is_valid([{"inputs": "a [MASK]."}])
    assert not checker.is_valid([{"inputs": "a [MASK].", "parameters": {"top_kk": 1}}])
    assert run("schema", "text-to-image", "--kind", "output").json()["$ref"] == "#/$defs/TextToImageOutput"
    assert run("schema", "fill-mask", "--kind", "stream-output").code == 2


@pytest.mark.parametrize("task", sorted(t for t, spec in TASKS.items() if spec.output_kind == "binary"))
def test_example_covers_every_kind_schema_takes(task: str) -> None:
    """`example` takes every kind `schema` takes: a binary output prints as `call` prints one (type and base64)."""
    assert run("schema", task, "--kind", "output").code == 0
    printed = run("example", task, "--kind", "output")
    assert printed.code == 0 and set(printed.json()) == {"content_type", "base64"}
    media = TASKS[task].output_model
    assert printed.json()["content_type"].split("/")[0] in ("image", "audio", "video"), media


def test_help_lists_every_accepted_extension(tmp_path: Path) -> None:
    shown = run("validate", "--help")
    assert shown.code == 0
    for suffix in ("*.json", "*.jsonl", "*.ndjson"):
        assert suffix in shown.out
    (tmp_path / "requests.ndjson").write_text('{"inputs": "a [MASK]."}\n')
    assert run("validate", "--task", "fill-mask", tmp_path).code == 0  # and that one is indeed taken


def test_version_and_module_entry_points() -> None:
    from typed_inference import __version__

    assert run("--version").out == f"typed-inference {__version__}\n"
    done = subprocess.run(
        [sys.executable, "-m", "typed_inference", "--version"], capture_output=True, timeout=60, check=False
    )
    assert done.returncode == 0 and done.stdout.decode() == f"typed-inference {__version__}\n"


def test_example_prints_a_valid_request() -> None:
    request = run("example", "fill-mask")
    assert request.code == 0 and request.json() == {"inputs": "The goal of life is [MASK]."}
    checked = run("validate", "--task", "fill-mask", "-", stdin=request.out.encode())
    assert checked.code == 0 and checked.out == "fill-mask input: 1 payload valid in 1 file\n"
    assert run("example", "question-answering").json()["inputs"]["question"] == "What is the capital of France?"


def test_an_example_answer_reads_like_one() -> None:
    """An output example is an answer: the assistant speaks and the generation stops (a request says "user")."""
    answer = run("example", "chat-completion", "--kind", "output")
    assert answer.code == 0
    choice = answer.json()["choices"][0]
    assert choice["message"]["role"] == "assistant" and choice["finish_reason"] == "stop"
    checked = run("validate", "--task", "chat-completion", "--kind", "output", "-", stdin=answer.out.encode())
    assert checked.code == 0, checked.out


# -- call -----------------------------------------------------------------------------------------------------------


def test_call_prints_the_typed_result(server: ScriptedServer) -> None:
    server.json([{**FILL[0], "extra": "kept"}])
    result = run(
        "call", "fill-mask", "--model", "org/model", "--input", "The goal of life is [MASK].",
        "--param", "top_k=1", "--param", 'targets=["life"]', "--base-url", server.url,
    )  # fmt: skip
    assert result.code == 0, result.err
    assert result.json() == [{**FILL[0], "extra": "kept"}]
    assert server.last.path == "/models/org/model"
    assert server.last.json() == {
        "inputs": "The goal of life is [MASK].",
        "parameters": {"top_k": 1, "targets": ["life"]},
    }


def test_call_errors(server: ScriptedServer) -> None:
    server.json({"error": "Model org/model does not exist"}, status=404)
    missing = run("call", "fill-mask", "--model", "org/model", "--input", "a [MASK].", "--base-url", server.url)
    assert missing.code == 1 and "ModelNotFoundError" in missing.err and "does not exist" in missing.err
    typo = run("call", "fill-mask", "--model", "m", "--input", "x", "--param", "top_kk=2", "--base-url", server.url)
    assert typo.code == 2 and "did you mean 'top_k'?" in typo.err
    bad = run("call", "fill-mask", "--model", "m", "--input", "x", "--param", "top_k=0", "--base-url", server.url)
    assert bad.code == 2 and "parameters.top_k: Input should be greater than or equal to 1" in bad.err
    # a value of the wrong type is a usage error too (it exited 1 while a misspelt name exited 2)
    wrong = run("call", "fill-mask", "--model", "m", "--input", "x", "--param", "top_k=abc", "--base-url", server.url)
    assert wrong.code == 2 and "parameters.top_k: Input should be a valid integer; found 'abc' (str)" in wrong.err
    no_input = run("call", "fill-mask", "--model", "m", "--base-url", server.url)
    assert no_input.code == 2 and "--input" in no_input.err
    assert len(server.received) == 1  # only the first call reached the server


def test_call_with_object_and_binary_inputs(server: ScriptedServer, tmp_path: Path) -> None:
    answer = {"answer": "Paris", "score": 0.9, "start": 0, "end": 5}
    server.json(answer)
    question = json.dumps({"question": "Capital?", "context": "Paris is the capital."})
    result = run("call", "question-answering", "--model", "m", "--input", question, "--base-url", server.url)
    assert result.code == 0 and result.json() == [answer]
    image = tmp_path / "cat.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 16)
    server.json([{"label": "cat", "score": 0.9}])
    out = tmp_path / "result.json"
    classified = run(
        "call", "image-classification", "--model", "m", "--input-file", image, "--output", out, "--base-url", server.url
    )
    assert classified.code == 0 and json.loads(out.read_text()) == [{"label": "cat", "score": 0.9}]
    assert server.last.body == image.read_bytes() and server.last.headers["content-type"] == "image/png"


def _batch_answer(request: Received) -> Reply:
    text = request.json()["inputs"]
    if "boom" in text:
        return Reply(400, {"error": "The model cannot handle this input"})
    time.sleep(0.02 if "slow" in text else 0)  # answers arrive out of order; results stay in input order
    return Reply(200, [{**FILL[0], "sequence": text}])


def test_call_batch_with_concurrency_and_one_failing_line(server: ScriptedServer, tmp_path: Path) -> None:
    server.handler = _batch_answer
    inputs = tmp_path / "inputs.jsonl"
    lines = [json.dumps(f"slow text {i} [MASK].") for i in range(6)]
    lines[2] = json.dumps({"inputs": "boom [MASK].", "parameters": {"top_k": 2}})
    lines[4] = json.dumps({"inputs": "request body [MASK].", "parameters": {"top_k": 1}})
    lines.insert(5, "")
    lines.append(json.dumps({"inputs": "x", "parameters": {"top_kk": 1}}))
    inputs.write_text("\n".join(lines) + "\n")
    results = tmp_path / "results.jsonl"
    result = run(
        "call", "fill-mask", "--model", "m", "--input-file", inputs, "--output", results,
        "--concurrency", "4", "--base-url", server.url,
    )  # fmt: skip
    assert result.code == 1, result.err
    records = [json.loads(line) for line in results.read_text().splitlines()]
    assert [r["line"] for r in records] == [1, 2, 3, 4, 5, 7, 8]
    failed = {r["line"]: r["error"] for r in records if "error" in r}
    assert set(failed) == {3, 8}
    assert failed[3]["type"] == "BadRequestError" and failed[3]["status_code"] == 400
    assert "did you mean 'top_k'" in failed[8]["message"]
    assert records[0]["result"][0]["sequence"] == "slow text 0 [MASK]."
    assert records[4]["result"][0]["sequence"] == "request body [MASK]."
    assert len(server.received) == 6  # the invalid request never left
    assert any(r.json().get("parameters") == {"top_k": 1} for r in server.received)
    assert "7/7" in result.err  # progress: a plain counter line, or tqdm's bar where it is installed


def test_demo_models_without_the_server_extra_gives_the_install_hint(tmp_path: Path) -> None:
    """No torch installed (a stand-in that fails to import, first on the path): the hint, not a traceback."""
    (tmp_path / "torch").mkdir()
    (tmp_path / "torch" / "__init__.py").write_text("raise ImportError(\"No module named 'torch'\")\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    out = subprocess.run(
        [sys.executable, "-m", "typed_inference.cli", "demo-models", str(tmp_path / "models")],
        capture_output=True,
        text=True,
        env=env,
    )
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "typed-inference demo-models needs the server extra: pip install 'typed-inference[server]'" in out.stderr
    assert not (tmp_path / "models").exists()


def test_ctrl_c_stops_a_batch_at_once_and_writes_what_arrived(server: ScriptedServer, tmp_path: Path) -> None:
    import signal

    texts = [f"{i} [MASK]." for i in range(20)]
    held = set(texts[3:])  # three answers, then requests that never get one

    def handle(request: Received) -> Reply:
        return Reply(hold=True) if request.json()["inputs"] in held else Reply(200, FILL)

    server.handler = handle
    source, output = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_bytes(jsonl(*texts))
    command = ["call", "fill-mask", "--model", "m", "--input-file", str(source), "--output", str(output)]
    command += ["--concurrency", "2", "--base-url", server.url, "--quiet"]
    process = subprocess.Popen(
        [sys.executable, "-m", "typed_inference.cli", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        for _ in range(3000):
            if len(server.received) >= 5 or process.poll() is not None:
                break
            time.sleep(0.01)
        assert len(server.received) == 5
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert b"interrupted" in err and b"Traceback" not in err
    assert len(server.received) == 5  # nothing sent after the signal
    for _ in range(1000):
        if server.open_connections == 0:
            break
        time.sleep(0.01)
    assert server.open_connections == 0  # the requests in flight were closed, not left to time out
    records = [json.loads(line) for line in output.read_text().splitlines()]
    assert [r["line"] for r in records] == list(range(1, 21))  # every line, in input order
    assert [r["result"] for r in records[:3]] == [FILL] * 3
    assert all(r["error"]["type"] == "Interrupted" for r in records[3:])


# -- providers: call --provider and the `providers` command (tests/provider_fake.py) --------------------------------

HF_CLI = "hf_cli_router_token"


@pytest.fixture
def fake() -> Iterator[ProviderFake]:
    fake = ProviderFake().start()
    yield fake
    fake.stop()


def fake_flags(fake: ProviderFake) -> list[str]:
    return ["--router-url", fake.router.url, "--hub-url", fake.hub.url]


def test_call_with_a_provider_and_bill_to(fake: ProviderFake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", HF_CLI)
    fake.map("org/chat", ("together", "together-ai/chat-7b", "conversational"))
    result = run(
        "call", "chat-completion", "--model", "org/chat", "--input", "Hi", "--provider", "together",
        "--bill-to", "my-org", *fake_flags(fake),
    )  # fmt: skip
    assert result.code == 0, result.err
    assert result.json()["choices"][0]["message"]["content"] == "Hello"
    [lookup] = fake.hub.received
    assert unquote(lookup.path) == "/api/models/org/chat?expand[]=inferenceProviderMapping"
    [request] = fake.router.received
    assert request.path == "/together/v1/chat/completions"
    assert request.json()["model"] == "together-ai/chat-7b"
    assert request.json()["messages"] == [{"role": "user", "content": "Hi"}]
    assert request.headers["authorization"] == f"Bearer {HF_CLI}" and request.headers["x-hf-bill-to"] == "my-org"
    assert not fake.direct.received


def test_call_defaults_to_auto_and_an_explicit_provider_wins_over_the_env_endpoint(
    fake: ProviderFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", HF_CLI)
    monkeypatch.setenv("HF_INFERENCE_ENDPOINT", "http://127.0.0.1:9/never")
    fake.map(
        "org/embed",
        ("hf-inference", "org/embed", "feature-extraction", "error"),
        ("scaleway", "emb", "feature-extraction"),
    )
    auto = run(
        "call", "feature-extraction", "--model", "org/embed", "--input", "a", "--provider", "auto", *fake_flags(fake)
    )
    assert auto.code == 0, auto.err
    assert auto.json() == [[0.25, -0.5, 0.125]]
    assert [r.path for r in fake.router.received] == ["/scaleway/v1/embeddings"]
    hf = run(
        "call", "text-classification", "--model", "org/m", "--input", "great", "--provider", "hf-inference",
        *fake_flags(fake),
    )  # fmt: skip
    assert hf.code == 0, hf.err
    assert hf.json() == [{"label": "POSITIVE", "score": 0.75}]
    assert fake.router.received[-1].path == "/hf-inference/models/org/m"
    assert len(fake.hub.received) == 1  # the auto call looked the model up; hf-inference named: no lookup


def test_call_provider_errors(fake: ProviderFake, monkeypatch: pytest.MonkeyPatch) -> None:
    both = run(
        "call", "chat-completion", "--model", "m", "--input", "Hi", "--provider", "groq", "--base-url", fake.router.url
    )
    assert both.code == 2 and "not allowed with argument" in both.err
    url_model = run("call", "chat-completion", "--model", fake.router.url, "--input", "Hi", "--provider", "groq")
    assert url_model.code == 2 and "provider='groq' with a URL model" in url_model.err
    unknown = run(
        "call", "feature-extraction", "--model", "org/m", "--input", "a", "--provider", "nope", *fake_flags(fake)
    )
    assert unknown.code == 2 and "unknown provider 'nope'" in unknown.err and "together" in unknown.err
    no_token = run("call", "chat-completion", "--model", "org/m", "--input", "Hi", *fake_flags(fake))
    assert no_token.code == 2 and "HF_TOKEN" in no_token.err
    monkeypatch.setenv("HF_TOKEN", HF_CLI)
    fake.map("org/m", ("fal-ai", "fal/m", "text-to-image"))
    unsupported = run("call", "feature-extraction", "--model", "org/m", "--input", "a", *fake_flags(fake))
    assert unsupported.code == 1 and "ModelNotSupportedError" in unsupported.err and "fal-ai" in unsupported.err
    missing = run("call", "feature-extraction", "--model", "org/gone", "--input", "a", *fake_flags(fake))
    assert missing.code == 1 and "ModelNotFoundError" in missing.err and fake.hub.url in missing.err
    assert not fake.router.received and not fake.direct.received


def test_providers_prints_the_mapping_as_a_table(fake: ProviderFake) -> None:
    fake.mappings["org/llm"] = {
        "id": "org/llm",
        "inferenceProviderMapping": [
            {"provider": "together", "providerId": "tg/llm", "status": "live", "task": "conversational"},
            {"provider": "novita", "providerId": "nv/llm", "status": "staging", "task": "text-generation"},
            {"provider": "fal-ai", "providerId": "fal/llm-lora", "status": "live", "task": "text-to-image",
             "adapter": "lora", "adapterWeightsPath": "w.safetensors", "rank": 3},
            {"provider": "brand-new", "providerId": "bn/llm", "status": "error", "task": "conversational"},
        ],
    }  # fmt: skip
    table = run("providers", "org/llm", "--hub-url", fake.hub.url)
    assert table.code == 0, table.err
    rows = [line.split() for line in table.out.splitlines()]
    assert rows == [
        ["PROVIDER", "PROVIDER", "ID", "STATUS", "TASK", "IN", "SDK", "ADAPTER"],
        ["together", "tg/llm", "live", "conversational", "yes"],
        ["novita", "nv/llm", "staging", "text-generation", "yes"],
        ["fal-ai", "fal/llm-lora", "live", "text-to-image", "yes", "lora"],
        ["brand-new", "bn/llm", "error", "conversational", "no"],
    ]
    [lookup] = fake.hub.received
    assert unquote(lookup.path) == "/api/models/org/llm?expand[]=inferenceProviderMapping"
    assert "authorization" not in lookup.headers  # no token anywhere: an anonymous lookup
    as_json = run("providers", "org/llm", "--hub-url", fake.hub.url, "--json", "--task", "chat-completion")
    assert as_json.code == 0, as_json.err
    assert [(e["provider"], e["implemented"]) for e in as_json.json()] == [("together", True), ("brand-new", False)]
    lora = run("providers", "org/llm", "--hub-url", fake.hub.url, "--json", "--task", "text-to-image").json()
    assert lora == [
        {"provider": "fal-ai", "providerId": "fal/llm-lora", "status": "live", "task": "text-to-image",
         "implemented": True, "adapter": "lora", "adapterWeightsPath": "w.safetensors", "type": None, "rank": 3},
    ]  # fmt: skip


def test_providers_reads_hf_endpoint_and_sends_the_ambient_token(
    fake: ProviderFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_ENDPOINT", fake.hub.url)
    monkeypatch.setenv("HF_TOKEN", HF_CLI)
    fake.mappings["org/none"] = {"id": "org/none"}
    empty = run("providers", "org/none")
    assert empty.code == 0 and empty.out == f"org/none: no inference provider mapping on the Hub ({fake.hub.url})\n"
    assert run("providers", "org/none", "--json").json() == []
    fake.map("org/m", ("scaleway", "emb", "feature-extraction"))
    other = run("providers", "org/m", "--task", "conversational")
    assert other.out == f"org/m: no inference provider mapping for task 'conversational' on the Hub ({fake.hub.url})\n"
    assert all(r.headers["authorization"] == f"Bearer {HF_CLI}" for r in fake.hub.received)


def test_providers_errors_are_one_line(fake: ProviderFake) -> None:
    missing = run("providers", "org/gone", "--hub-url", fake.hub.url)
    assert missing.code == 1 and missing.out == ""
    assert missing.err.count("\n") == 1 and missing.err.startswith("typed-inference providers: ModelNotFoundError:")
    assert f"'org/gone' on the Hub ({fake.hub.url})" in missing.err
    fake.mappings["org/bad"] = {"inferenceProviderMapping": {"together": {"providerId": 7}}}
    bad = run("providers", "org/bad", "--hub-url", fake.hub.url)
    assert bad.code == 1 and bad.err.count("\n") == 1 and "ResponseValidationError" in bad.err
    assert "$.inferenceProviderMapping.together.providerId: expected a string, found a int" in bad.err
    invalid = run("providers", "../../api/whoami-v2", "--hub-url", fake.hub.url)
    assert invalid.code == 2 and "invalid model id" in invalid.err
    typo = run("providers", "org/m", "--hub-url", fake.hub.url, "--task", "chat-complet")
    assert typo.code == 2 and "unknown task 'chat-complet'" in typo.err
    for url in ("nope", "ftp://hub.example", "http://"):
        for command in (["providers", "org/m"], ["call", "chat-completion", "--model", "org/m", "--input", "Hi"]):
            not_url = run(*command, "--hub-url", url)
            assert not_url.code == 2 and "is not an http(s) URL with a host" in not_url.err, not_url.err
        assert run("call", "chat-completion", "--model", "org/m", "--input", "Hi", "--router-url", url).code == 2
    down = run("providers", "org/m", "--hub-url", "http://127.0.0.1:9", "--timeout", "2")
    assert down.code == 1 and down.err.count("\n") == 1 and "APIConnectionError" in down.err
    assert len(fake.hub.received) == 2  # the two valid ids reached the Hub; the malformed id and the typo did not
