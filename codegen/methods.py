"""Writes `typed_inference/_generated/{methods,async_methods}.py`: one typed method per task, and its raw twin."""

from __future__ import annotations

import textwrap
from typing import Any

from codegen.schemas import FOREIGN_REF, SCHEMAS, Task, load_task

PER_CALL = (
    "model",
    "provider",
    "wait_for_model",
    "use_cache",
    "extra_headers",
    "extra_body",
    "timeout",
    "total_timeout",
    "progress",
)
PER_CALL_SIGNATURE = [
    "model: str | None = None",
    "provider: ProviderName | None = None",
    "wait_for_model: bool | None = None",
    "use_cache: bool | None = None",
    "extra_headers: Mapping[str, str] | None = None",
    "extra_body: Mapping[str, Any] | None = None",
    "timeout: float | None = None",
    "total_timeout: float | None = None",
    "progress: bool | Callable[[JobStatus], None] | None = None",
]
PER_CALL_DOCS = [
    ("model", "Model id or full URL for this call, instead of the client's model."),
    (
        "provider",
        'Inference Provider for this call ("auto", "hf-inference", "together", ...), instead of the client\'s.',
    ),
    ("wait_for_model", "Wait for a cold model to load instead of failing with 503 (header X-Wait-For-Model)."),
    ("use_cache", "Allow a cached answer (header X-Use-Cache); unset, the service decides."),
    ("extra_headers", "Headers added to this request."),
    ("extra_body", "Fields merged into the JSON body after validation, unvalidated: for parameters the schema lacks."),
    ("timeout", "Per-attempt socket timeout for this call, in seconds, instead of the client's."),
    (
        "total_timeout",
        "Bound on the whole call in seconds (retries, a provider job's polls and download included), instead of the "
        "client's.",
    ),
    (
        "progress",
        "Report a provider job's status changes (media tasks on fal-ai, together, wavespeed, zai-org): True writes a "
        "line to stderr, a callable receives each JobStatus; no effect on calls that are not jobs.",
    ),
]


class Types:
    """Turns JSON Schemas of one task into Python annotations (as source text) for method signatures."""

    def __init__(
        self, task: Task, common: dict[str, Any], params: dict[str, tuple[dict[str, Any], Types]] | None = None
    ) -> None:
        self.task = task
        self.local = {
            **task.input.get("$defs", {}),
            **task.output.get("$defs", {}),
            **(task.stream_output or {}).get("$defs", {}),
        }
        self.common = common["$defs"]
        self.imports: set[tuple[str, str]] = set()
        self.sequence = "Sequence"  # arrays in arguments: covariant, so a list[dict[str, str]] variable fits
        self.inline_arrays = False  # spell out named array types (their items may be mappings too)
        # the object types a signature names, each also taken as a dict: its TypedDict (`{name}Param`, types/params.py)
        self.params = params if params is not None else {}
        self.unions: dict[str, tuple[dict[str, Any], Types]] = {}  # named unions of object types (chat messages)

    def resolve(self, ref: str) -> tuple[str, dict[str, Any], str]:
        """(name, schema, module) of a reference."""
        name = ref.rsplit("/", 1)[-1]
        if ref.startswith("../common.json"):
            return name, self.common[name], "common"
        foreign = FOREIGN_REF.match(ref)
        if foreign is not None:  # another task's type: its own local references are made to point back there
            other = load_task(SCHEMAS, foreign.group(1))
            defs = {**other.input.get("$defs", {}), **other.output.get("$defs", {})}
            return name, _relocated(defs[name], f"../{other.id}/input.json#/$defs/"), other.module
        return name, self.local[name], self.task.module

    def describe(self, schema: dict[str, Any], fallback: str = "") -> str:
        """What a parameter is for, as the caller passes it: a `$ref` takes its target's description, a binary field
        is described as the bytes, path or file the caller gives rather than its base64 wire form."""
        text = schema.get("description", "")
        if not text and "$ref" in schema:
            text = self.resolve(schema["$ref"])[1].get("description", "")
        text = " ".join((text or fallback).split())
        if _is_binary(schema):
            what = text.split(", base64-encoded")[0].rstrip(". ")
            text = f"{what}: bytes, a path (str or os.PathLike) or a binary file object."
        return text

    def annotation(self, schema: dict[str, Any]) -> str:
        if schema.get("x-accepts-model-class"):
            rest = {k: v for k, v in schema.items() if k != "x-accepts-model-class"}
            return f"{self.annotation(rest)} | type[BaseModel]"
        if "$ref" in schema:
            name, target, module = self.resolve(schema["$ref"])
            free_form = target.get("type") == "object" and not target.get("properties")
            array = self.inline_arrays and target.get("type") == "array"
            if "anyOf" in target or "oneOf" in target:
                self.unions.setdefault(name, (target, self))  # its members as dicts: `{name}Param`, an alias
            if "enum" in target or "anyOf" in target or "oneOf" in target or free_form or array:
                return self.annotation(target)
            self.imports.add((module, name))
            if target.get("type") == "object" or "properties" in target:
                self.params.setdefault(name, (target, self))
                return f"{name} | {name}Param"
            return name
        if "const" in schema:
            return f"Literal[{schema['const']!r}]"
        if "enum" in schema:
            return "Literal[" + ", ".join(repr(v) for v in schema["enum"]) + "]"
        for key in ("anyOf", "oneOf"):
            if key in schema:
                parts: list[str] = []
                for member in schema[key]:
                    for part in self.annotation(member).split(" | "):
                        if part not in parts:
                            parts.append(part)
                return " | ".join(parts)
        kind = schema.get("type")
        if isinstance(kind, list):
            return " | ".join(self.annotation({**schema, "type": k}) for k in kind)
        if kind == "string":
            return "BinaryInput" if schema.get("contentEncoding") == "base64" else "str"
        if kind == "integer":
            return "int"
        if kind == "number":
            return "float"
        if kind == "boolean":
            return "bool"
        if kind == "null":
            return "None"
        if kind == "array":
            items = self.annotation(schema["items"]) if schema.get("items") else "Any"
            # a str is a Sequence[str] too: lists of strings stay lists, so "a,b" is a type error
            return f"{'list' if items == 'str' else self.sequence}[{items}]"
        if kind == "object":
            extra = schema.get("additionalProperties")
            if isinstance(extra, dict) and not schema.get("properties"):
                return f"dict[str, {self.annotation(extra)}]"
            return "dict[str, Any]"
        return "Any"


