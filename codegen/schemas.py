"""Reads schemas/: task folders, their metadata, and one bundled JSON Schema document per task."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codegen.lint import camel, lint_all, load

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "schemas"
COMMON_REF = "../common.json#/$defs/"


@dataclass(frozen=True)
class Task:
    """One task folder: its metadata (task.json) and its schema documents."""

    id: str
    meta: dict[str, Any]
    input: dict[str, Any]
    output: dict[str, Any]
    stream_output: dict[str, Any] | None

    @property
    def name(self) -> str:
        """CamelCase prefix of the task's class names."""
        return camel(self.id)

    @property
    def module(self) -> str:
        """Python module name of the task's generated models."""
        return self.id.replace("-", "_")

    @property
    def element(self) -> str | None:
        """Title of the items of an array output, when they are a named type."""
        items = self.output.get("items", {})
        ref = items.get("$ref", "") if isinstance(items, dict) else ""
        return ref.rsplit("/", 1)[-1] if ref else None


def load_tasks(root: Path = SCHEMAS) -> list[Task]:
    """Every task folder, sorted by id; stops with the lint's messages when a folder breaks the rules."""
    problems = lint_all(root)
    if problems:
        raise SystemExit("schemas/ breaks docs/schemas.md:\n  " + "\n  ".join(problems))
    tasks = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and p.name != "providers"):
        stream = folder / "stream_output.json"
        tasks.append(
            Task(
                id=folder.name,
                meta=load(folder / "task.json"),
                input=load(folder / "input.json"),
                output=load(folder / "output.json"),
                stream_output=load(stream) if stream.exists() else None,
            )
        )
    return tasks


def load_common(root: Path = SCHEMAS) -> dict[str, Any]:
    """The shared definitions of schemas/common.json."""
    return dict(load(root / "common.json"))


# a type of another task (text-generation's inputs take chat-completion's messages)
FOREIGN_REF = re.compile(r"^\.\./([a-z0-9-]+)/(?:input|output|stream_output)\.json#/\$defs/(\w+)$")


def _rewrite_refs(node: Any, common_prefix: str, foreign_prefix: str) -> Any:
    """Copies a schema, pointing references to common.json at `common_prefix` instead, and references to another
    task's types at `foreign_prefix` (formatted with that task's `module`)."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            foreign = FOREIGN_REF.match(value) if key == "$ref" and isinstance(value, str) else None
            if key == "$ref" and isinstance(value, str) and value.startswith(COMMON_REF):
                out[key] = common_prefix + value[len(COMMON_REF) :]
            elif foreign is not None:
                out[key] = foreign_prefix.format(module=foreign.group(1).replace("-", "_")) + foreign.group(2)
            else:
                out[key] = _rewrite_refs(value, common_prefix, foreign_prefix)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(item, common_prefix, foreign_prefix) for item in node]
    return node


def task_defs(task: Task, common_prefix: str, foreign_prefix: str | None = None) -> dict[str, Any]:
    """All named types of a task, flattened into one `$defs` mapping (title → schema); references to another
    task's types point at `foreign_prefix` (default: where common types point, i.e. the same document)."""
    defs: dict[str, Any] = {}
    for doc in (task.input, task.output, task.stream_output):
        if doc is None:
            continue
        doc = _rewrite_refs(copy.deepcopy(doc), common_prefix, foreign_prefix or common_prefix)
        inner = doc.pop("$defs", {})
        doc.pop("$schema", None)
        defs[doc["title"]] = doc
        defs.update(inner)
    return defs


def foreign_refs(node: Any) -> Iterator[tuple[str, str]]:
    """(task id, type name) of every reference to another task's types."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and (found := FOREIGN_REF.match(value)):
                yield found.group(1), found.group(2)
            else:
                yield from foreign_refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from foreign_refs(item)


def load_task(root: Path, task_id: str) -> Task:
    """One task folder."""
    folder = root / task_id
    stream = folder / "stream_output.json"
    return Task(
        id=task_id,
        meta=load(folder / "task.json"),
        input=load(folder / "input.json"),
        output=load(folder / "output.json"),
        stream_output=load(stream) if stream.exists() else None,
    )


def bundle(task: Task, common: dict[str, Any], root: Path = SCHEMAS) -> dict[str, Any]:
    """A self-contained JSON Schema document for a task: its types, the common ones and the types of other tasks
    it refers to under `$defs`."""
    defs = dict(common["$defs"])
    defs.update(task_defs(task, "#/$defs/"))
    todo = list(foreign_refs([task.input, task.output, task.stream_output]))
    others: dict[str, dict[str, Any]] = {}
    while todo:
        other, name = todo.pop()
        if other not in others:
            others[other] = task_defs(load_task(root, other), "#/$defs/")
        if name not in defs:
            if name not in others[other]:
                raise SystemExit(f"{task.id}: no type {name} in schemas/{other}/ (a reference of another task's type)")
            defs[name] = others[other][name]
            todo += [(other, ref.rsplit("/", 1)[-1]) for ref in _local_refs(defs[name])]
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$defs": defs}


def _local_refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _local_refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _local_refs(item)


def schema_for(task: Task, common: dict[str, Any], title: str) -> dict[str, Any]:
    """A self-contained schema validating one named type of a task (for jsonschema and hypothesis)."""
    doc = bundle(task, common)
    return {"$schema": doc["$schema"], "$ref": f"#/$defs/{title}", "$defs": doc["$defs"]}


def dumps(data: Any) -> str:
    """Deterministic JSON text."""
    return json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False) + "\n"
