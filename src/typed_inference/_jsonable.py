"""`to_jsonable`: a typed result as plain JSON data, for `json.dumps` and whatever else takes dicts and lists."""

from __future__ import annotations

import base64
from typing import Any


def to_jsonable(result: Any) -> Any:
    """A typed result (a model, a list of them, nested lists, a `BinaryOutput`) as JSON data: dicts, lists, strings,
    numbers, booleans and None, ready for `json.dumps`.

    Models are dumped by their wire names with the fields the response carried (unknown fields kept); a binary
    result becomes `{"content_type": ..., "base64": ...}`.
    """
    from pydantic import TypeAdapter

    from typed_inference._binary import BinaryOutput

    if isinstance(result, BinaryOutput):
        return {"content_type": result.content_type, "base64": base64.b64encode(result).decode("ascii")}
    if isinstance(result, (list, tuple)):
        return [to_jsonable(item) for item in result]
    return TypeAdapter(Any).dump_python(result, mode="json", by_alias=True, exclude_unset=True)