def _is_binary(schema: dict[str, Any]) -> bool:
    return schema.get("contentEncoding") == "base64" or any(_is_binary(m) for m in schema.get("anyOf", []))


def _relocated(node: Any, prefix: str) -> Any:
    """A copy of a schema whose document-local references (`#/$defs/X`) start with `prefix` instead."""
    if isinstance(node, dict):
        return {
            k: prefix + v[len("#/$defs/") :] if k == "$ref" and v.startswith("#/$defs/") else _relocated(v, prefix)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_relocated(item, prefix) for item in node]
    return node


def _doc_lines(name: str, text: str) -> list[str]:
    wrapped = textwrap.wrap(f"{name}: {text}", width=108, subsequent_indent="    ")
    return ["            " + line for line in wrapped]


def _returns(task: Task) -> str:
    if task.meta["output_kind"] == "binary":
        return "BinaryOutput"
    if task.element:
        return f"list[{task.element}]"
    if task.output.get("type") == "array":
        # spelt out (`list[list[float]]`), not the type alias: editors' inference (jedi) cannot see through it
        types = Types(task, {"$defs": {}})
        types.sequence = "list"
        return types.annotation({k: v for k, v in task.output.items() if k not in ("title", "description")})
    return f"{task.name}Output"


def _output_note(task: Task) -> str:
    """The output's description, for results spelt out as plain lists (their shape rule lives there)."""
    if task.element or task.output.get("type") != "array" or task.meta["output_kind"] == "binary":
        return ""
    return " ".join(task.output.get("description", "").split())


