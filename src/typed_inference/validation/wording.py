"""pydantic's errors made readable: locations cut to the payload's real keys, union branches merged, values shown."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from typed_inference._validation import data_path


def clean_errors(errors: Iterable[Any], value: Any) -> list[dict[str, Any]]:
    """Errors whose locations name only real keys and indices of the payload (union branch names dropped)."""
    return [
        {
            **err,
            "loc": tuple(data_path(err["loc"], value, missing=err["type"] == "missing")),
            "msg": str(err["msg"]).removeprefix("Value error, "),
        }
        for err in errors
    ]


def merge_branches(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One error per location for the branches of a union ("a valid string or a valid array")."""
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    out: list[dict[str, Any]] = []
    for err in errors:
        if err["type"] in ("missing", "extra_forbidden"):
            out.append(err)
            continue
        key = tuple(err["loc"])
        first = merged.get(key)
        if first is None:
            merged[key] = err = dict(err)
            out.append(err)
            continue
        wanted = str(err["msg"]).removeprefix("Input should be ")
        if wanted not in first["msg"]:
            joiner = " or " if first["msg"].startswith("Input should be ") and wanted != err["msg"] else "; "
            first["msg"] = f"{first['msg']}{joiner}{wanted}"
    return out


_JSON_TYPES = {dict: "object", list: "array", str: "string", int: "integer", float: "number", bool: "boolean"}


def show(value: Any) -> str:
    """A short JSON rendering of a value with its JSON type: `0 (integer)`, `"5" (string)`."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    name = "null" if value is None else _JSON_TYPES.get(type(value), type(value).__name__)
    return f"{text} ({name})"


def expected_found(err: dict[str, Any]) -> tuple[str, str]:
    """What the schema expected at an error's location, and what the payload holds there."""
    if err["type"] == "missing":
        return "a value (the field is required)", "nothing"
    if err["type"] == "extra_forbidden":
        return "no such field", f"field {str(err['loc'][-1]) if err['loc'] else '?'!r}"
    return str(err["msg"]).removeprefix("Input should be "), show(err.get("input"))
