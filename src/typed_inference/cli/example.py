"""`typed-inference example`: a minimal valid payload of a task, built from its JSON Schema."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from typed_inference.cli._common import KIND_CHOICES, Subparsers, guarded
from typed_inference.cli.schema import schema_title, task_bundle


def add_commands(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser("example", help="print a minimal valid request (or output) of a task")
    parser.add_argument("task", help="task id, e.g. fill-mask")
    parser.add_argument("--kind", default="input", help=f"which payload: {', '.join(KIND_CHOICES)}")
    parser.set_defaults(run=guarded("example", run_example))


# 1×1 PNG and a short silent WAV: base64 samples for binary fields that decode to what their media type says.
_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg=="
_WAV = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YQIAAAAAAA=="
_TEXTS = {
    "question": "What is the capital of France?",
    "context": "Paris is the capital of France.",
    "source_sentence": "That is a happy person.",
    "content": "Hello!",
    "role": "user",
}
# What an answer says where a request says something else: the assistant speaks, a generation stops.
_ANSWER_TEXTS = {**_TEXTS, "role": "assistant", "finish_reason": "stop", "id": "chatcmpl-1", "model": "org/model"}


def example_value(
    schema: dict[str, Any], defs: dict[str, Any], name: str = "", depth: int = 0, texts: dict[str, str] = _TEXTS
) -> Any:
    """A minimal value valid against `schema`: required properties only, the first choice of every alternative;
    a string field named in `texts` (a request's, or an answer's: `_ANSWER_TEXTS`) takes that text."""
    if depth > 40:
        return None
    if "$ref" in schema:
        target = defs[schema["$ref"].rsplit("/", 1)[-1]]
        return example_value({"description": schema.get("description", ""), **target}, defs, name, depth + 1, texts)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
            inherited = {"description": schema.get("description", ""), **options[0]}
            return example_value(inherited, defs, name, depth + 1, texts)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    return _SCALARS.get(str(kind), _example_string)(schema, defs, name, depth, texts)


def _example_object(schema: dict[str, Any], defs: dict[str, Any], _name: str, depth: int, texts: dict[str, str]) -> Any:
    props = schema.get("properties", {})
    required = schema.get("required", [])
    return {key: example_value(props.get(key, {}), defs, key, depth + 1, texts) for key in required}


def _example_array(schema: dict[str, Any], defs: dict[str, Any], name: str, depth: int, texts: dict[str, str]) -> Any:
    count = max(1, schema.get("minItems", 0))
    count = min(count, schema.get("maxItems", count))
    return [example_value(schema.get("items", {}), defs, name, depth + 1, texts) for _ in range(count)]


def _example_number(schema: dict[str, Any], _defs: dict[str, Any], _name: str, _depth: int, _texts: Any) -> Any:
    integer = schema.get("type") == "integer"
    step = 1 if integer else 0.5
    value = schema["exclusiveMinimum"] + step if "exclusiveMinimum" in schema else schema.get("minimum", step)
    high = schema.get("maximum", value)
    return int(min(value, high)) if integer else float(min(value, high))


def _example_string(
    schema: dict[str, Any], _defs: dict[str, Any], name: str, _depth: int, texts: dict[str, str]
) -> Any:
    if schema.get("contentEncoding") == "base64":
        return _WAV if str(schema.get("contentMediaType", "")).startswith("audio") else _PNG
    if "[MASK]" in schema.get("description", ""):
        return "The goal of life is [MASK]."
    return texts.get(name, "Hello, world.")


_SCALARS: dict[str, Callable[[dict[str, Any], dict[str, Any], str, int, dict[str, str]], Any]] = {
    "object": _example_object,
    "array": _example_array,
    "integer": _example_number,
    "number": _example_number,
    "boolean": lambda *_: True,
    "null": lambda *_: None,
    "string": _example_string,
}


def binary_example(schema: dict[str, Any]) -> Any:
    """A binary output (raw bytes on the wire) as `typed-inference call` prints one: its content type and base64.

    Images get a 1×1 PNG and audio a short silent WAV; a video has no sample small enough, so its bytes are empty.
    """
    media = str(schema.get("contentMediaType", ""))
    samples = {"image": ("image/png", _PNG), "audio": ("audio/wav", _WAV)}
    content_type, data = samples.get(media.split("/")[0], (media.replace("*", "mp4"), ""))
    return {"content_type": content_type, "base64": data}


def run_example(args: argparse.Namespace) -> int:
    """`typed-inference example TASK`: prints a minimal valid payload of the kind asked."""
    from typed_inference.validation import resolve_task

    spec = resolve_task(args.task)
    bundle = task_bundle(spec.task)
    title = schema_title(spec, args.kind)
    texts = _TEXTS if args.kind in ("input", "parameters") else _ANSWER_TEXTS
    value = example_value(bundle["$defs"][title], bundle["$defs"], texts=texts)
    if args.kind == "output" and spec.output_kind == "binary":
        value = binary_example(bundle["$defs"][title])
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
    return 0