def method_source(
    task: Task,
    common: dict[str, Any],
    is_async: bool = False,
    params: dict[str, tuple[dict[str, Any], Types]] | None = None,
) -> tuple[str, set[tuple[str, str]]]:
    """Source of one task's method (with overloads for batches and flags); `params` collects the object types its
    signature names (their TypedDicts are `params_source`'s)."""
    meta = task.meta
    types = Types(task, common, params)
    method = task.module
    params_schema = task.input["$defs"][f"{task.name}Parameters"].get("properties", {})
    inputs_schema = task.input["properties"].get("inputs") or task.input["properties"].get("messages", {})
    positional: list[str] = []
    keywords: list[str] = []
    docs: list[tuple[str, str]] = []
    input_names: list[str] = []
    first = meta["first_argument"]
    if first:
        if meta["first_argument_at"]:
            _, target, _ = types.resolve(inputs_schema["$ref"])
            schema = target["properties"][meta["first_argument_at"]]
        else:
            schema = inputs_schema
        types.sequence = "list" if meta["batch"] else "Sequence"  # a batch is a list: str is a Sequence too
        types.inline_arrays = True
        positional.append(f"{first}: {types.annotation(schema)}")
        types.sequence, types.inline_arrays = "Sequence", False
        docs.append((first, types.describe(schema, inputs_schema.get("description", ""))))
    else:
        _, target, _ = types.resolve(inputs_schema["$ref"])
        required = set(target.get("required", []))
        for name, schema in target["properties"].items():
            input_names.append(name)
            default = "" if name in required else " = None"
            optional = "" if name in required else " | None"
            keywords.append(f"{name}: {types.annotation(schema)}{optional}{default}")
            docs.append((name, types.describe(schema)))
    param_names = list(params_schema)
    for name in param_names:
        if name in PER_CALL or name in input_names or name == first:
            raise SystemExit(f"{task.id}: parameter {name!r} clashes with another argument of the method")
    required_params = set(task.input["$defs"][f"{task.name}Parameters"].get("required", []))
    for name, schema in params_schema.items():
        if name in required_params:
            keywords.append(f"{name}: {types.annotation(schema)}")
        else:
            keywords.append(f"{name}: {types.annotation(schema)} | None = None")
        docs.append((name, types.describe(schema)))
    flags: list[str] = []
    if any(v["transform"]["op"] == "per_mask" for v in meta["wire_variants"]):
        flag = next(v["transform"]["flag"] for v in meta["wire_variants"] if v["transform"]["op"] == "per_mask")
        flags.append(flag)
        docs.append((flag, "The text holds several mask tokens: return one list of candidates per mask."))
    if task.stream_output is not None:
        docs.append(("stream", f"Return an iterator of {task.name}StreamOutput events as the server sends them."))
    docs += PER_CALL_DOCS
    returns = _returns(task)

    streams = task.stream_output is not None
    stream_ret = f"{'AsyncStream' if is_async else 'Stream'}[{task.name}StreamOutput]"
    define = "async def" if is_async else "def"

    def signature(
        first_type: str | None, ret: str, flag_type: str | None, overload: bool, stream_type: str = "bool"
    ) -> list[str]:
        args = ["self"]
        if first:
            args.append(f"{first}: {first_type}")
        args.append("*")
        args += keywords
        for name in flags:
            default = "" if flag_type == "Literal[True]" else " = False"
            args.append(f"{name}: {flag_type or 'bool'}{default}")
        if streams:
            default = "" if stream_type == "Literal[True]" else " = False"
            args.append(f"stream: {stream_type}{default}")
        args += PER_CALL_SIGNATURE
        head = ["    @overload"] if overload else []
        body = ",\n        ".join(args)
        head.append(f"    {define} {method}(\n        {body},\n    ) -> {ret}:")
        if overload:
            head[-1] += " ..."
        return head

    lines: list[str] = []
    first_type = positional[0].split(": ", 1)[1] if positional else None
    batch = meta["batch"] and first_type is not None and " | list[" in first_type
    batch_ret = f"{returns} | list[{returns}]"
    if batch:
        single, many = first_type.split(" | ", 1)  # type: ignore[union-attr]
        many = f"{many} | tuple[{many.removeprefix('list[').removesuffix(']')}, ...]"  # a tuple is a batch too
        first_type = f"{single} | {many}"
        if flags:  # the flag adds a level per input: one list of candidates per mask
            batch_ret += f" | list[list[{returns}]]"
            lines += signature(single, returns, "Literal[False]", True)
            lines += signature(single, f"list[{returns}]", "Literal[True]", True)
            lines += signature(many, f"list[{returns}]", "Literal[False]", True)
            lines += signature(many, f"list[list[{returns}]]", "Literal[True]", True)
            lines += signature(first_type, batch_ret, None, True)
        else:
            lines += signature(single, returns, None, True)
            lines += signature(many, f"list[{returns}]", None, True)
        lines += signature(first_type, batch_ret, None, False)
    elif streams:
        lines += signature(first_type, returns, None, True, "Literal[False]")
        lines += signature(first_type, stream_ret, None, True, "Literal[True]")
        lines += signature(first_type, f"{returns} | {stream_ret}", None, False)
    else:
        lines += signature(first_type, returns, None, False)
    doc = [f'        """{meta["summary"]}', "", "        Args:"]
    for name, text in docs:
        doc += _doc_lines(name, " ".join(text.split()))
    shape = "one result per input, in order, for a list input" if batch else ""
    doc += ["", "        Returns:"]
    ret_text = (
        f"{returns}" + (f"; {shape}" if shape else "") + (f"; {stream_ret} when stream=True" if streams else "") + "."
    )
    doc.append(f"            {ret_text}")
    note = _output_note(task)
    if note:
        doc += ["            " + line for line in textwrap.wrap(note, width=108)]
    doc += ['        """']
    lines += doc
    inputs_dict = "{" + ", ".join(f"{n!r}: {n}" for n in input_names) + "}"
    params_dict = "{" + ", ".join(f"{n!r}: {n}" for n in param_names) + "}"
    flags_dict = "{" + ", ".join(f"{n!r}: {n}" for n in flags) + "}"
    options = ", ".join(f"{n}={n}" for n in PER_CALL)
    impl_ret = batch_ret if batch else f"{returns} | {stream_ret}" if streams else returns
    awaiting = "await " if is_async else ""
    primary = f"list({first}) if isinstance({first}, tuple) else {first}" if batch else first or "None"
    call = (
        f"        return cast(\n            {impl_ret!r},\n            {awaiting}self._call(\n"
        f"            {task.id!r},\n            {primary},\n"
        f"            {inputs_dict},\n            {params_dict},\n            {options},\n"
    )
    if flags:
        call += f"            flags={flags_dict},\n"
    if streams:
        call += "            stream=stream,\n"
    call += "        ),\n        )"
    lines.append(call)
    return "\n".join(lines), types.imports


