"""`typed-inference schema`: a task's self-contained JSON Schema, from the bundles shipped in the package."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from typed_inference.cli._common import KIND_CHOICES, CommandError, Subparsers, guarded

if TYPE_CHECKING:
    from typed_inference._task import TaskSpec


def add_commands(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser("schema", help="print a task's JSON Schema (self-contained) for other tools")
    parser.add_argument("task", help="task id, e.g. fill-mask")
    parser.add_argument("--kind", default="input", help=f"which schema: {', '.join(KIND_CHOICES)}")
    parser.add_argument("--array", action="store_true", help="wrap it as the schema of an array of such payloads")
    parser.set_defaults(run=guarded("schema", run_schema))


def schema_title(spec: TaskSpec, kind: str) -> str:
    """The `$defs` entry holding a kind's schema (any kind the task has, binary outputs included)."""
    from typed_inference.validation import KINDS, UsageError, resolve_kind

    if kind == "output" and spec.output_kind == "binary":
        return spec.output_model
    resolve_kind(spec, kind)
    models = (spec.input_model, spec.parameters_model, spec.output_model, spec.stream_model)
    titles: dict[str, str | None] = dict(zip(KINDS, models, strict=True))
    title = titles[kind]
    if title is None:  # pragma: no cover - resolve_kind refuses kinds a task lacks
        raise UsageError(f"{spec.task} has no {kind} schema")
    return title


def task_bundle(task: str) -> dict[str, Any]:
    """A task's bundled JSON Schema (`$defs` of all its types and the common ones), as shipped in the package."""
    from importlib import resources

    try:
        text = (resources.files("typed_inference") / "schemas" / f"{task}.json").read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        raise CommandError(f"this installation carries no JSON Schema for {task} (typed_inference/schemas/)") from None
    bundle: dict[str, Any] = json.loads(text)
    return bundle


def json_schema(spec: TaskSpec, kind: str, *, array: bool = False) -> dict[str, Any]:
    """The self-contained JSON Schema of one kind of a task's payloads (of an array of them with `array`)."""
    bundle = task_bundle(spec.task)
    ref = {"$ref": f"#/$defs/{schema_title(spec, kind)}"}
    body: dict[str, Any] = {"type": "array", "items": ref} if array else ref
    return {"$schema": bundle["$schema"], **body, "$defs": bundle["$defs"]}


def run_schema(args: argparse.Namespace) -> int:
    """`typed-inference schema TASK`: prints the JSON Schema."""
    from typed_inference.validation import resolve_task

    spec = resolve_task(args.task)
    sys.stdout.write(json.dumps(json_schema(spec, args.kind, array=args.array), indent=2, ensure_ascii=False) + "\n")
    return 0
