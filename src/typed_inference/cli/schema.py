"""`typed-inference schema`: a task's self-contained JSON Schema (only the `$defs` it reaches), or all of them."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from typed_inference.cli._common import KIND_CHOICES, CommandError, Subparsers, guarded

if TYPE_CHECKING:
    from typed_inference._task import TaskSpec


def add_commands(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser("schema", help="print a task's JSON Schema (self-contained) for other tools")
    parser.add_argument("task", nargs="?", help="task id, e.g. fill-mask")
    parser.add_argument("--all", action="store_true", help="every task and kind, written to --out DIR")
    parser.add_argument("--out", metavar="DIR", help="with --all: the folder to write TASK.KIND.json files to")
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


_LOCAL_REF = "#/$defs/"


def reached_defs(defs: dict[str, Any], root: str) -> dict[str, Any]:
    """The `$defs` entries `root` reaches through `#/$defs/...` references, itself included, in the bundle's order."""
    reached: set[str] = set()
    pending = [root]
    while pending:
        name = pending.pop()
        if name in reached or name not in defs:
            continue
        reached.add(name)
        pending += _refs(defs[name])
    return {name: value for name, value in defs.items() if name in reached}


def _refs(node: Any) -> list[str]:
    """The `$defs` names a schema node references, at any depth."""
    if isinstance(node, list):
        return [name for item in node for name in _refs(item)]
    if not isinstance(node, dict):
        return []
    found = [name for value in node.values() for name in _refs(value)]
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith(_LOCAL_REF):
        found.append(ref[len(_LOCAL_REF) :].split("/", 1)[0])
    return found


def json_schema(spec: TaskSpec, kind: str, *, array: bool = False) -> dict[str, Any]:
    """The self-contained JSON Schema of one kind of a task's payloads (of an array of them with `array`): only the
    `$defs` it reaches."""
    bundle = task_bundle(spec.task)
    title = schema_title(spec, kind)
    ref = {"$ref": f"{_LOCAL_REF}{title}"}
    body: dict[str, Any] = {"type": "array", "items": ref} if array else ref
    return {"$schema": bundle["$schema"], **body, "$defs": reached_defs(bundle["$defs"], title)}


def schema_kinds(spec: TaskSpec) -> list[str]:
    """Every kind `schema` prints for a task: its JSON kinds, and a binary output's media description."""
    from typed_inference.validation import kinds_of

    kinds: list[str] = list(kinds_of(spec))
    if spec.output_kind == "binary":
        kinds.insert(2, "output")
    return kinds


def write_all(folder: Path, *, array: bool = False) -> list[Path]:
    """Every task's schema of every kind written to `folder` as `TASK.KIND.json`; the files written."""
    from typed_inference._generated.registry import TASKS

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CommandError(f"cannot create {folder}: {exc.strerror or exc}") from None
    written = []
    for spec in TASKS.values():
        for kind in schema_kinds(spec):
            path = folder / f"{spec.task}.{kind}.json"
            text = json.dumps(json_schema(spec, kind, array=array), indent=2, ensure_ascii=False) + "\n"
            try:
                path.write_text(text, encoding="utf-8")
            except OSError as exc:
                raise CommandError(f"cannot write {path}: {exc.strerror or exc}") from None
            written.append(path)
    return written


def run_schema(args: argparse.Namespace) -> int:
    """`typed-inference schema TASK`: prints the JSON Schema."""
    from typed_inference.validation import resolve_task

    if args.all:
        if args.task is not None or args.kind != "input":
            raise CommandError("--all writes every task and kind: give neither a task nor --kind")
        if args.out is None:
            raise CommandError("--all needs --out DIR, the folder to write the schemas to")
        written = write_all(Path(args.out), array=args.array)
        print(f"wrote {len(written)} schemas to {args.out}", file=sys.stderr)
        return 0
    if args.out is not None:
        raise CommandError("--out goes with --all; one schema prints to stdout")
    if args.task is None:
        raise CommandError("give a task (e.g. fill-mask), or --all --out DIR")
    spec = resolve_task(args.task)
    sys.stdout.write(json.dumps(json_schema(spec, args.kind, array=args.array), indent=2, ensure_ascii=False) + "\n")
    return 0
