"""pydantic's errors made readable: locations cut to the payload's real keys, union branches merged, values shown."""

from __future__ import annotations

import json
from typing import Any

from typed_inference._error_messages import clean_errors, merge_branches, prune_branches

__all__ = ["clean_errors", "expected_found", "merge_branches", "prune_branches", "show"]


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
