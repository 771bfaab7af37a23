"""The first stage of a call, with no I/O: the task's body built from the typed arguments and validated.

A call runs as stages, the same for the sync and async clients: **prepare** (here: arguments → a validated body,
files read, the route's first I/O-free choice and every refusal it decides), **route** (the Hub's provider mapping
when the choice needs it, then `providers/_route.target`), **send** (`Attempts` and the transport) and **decode**
(`_decode`). Nothing the client can check by itself waits for the network.
"""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from typed_inference._binary import read_binary
from typed_inference._errors import RequestValidationError

if TYPE_CHECKING:  # pydantic loads with the task's models, on its first call
    from pydantic import BaseModel

    from typed_inference._task import TaskSpec
    from typed_inference.providers._route import Choice

WEB = ("http://", "https://")
_PLACEHOLDER = "AA=="  # stands in for bytes that travel raw (or a URL a provider fetches) while the body is validated


@dataclass(frozen=True)
class Prepared:
    """A call once its arguments are checked: the task's validated body and what finishing the request needs."""

    spec: TaskSpec
    choice: Choice  # the route's first step (`BaseClient.route_choice`): the lookup it needs, if any
    body: dict[str, Any]  # the task's own body, validated against its input schema
    binary: tuple[bytes, str | None] | str | None  # the input file (bytes, content type), or a URL left to a provider
    raw: bytes | None  # bytes sent as they are (a binary input with no parameters), else None
    content_type: str
    batch: bool  # a list of inputs to a batch task: one result per input
    stream: bool
    primary: Any  # what the method took first: kept for a URL that turns out to need reading (`read_url`)
    wait_for_model: bool | None = None
    use_cache: bool | None = None
    extra_headers: Mapping[str, str] | None = None
    extra_body: Mapping[str, Any] | None = None
    timeout: float | None = None
    flags: Mapping[str, Any] | None = None
    progress: Any = None  # the job progress callback (`progress_callback`), already checked


def task_body(
    spec: TaskSpec,
    primary: Any,
    inputs: Mapping[str, Any],
    parameters: Mapping[str, Any],
    *,
    chat_model: str | None,
    extra_body: Mapping[str, Any] | None,
    stream: bool,
    keep_url: bool,
) -> tuple[dict[str, Any], tuple[bytes, str | None] | str | None, bytes | None, str]:
    """The task's body (validated against its input schema), the input file, raw bytes and their content type.

    `keep_url`: an http(s) URL given for a binary input is kept as a URL (a provider may fetch it itself) rather than
    read as a path; files and bytes are read here, so a missing file fails before anything is sent.
    """
    params = {k: plain(v) for k, v in parameters.items() if v is not None}
    content_type = "application/json"
    raw: bytes | None = None
    binary: tuple[bytes, str | None] | str | None = None
    value: Any
    if spec.input_kind == "binary" and keep_url and isinstance(primary, str) and primary.startswith(WEB):
        binary, value = primary, _PLACEHOLDER
    elif spec.input_kind == "binary":
        data, sniffed = binary = read_binary(primary, spec.first_argument or "inputs")
        if params or extra_body:
            value = base64.b64encode(data).decode("ascii")
        else:
            raw, value = data, _PLACEHOLDER
            content_type = sniffed or "application/octet-stream"
    elif spec.first_argument_at:
        value = {spec.first_argument_at: plain(primary)}
    elif spec.first_argument:
        value = plain(primary)
    else:
        value = {}
        for name, item in inputs.items():
            if item is None:
                continue
            if name in spec.binary_fields:
                item = base64.b64encode(read_binary(item, name)[0]).decode("ascii")
            value[name] = plain(item)
    if spec.body == "chat":
        body: dict[str, Any] = {"messages": value, **params}
        if chat_model and not chat_model.startswith(WEB):
            body = {"model": chat_model, **body}
        if stream:
            body["stream"] = True
    elif spec.body == "flat":
        body = {"inputs": value, **params}
    else:
        body = {"inputs": value}
        if params:
            body["parameters"] = params
        if stream:
            body["stream"] = True
    model = spec.input  # the task's models, and pydantic with them
    from pydantic import ValidationError

    try:
        validated = model.model_validate(body)
    except ValidationError as exc:
        from typed_inference._error_messages import describe

        lines = describe(exc.errors(include_url=False), model, data=body)
        raise RequestValidationError(
            f"{spec.task}: invalid request:\n  " + "\n  ".join(lines), exc.errors(include_url=False)
        ) from None
    return without_nones(body, validated), binary, raw, content_type


def without_nones(data: Any, value: Any) -> Any:
    """`data` without the None of every optional field of the model `value` validated it into: None means "not
    given" (huggingface_hub drops them too); free-form values (a tool's JSON Schema, `extra_body`) are kept as given."""
    root = getattr(value, "__pydantic_root_model__", False)
    if root:
        return without_nones(data, value.root)
    fields = getattr(type(value), "model_fields", None)
    if fields is not None and isinstance(data, dict):
        names = {**{f.alias: n for n, f in fields.items() if f.alias}, **{n: n for n in fields}}
        out = {}
        for key, item in data.items():
            name = names.get(key)
            if name is None:
                out[key] = item
            elif item is not None or fields[name].is_required():
                out[key] = without_nones(item, getattr(value, name))
        return out
    if isinstance(data, list) and isinstance(value, list) and len(data) == len(value):
        return [without_nones(d, v) for d, v in zip(data, value, strict=True)]
    return data


def json_payload(task: str, body: Any) -> bytes:
    """A body as the JSON bytes sent; a RequestValidationError for values JSON cannot carry (NaN, objects)."""
    try:
        return json.dumps(body, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise RequestValidationError(f"{task}: the body cannot be sent as JSON: {exc}") from None


def merge(body: dict[str, Any], extra: Mapping[str, Any]) -> None:
    """Merges `extra` into `body`: objects present in both are merged key by key, other values replaced."""
    for key, value in extra.items():
        current = body.get(key)
        if isinstance(current, dict) and isinstance(value, Mapping):
            merge(current, value)
        else:
            body[key] = plain(value)


def plain(value: Any) -> Any:
    """User values as JSON data: models dumped by alias, sequences as lists, mappings as dicts; values untouched."""
    pydantic = sys.modules.get("pydantic")  # not yet imported: no value can be a model
    if pydantic is not None:
        model: type[BaseModel] = pydantic.BaseModel
        if isinstance(value, model):
            return value.model_dump(mode="json", by_alias=True, exclude_unset=True)
        if isinstance(value, type) and issubclass(value, model):
            schema = {"name": value.__name__, "schema": value.model_json_schema(), "strict": True}
            return {"type": "json_schema", "json_schema": schema}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    return value
