"""Checks that every task folder under schemas/ follows docs/schemas.md, with messages naming file and JSON path."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

TASK_KEYS = {
    "task": str,
    "summary": str,
    "input_kind": ("text", "json", "binary"),
    "first_argument": (str, type(None)),
    "first_argument_at": (str, type(None)),
    "body": ("nested", "flat", "chat"),
    "route": ("model", "pipeline", "chat"),
    "output_kind": ("json", "binary"),
    "batch": bool,
    "wire_variants": list,
}
OPS = {
    "unwrap_list",
    "wrap_object",
    "flatten_single",
    "columns_to_rows",
    "rename",
    "stringify",
    "json_text",
    "per_mask",
    "embedding_depth",
    "accepted",
}
NO_CANONICAL = {"per_mask", "embedding_depth"}


def camel(task: str) -> str:
    """`zero-shot-classification` → `ZeroShotClassification`."""
    return "".join(part.capitalize() for part in task.split("-"))


def load(path: Path) -> Any:
    """Reads a JSON file, turning a syntax error into a message with line and column."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SystemExit(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None


def _walk(node: Any, pointer: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yields every schema object below `node` with its JSON pointer."""
    if isinstance(node, dict):
        yield pointer, node
        for key, value in node.items():
            if key in ("properties", "$defs"):
                for name, sub in value.items():
                    yield from _walk(sub, f"{pointer}/{key}/{name}")
            elif key in ("items", "additionalProperties") and isinstance(value, dict):
                yield from _walk(value, f"{pointer}/{key}")
            elif key in ("anyOf", "oneOf", "allOf", "prefixItems"):
                for i, sub in enumerate(value):
                    yield from _walk(sub, f"{pointer}/{key}/{i}")


def lint_schema(path: Path, doc: dict[str, Any], *, input_side: bool) -> list[str]:
    """Problems of one schema file."""
    problems: list[str] = []
    for pointer, node in _walk(doc, "#"):
        where = f"{path}: {pointer}"
        if "properties" in node:
            for name, sub in node["properties"].items():
                if isinstance(sub, dict) and "description" not in sub and "$ref" not in sub:
                    problems.append(f"{where}/properties/{name}: missing description")
            if input_side and node.get("additionalProperties") is not False:
                problems.append(f'{where}: input-side object needs "additionalProperties": false')
            if "title" not in node and pointer != "#":
                problems.append(f"{where}: object type needs a title (its class name)")
        if "default" in node:
            problems.append(f"{where}: no default keywords (state the service default in the description)")
    for key, sub in doc.get("$defs", {}).items():
        if sub.get("title") not in (None, key):
            problems.append(f"{path}: #/$defs/{key}: title {sub.get('title')!r} differs from its key")
    return problems


def lint_task(folder: Path) -> list[str]:
    """Problems of one task folder."""
    problems: list[str] = []
    task_id = folder.name
    name = camel(task_id)
    if not (folder / "task.json").exists():
        return [f"{folder}/task.json: missing"]
    meta = load(folder / "task.json")
    for key, expected in TASK_KEYS.items():
        if key not in meta:
            problems.append(f"{folder}/task.json: missing key {key!r}")
        elif isinstance(expected, tuple) and all(isinstance(e, str) for e in expected):
            if meta[key] not in expected:
                problems.append(f"{folder}/task.json: {key} is {meta[key]!r}, expected one of {expected}")
        elif not isinstance(meta[key], expected):  # type: ignore[arg-type]
            problems.append(f"{folder}/task.json: {key} has the wrong type")
    stream = (folder / "stream_output.json").exists()
    if stream != ("stream_end" in meta):
        problems.append(f"{folder}/task.json: stream_end is required exactly when stream_output.json exists")
    if "stream_closes_after" in meta and not (stream and isinstance(meta["stream_closes_after"], str)):
        problems.append(f"{folder}/task.json: stream_closes_after is a field path, for streaming tasks only")
    for key in set(meta) - set(TASK_KEYS) - {"stream_end", "stream_closes_after"}:
        problems.append(f"{folder}/task.json: unknown key {key!r}")
    if meta.get("task") != task_id:
        problems.append(f"{folder}/task.json: task {meta.get('task')!r} differs from the folder name")
    for i, variant in enumerate(meta.get("wire_variants", [])):
        op = variant.get("transform", {}).get("op")
        if op not in OPS:
            problems.append(f"{folder}/task.json: wire_variants[{i}]: unknown op {op!r}")
        needed = {"name", "description", "transform", "example"} | (set() if op in NO_CANONICAL else {"canonical"})
        for key in needed - set(variant):
            problems.append(f"{folder}/task.json: wire_variants[{i}]: missing {key!r}")
    files = {"input.json": f"{name}Input", "output.json": f"{name}Output"}
    if (folder / "stream_output.json").exists():
        files["stream_output.json"] = f"{name}StreamOutput"
    for file, title in files.items():
        path = folder / file
        if not path.exists():
            problems.append(f"{path}: missing")
            continue
        doc = load(path)
        if doc.get("title") != title:
            problems.append(f"{path}: title is {doc.get('title')!r}, expected {title!r}")
        problems += lint_schema(path, doc, input_side=file == "input.json")
        if file == "input.json" and f"{name}Parameters" not in doc.get("$defs", {}):
            problems.append(f"{path}: #/$defs/{name}Parameters missing")
    return problems


def lint_all(root: Path) -> list[str]:
    """Problems of the whole schemas/ tree."""
    problems = lint_schema(root / "common.json", load(root / "common.json"), input_side=False)
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and p.name != "providers"):
        problems += lint_task(folder)
    return problems
