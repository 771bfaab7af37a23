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


def prune_branches(errors: Iterable[Any], data: Any) -> list[Any]:
    """The errors of the union branches the data was meant for: a branch whose own tag field (a literal, such as a
    chat message's `role`) does not match is dropped, with everything else it reports (a message with role
    `'usr'` is not also missing the tool message's `tool_call_id`). When no branch's tag matches, only the tag
    errors remain, to be merged into one line ("'system' or 'user' or ...")."""
    errors = list(errors)
    sites: dict[tuple[Any, ...], dict[Any, list[Any]]] = {}
    branch_of: list[tuple[tuple[Any, ...], Any] | None] = []
    for err in errors:
        at = _branch_label(err["loc"], data)
        branch_of.append(None if at is None else (tuple(err["loc"][:at]), err["loc"][at]))
        if at is not None:
            sites.setdefault(tuple(err["loc"][:at]), {}).setdefault(err["loc"][at], []).append(err)
    keep: dict[tuple[Any, ...], set[Any]] = {}
    for site, branches in sites.items():
        depth = len(site) + 2  # a field of the branch's own model
        mismatched = {
            label
            for label, errs in branches.items()
            if any(e["type"] == "literal_error" and len(e["loc"]) == depth for e in errs)
        }
        keep[site] = set(branches) - mismatched
    out = []
    for err, branch in zip(errors, branch_of, strict=True):
        if branch is None:
            out.append(err)
            continue
        site, label = branch
        if keep[site]:
            if label in keep[site]:
                out.append(err)
        elif err["type"] == "literal_error" and len(err["loc"]) == len(site) + 2:
            out.append(err)
    return out


def _branch_label(loc: Sequence[int | str], data: Any) -> int | None:
    """The index in `loc` of the first union member label (a part naming no key or index of the data)."""
    node = data
    for i, part in enumerate(loc):
        in_dict = isinstance(node, dict) and isinstance(part, str) and part in node
        if in_dict or (isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)):
            node = node[part]
        elif i == len(loc) - 1:
            return None  # the field that is missing or unknown
        else:
            return i
    return None


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
    if data is not _MISSING:  # union branches pruned to the one meant, and merged into one line per field
        errors = merge_branches(clean_errors(prune_branches(errors, data), data))
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
