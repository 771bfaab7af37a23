"""`client.call(task, primary, **params)`: a task called by name, its keywords sorted the way its method sorts them.

The generated methods know each keyword's role from their signature; a call by name learns it from the registry
instead: the task's input fields, its parameters, its wire-variant flags and the per-call options. Used by the
CLI's `call`, `InferenceApi` and `client.map`.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from typed_inference._errors import RequestValidationError
from typed_inference._generated.registry import TASKS
from typed_inference._task import TaskSpec

OPTIONS = (
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
ARGUMENT_ERROR = "argument"  # the `type` of the errors a RequestValidationError about the arguments carries


@dataclass
class CallArguments:
    """A call by name sorted into what `_call` takes: primary input, input fields, parameters and options."""

    task: str
    primary: Any
    inputs: dict[str, Any] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=lambda: dict.fromkeys(OPTIONS))


def argument_error(message: str, names: Sequence[str] = ()) -> RequestValidationError:
    """A RequestValidationError about the arguments of a call (not about their values); nothing was sent."""
    errors = [{"type": ARGUMENT_ERROR, "loc": (name,), "msg": message} for name in names or ("",)]
    return RequestValidationError(message, errors)


def lookup_task(name: str) -> tuple[TaskSpec | None, str]:
    """The registry entry of a task name (`fill_mask` reads as `fill-mask`), or None and a "; did you mean" hint
    (empty when no task is close). The CLI and `validate` word their own errors with it."""
    key = name.strip().lower().replace("_", "-")
    spec = TASKS.get(key)
    if spec is not None:
        return spec, ""
    hint = difflib.get_close_matches(key, list(TASKS), n=1, cutoff=0.5)
    return None, f"; did you mean {hint[0]!r}?" if hint else ""


def task_spec(task: str) -> TaskSpec:
    """The registry entry of a task; an argument error with a suggestion otherwise."""
    spec, hint = lookup_task(task)
    if spec is None:
        raise argument_error(f"unknown task {task!r}{hint}", [task])
    return spec


def flag_names(spec: TaskSpec) -> tuple[str, ...]:
    """The keywords that choose a wire variant of the answer (fill-mask's `multiple_masks`)."""
    return tuple(v.args["flag"] for v in spec.wire_variants if "flag" in v.args)


def unknown_names(
    spec: TaskSpec, names: Sequence[str], known: Sequence[str], *, what: str = "argument(s)"
) -> RequestValidationError:
    """The error for keywords a task does not take, each with a suggestion where one is close."""
    hints = []
    for name in names:
        match = difflib.get_close_matches(name, known, n=1)
        hints.append(f"{name!r}" + (f" (did you mean {match[0]!r}?)" if match else ""))
    return argument_error(f"{spec.task}: unknown {what} {', '.join(hints)}", names)


def call_arguments(task: str, primary: Any, params: Mapping[str, Any]) -> CallArguments:
    """`client.call`'s arguments sorted for `_call`; an argument error for an unknown task or keyword.

    `primary` is what the task's method takes first (text, a list or tuple for batch tasks, a file or bytes,
    messages); for tasks whose input is an object it is a mapping of the input's fields, which may also come as
    keywords. A mapping holding the first argument's field (`{"text": ...}`) is unwrapped.
    """
    spec = task_spec(task)
    flags = flag_names(spec)
    streams = ("stream",) if spec.stream_model else ()
    known = (*spec.parameter_fields, *flags, *streams, *OPTIONS)
    if spec.first_argument is None:
        known = (*spec.input_fields, *known)
    unknown = [name for name in params if name not in known]
    if unknown:
        raise unknown_names(spec, unknown, known)
    out = CallArguments(spec.task, primary)
    for name, value in params.items():
        if name in OPTIONS:
            out.options[name] = value
        elif name in flags:
            out.options.setdefault("flags", {})[name] = value
        elif name == "stream":
            out.options["stream"] = bool(value)
        elif name in spec.parameter_fields:
            out.parameters[name] = value
        else:
            out.inputs[name] = value
    # The schema's order, as the typed methods send them: equal calls make equal bodies.
    out.parameters = {name: out.parameters[name] for name in spec.parameter_fields if name in out.parameters}
    if spec.first_argument is None:
        if primary is not None and not isinstance(primary, Mapping):
            fields = ", ".join(spec.input_fields)
            raise argument_error(f"{spec.task} takes an object input: a mapping of {fields}", ["primary"])
        given = {**(primary or {}), **out.inputs}
        out.inputs = {name: given[name] for name in (*spec.input_fields, *given) if name in given}
        out.primary = None
        return out
    if spec.first_argument_at and isinstance(primary, Mapping) and spec.first_argument_at in primary:
        out.primary = primary[spec.first_argument_at]
    if out.primary is None:
        raise argument_error(f"{spec.task}: nothing to send: give the {spec.first_argument}", ["primary"])
    if spec.batch and isinstance(out.primary, tuple):  # a tuple of texts is a batch, as a list is
        out.primary = list(out.primary)
    return out