MODULES = {"methods": False, "async_methods": True}


def methods_sources(tasks: list[Task], common: dict[str, Any]) -> dict[str, str]:
    """Module name (under `_generated/`) → source: the sync and async methods, each with its raw table."""
    return {module: methods_source(tasks, common, is_async) for module, is_async in MODULES.items()}


def methods_source(tasks: list[Task], common: dict[str, Any], is_async: bool) -> str:
    """Source of one generated methods module: the task methods and the table that makes their raw twins."""
    prefix = "Async" if is_async else ""
    imports: set[tuple[str, str]] = set()
    collected: dict[str, tuple[dict[str, Any], Types]] = {}
    body = [f"class {prefix}TaskMethods:", '    """One typed method per task; the client supplies `_call`."""', ""]
    define = "async def" if is_async else "def"
    body.append(
        f"    {define} _call(\n        self, task: str, primary: Any, inputs: Mapping[str, Any], "
        "parameters: Mapping[str, Any], **options: Any\n    ) -> Any:\n        raise NotImplementedError\n"
    )
    for task in tasks:
        source, used = method_source(task, common, is_async, collected)
        imports |= used
        imports.add((task.module, task.element or f"{task.name}Output"))
        if task.stream_output is not None:
            imports.add((task.module, f"{task.name}StreamOutput"))
        body.append(source + "\n")
    wrap = "as_async_raw" if is_async else "as_raw"
    body += [
        "",
        f"class {prefix}RawTaskMethods:",
        '    """`client.with_raw_response`: every task method, returning `RawResponse[...]`."""',
        "",
        f"    def __init__(self, client: {prefix}TaskMethods) -> None:",
        *(f"        self.{task.module} = {wrap}(client.{task.module})" for task in tasks),
    ]
    params = [f"{name}Param" for name in collected]
    type_imports = []
    for module in sorted({m for m, _ in imports}):
        names = sorted({n for m, n in imports if m == module})
        type_imports.append(f"    from typed_inference.types.{module} import {', '.join(names)}")
    header = [
        f'"""{prefix}TaskMethods and {prefix}RawTaskMethods: typed task methods generated from schemas/."""',
        "",
        "from __future__ import annotations",
        "",
        "from collections.abc import Callable, Mapping, Sequence",
        "from typing import TYPE_CHECKING, Any, Literal, cast, overload",
        "",
        "from typed_inference._binary import BinaryInput, BinaryOutput",
        f"from typed_inference._response import {wrap}",
        "",
        "if TYPE_CHECKING:",
        "    from pydantic import BaseModel",
        "",
        "    from typed_inference._generated.names import ProviderName",
        f"    from typed_inference.types.params import {', '.join(sorted(params))}",
        f"    from typed_inference._streaming import {prefix}Stream",
        "    from typed_inference.providers._jobs import JobStatus",
        *type_imports,
        "",
        "",
    ]
    return "\n".join(header) + "\n".join(body) + "\n"
