"""Writes `typed_inference/types/params.py`: a TypedDict per object input the methods name (`{Model}Param`), so a
dict given for a message, a tool or a response format is checked by type checkers and completed by editors."""

from __future__ import annotations

import keyword
import textwrap
from typing import Any

from codegen.methods import Types, method_source
from codegen.schemas import Task


def params_source(tasks: list[Task], common: dict[str, Any]) -> tuple[str, list[str]]:
    """The module's source and the names it defines."""
    collected: dict[str, tuple[dict[str, Any], Types]] = {}
    for task in tasks:
        method_source(task, common, False, collected)
    classes: dict[str, str] = {}
    imports: set[tuple[str, str]] = set()
    unions: dict[str, tuple[dict[str, Any], Types]] = {}
    while len(classes) < len(collected):  # a TypedDict's fields may name further object types: theirs come too
        for name, (schema, types) in list(collected.items()):
            if name not in classes:
                classes[name] = _typed_dict(name, schema, types)
                imports |= types.imports
                unions.update(types.unions)
    for _name, (_schema, types) in collected.items():
        unions.update(types.unions)
    for name, (schema, types) in sorted(unions.items()):
        if name not in classes:
            classes[name] = _alias(name, schema, types)
    models = sorted(imports)
    lines = [
        '"""TypedDicts of the object inputs (`ChatCompletionInputUserMessageParam`, ...): a dict in their place is',
        "checked by type checkers and completed by editors; the pydantic models are accepted as well.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from collections.abc import Mapping, Sequence",
        "from typing import TYPE_CHECKING, Any, Literal, TypeAlias, TypedDict",
        "",
        "if TYPE_CHECKING:",
        "    from pydantic import BaseModel",
        "    from typing_extensions import NotRequired  # typing's own from Python 3.11",
        "",
        "    from typed_inference._binary import BinaryInput",
    ]
    for module in sorted({m for m, _ in models}):
        names = sorted({n for m, n in models if m == module})
        lines.append(f"    from typed_inference.types.{module} import {', '.join(names)}")
    lines += ["", ""]
    lines += [classes[name] + "\n\n" for name in sorted(classes)]
    names = [f"{name}Param" for name in sorted(classes)]
    lines.append("__all__ = [" + ", ".join(repr(n) for n in names) + "]")
    return "\n".join(lines).rstrip() + "\n", names


def _typed_dict(name: str, schema: dict[str, Any], types: Types) -> str:
    """One TypedDict: required fields as they are, optional ones `NotRequired` (and `None` allowed: not given)."""
    required = set(schema.get("required", []))
    fields: list[tuple[str, str]] = []
    inline, types.inline_arrays = types.inline_arrays, True  # arrays spelt out: their items take dicts too
    for field, prop in schema.get("properties", {}).items():
        annotation = types.annotation(prop)
        if field not in required:
            annotation = (
                f"NotRequired[{annotation}]"
                if "None" in annotation.split(" | ")
                else f"NotRequired[{annotation} | None]"
            )
        fields.append((field, annotation))
    types.inline_arrays = inline
    doc = " ".join((schema.get("description") or f"{name} as a dict.").split())
    if all(f.isidentifier() and not keyword.iskeyword(f) for f, _ in fields):
        body = [f"class {name}Param(TypedDict):", *_docstring(doc)]
        body += [f"    {field}: {annotation}" for field, annotation in fields] or ["    pass"]
        return "\n".join(body)
    items = ", ".join(f"{field!r}: {annotation!r}" for field, annotation in fields)
    return f"{name}Param = TypedDict({name + 'Param'!r}, {{{items}}})"


def _alias(name: str, schema: dict[str, Any], types: Types) -> str:
    """A named union of object types (a chat message of any role) as the union of their dict forms, so a list of
    messages can be annotated once: `messages: list[ChatCompletionInputMessageParam] = [...]`."""
    parts = types.annotation(schema).split(" | ")
    dicts = [part for part in parts if f"{part}Param" not in parts]  # the dict forms and the non-object members
    doc = " ".join((schema.get("description") or "").split())
    comment = f"  # {doc}" if doc and len(doc) < 80 else ""
    return f'{name}Param: TypeAlias = "{" | ".join(dicts)}"{comment}'


def _docstring(text: str) -> list[str]:
    wrapped = textwrap.wrap(text, width=110)
    if len(wrapped) == 1:
        return [f'    """{wrapped[0]}"""', ""]
    return ['    """' + wrapped[0], *(f"    {line}" for line in wrapped[1:]), '    """', ""]
