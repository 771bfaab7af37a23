"""Writes the task registry (task id → models, input kind, route, output kind, wire variants) and the types index."""

from __future__ import annotations

from codegen.schemas import Task


def _input_fields(task: Task) -> tuple[str, ...]:
    """Field names of an object `inputs` (keyword parameters of the method); empty for scalar inputs."""
    inputs = task.input.get("properties", {}).get("inputs", {})
    ref = inputs.get("$ref", "")
    if not ref:
        return ()
    target = task.input["$defs"][ref.rsplit("/", 1)[-1]]
    return tuple(target.get("properties", {}))


def _binary_fields(task: Task) -> tuple[str, ...]:
    """Input fields that carry a file (sent base64-encoded in JSON bodies); `inputs` itself for binary tasks."""
    inputs = task.input.get("properties", {}).get("inputs", {})
    if inputs.get("contentEncoding") == "base64":
        return ("inputs",)
    ref = inputs.get("$ref", "")
    if not ref:
        return ()
    target = task.input["$defs"][ref.rsplit("/", 1)[-1]]
    return tuple(k for k, v in target.get("properties", {}).items() if v.get("contentEncoding") == "base64")


def _parameter_fields(task: Task) -> tuple[str, ...]:
    return tuple(task.input["$defs"][f"{task.name}Parameters"].get("properties", {}))


def registry_source(tasks: list[Task]) -> str:
    """Source of `typed_inference/_generated/registry.py`."""
    lines = [
        '"""Every task of the Inference API and how it travels."""',
        "",
        "from typed_inference._task import TaskSpec, WireVariant",
        "",
        "TASKS: dict[str, TaskSpec] = {",
    ]
    for task in tasks:
        meta = task.meta
        variants = []
        for v in meta["wire_variants"]:
            args = {k: val for k, val in v["transform"].items() if k != "op"}
            variants.append(f"WireVariant(name={v['name']!r}, op={v['transform']['op']!r}, args={args!r})")
        stream = f"{task.name}StreamOutput" if task.stream_output is not None else None
        fields = {
            "task": task.id,
            "module": task.module,
            "summary": meta["summary"],
            "input_kind": meta["input_kind"],
            "first_argument": meta["first_argument"],
            "first_argument_at": meta["first_argument_at"],
            "body": meta["body"],
            "route": meta["route"],
            "output_kind": meta["output_kind"],
            "batch": meta["batch"],
            "input_model": f"{task.name}Input",
            "parameters_model": f"{task.name}Parameters",
            "output_model": f"{task.name}Output",
            "element_model": task.element,
            "stream_model": stream,
            "stream_end": meta.get("stream_end"),
            "stream_closes_after": meta.get("stream_closes_after"),
            "input_fields": _input_fields(task),
            "binary_fields": _binary_fields(task),
            "parameter_fields": _parameter_fields(task),
        }
        lines.append(f"    {task.id!r}: TaskSpec(")
        lines += [f"        {key}={value!r}," for key, value in fields.items()]
        lines.append(f"        wire_variants=({''.join(v + ', ' for v in variants)}),")
        lines.append("    ),")
    lines.append("}")
    return "\n".join(lines) + "\n"


def types_index_source(exports: dict[str, str]) -> str:
    """Source of `typed_inference/types/__init__.py`: every model, imported lazily from its task module."""
    lines = [
        '"""The generated models of every task (`FillMaskInput`, `FillMaskOutputElement`, ...), loaded lazily."""',
        "",
        "from __future__ import annotations",
        "",
        "import importlib",
        "from typing import TYPE_CHECKING",
        "",
        "if TYPE_CHECKING:",
    ]
    for name, module in sorted(exports.items(), key=lambda item: (item[1], item[0])):
        lines.append(f"    from typed_inference.types.{module} import {name} as {name}")
    lines += ["", "_MODULES: dict[str, str] = {"]
    lines += [f"    {name!r}: {module!r}," for name, module in sorted(exports.items())]
    lines += [
        "}",
        "",
        "__all__ = sorted(_MODULES)",
        "",
        "",
        "def __getattr__(name: str) -> object:",
        "    module = _MODULES.get(name)",
        "    if module is None:",
        '        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")',
        '    value = getattr(importlib.import_module(f"typed_inference.types.{module}"), name)',
        "    globals()[name] = value",
        "    return value",
        "",
        "",
        "def __dir__() -> list[str]:",
        "    return __all__",
    ]
    return "\n".join(lines) + "\n"
