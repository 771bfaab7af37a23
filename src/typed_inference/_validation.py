"""Turns pydantic validation errors into messages a user can act on: JSON path, what was expected, what was found."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel


def json_path(loc: Sequence[int | str]) -> str:
    """`("parameters", "top_k")` → `parameters.top_k`; list indices in brackets."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(body)"


def _found(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def _allowed_fields(model: type[BaseModel] | None, loc: Sequence[int | str]) -> list[str]:
    """Field names allowed at the object holding `loc[-1]`, found by walking the model's fields."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return []
        current = _model_in(fields[part].annotation)
    fields = getattr(current, "model_fields", None)
    return [f.alias or name for name, f in fields.items()] if fields else []


def _model_in(annotation: Any) -> Any:
    """The first BaseModel class inside an annotation (`X | None`, `list[X]`, aliases)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    value = getattr(annotation, "__value__", None)
    if value is not None:
        return _model_in(value)
    for arg in getattr(annotation, "__args__", ()) or getattr(annotation, "__metadata__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    origin = getattr(annotation, "__origin__", None)
    return _model_in(origin) if origin is not None and origin is not annotation else None


_MISSING = object()


def data_path(loc: Sequence[int | str], data: Any, *, missing: bool) -> list[int | str]:
    """The JSON path of an error location, found by walking the validated data: pydantic's labels for union
    members and validators (`str`, `ChatCompletionInputUserMessage`, `function-after[...]`) are left out."""
    path: list[int | str] = []
    node = data
    for i, part in enumerate(loc):
        in_dict = isinstance(node, dict) and isinstance(part, str) and part in node
        if in_dict or (isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)):
            node = node[part]
        elif missing and i == len(loc) - 1:
            node = _MISSING  # the field that is missing
        else:
            continue
        path.append(part)
    return path


def _label_free(loc: Sequence[int | str]) -> list[int | str]:
    return [p for p in loc if not (isinstance(p, str) and ("[" in p or p.startswith("function-")))]


def describe(
    errors: Iterable[Any],
    model: type[BaseModel] | None = None,
    prefix: Sequence[int | str] = (),
    data: Any = _MISSING,
) -> list[str]:
    """One line per error: `path: expected ..., found ...`, with a "did you mean" for misspelt field names.

    With the validated `data`, paths are exact JSON paths (union member labels dropped).
    """
    lines = []
    for err in errors:
        if data is _MISSING:
            loc = [*prefix, *_label_free(err["loc"])]
        else:
            loc = [*prefix, *data_path(err["loc"], data, missing=err["type"] == "missing")]
        path = json_path(loc)
        kind = err["type"]
        if kind == "extra_forbidden":
            name = str(loc[-1]) if loc else "?"
            allowed = _allowed_fields(model, err["loc"]) if model else []
            hint = difflib.get_close_matches(name, allowed, n=1)
            line = f"{path}: unknown field {name!r}"
            if hint:
                line += f"; did you mean {hint[0]!r}?"
            elif allowed:
                line += f"; expected one of {', '.join(sorted(allowed))}"
        elif kind == "missing":
            line = f"{path}: required field missing"
        else:
            message = str(err["msg"]).removeprefix("Value error, ")
            line = f"{path}: {message}; found {_found(err.get('input'))}"
        if line not in lines:
            lines.append(line)
    return lines
