"""Applies the wire variants a task's schema folder declares: real response shapes → the canonical shape."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from typed_inference._task import TaskSpec, WireVariant


class WireShapeError(ValueError):
    """A response whose shape no declared variant explains, with a message saying what to do."""


def _objects_at(data: Any, paths: str | list[str]) -> Iterator[dict[str, Any]]:
    """Every object at a dotted path (or at each of a list of paths), `*` standing for each element of a list."""
    if isinstance(paths, list):
        for path in paths:
            yield from _objects_at(data, path)
        return
    nodes = [data]
    for key in paths.split(".") if paths else []:
        nxt: list[Any] = []
        for node in nodes:
            if key == "*" and isinstance(node, list):
                nxt.extend(node)
            elif isinstance(node, dict) and key in node:
                nxt.append(node[key])
        nodes = nxt
    for node in nodes:
        if isinstance(node, dict):
            yield node


def json_text(value: Any) -> str:
    """JSON text of a value the wire sent as JSON data (an object where a JSON string belongs); keys keep the
    order they arrived in, non-ASCII characters stay as they are."""
    return json.dumps(value, ensure_ascii=False)


def _depth(data: Any) -> int:
    depth = 0
    while isinstance(data, list):
        depth += 1
        if not data:
            break
        data = data[0]
    return depth


def _rows(data: Any, columns: dict[str, str]) -> tuple[Any, bool]:
    """`{"labels": [..], "scores": [..]}` as rows `[{"label", "score"}, ...]` (and whether it was in that shape)."""
    if isinstance(data, dict) and all(k in data for k in columns):
        lists = [data[key] for key in columns]
        if all(isinstance(col, list) for col in lists) and len({len(col) for col in lists}) == 1:
            return [dict(zip(columns.values(), row, strict=True)) for row in zip(*lists, strict=True)], True
    return data, False


def _apply(variant: WireVariant, data: Any, *, batch: bool, flags: dict[str, Any]) -> tuple[Any, bool]:
    """Applies one variant when the data is in its shape; returns (data, whether it applied)."""
    op, args = variant.op, variant.args
    if op == "unwrap_list" and not batch and isinstance(data, list) and len(data) == 1 and isinstance(data[0], dict):
        return data[0], True  # a batch's list is one result per input, a list of one included
    if op == "wrap_object" and isinstance(data, dict):
        return [data], True
    if op == "flatten_single" and not batch and isinstance(data, list) and len(data) == 1 and isinstance(data[0], list):
        return data[0], True
    if op == "columns_to_rows":
        if batch and isinstance(data, list):  # one columns object per input (zero-shot on hf-inference)
            shaped = [_rows(item, args["columns"]) for item in data]
            return [rows for rows, _ in shaped], any(applied for _, applied in shaped)
        return _rows(data, args["columns"])
    if op == "rename":
        applied = False
        for obj in _objects_at(data, args["at"]):
            if args["from"] in obj and args["to"] not in obj:
                value = obj.pop(args["from"])
                obj[args["to"]] = json_text(value) if args.get("json_encode") else value
                applied = True
        return data, applied
    if op == "stringify":
        applied = False
        for obj in _objects_at(data, args["at"]):
            value = obj.get(args["field"])
            if isinstance(value, int) and not isinstance(value, bool):
                obj[args["field"]] = str(value)
                applied = True
        return data, applied
    if op == "json_text":
        applied = False
        for obj in _objects_at(data, args["at"]):
            value = obj.get(args["field"])
            if value is not None and not isinstance(value, str):
                obj[args["field"]] = json_text(value)
                applied = True
        return data, applied
    if op == "per_mask":
        nested = _depth(data) >= 2
        if flags.get(args["flag"]):
            if batch:  # one list of candidates per mask, per input: a single-mask input came as one list
                return ([[row] for row in data], True) if _depth(data) == 2 else (data, True)
            return (data, nested) if nested else ([data], False)
        if nested and not batch:
            raise WireShapeError(
                f"the text holds several mask tokens and the answer has one list per mask: pass {args['flag']}=True"
            )
    if op == "embedding_depth":
        depth = _depth(data)
        if batch:
            if depth == 2:
                return [[row] for row in data], True
            if depth == 4 and all(isinstance(item, list) and len(item) == 1 for item in data):
                return [item[0] for item in data], True  # [n][1][tokens][dims]: n token matrices
            return data, False
        if depth == 1:
            return [data], True
        if depth == 3 and len(data) == 1:
            return data[0], True
    return data, False


def normalise(
    spec: TaskSpec, data: Any, *, batch: bool = False, flags: dict[str, Any] | None = None
) -> tuple[Any, list[str]]:
    """Turns a parsed response body into the canonical shape; returns it and the names of the variants seen."""
    seen = []
    for variant in spec.wire_variants:
        data, applied = _apply(variant, data, batch=batch, flags=flags or {})
        if applied:
            seen.append(variant.name)
    return data, seen
