"""Bodies in and out, with the generated models the client uses: request validation, answer encoding, error bodies."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from typed_inference._decode import output_adapter
from typed_inference._error_messages import describe
from typed_inference._task import TaskSpec
from typed_inference.server.errors import ServerError


def parse_body(spec: TaskSpec, raw: bytes, content_type: str) -> tuple[BaseModel, bytes | None]:
    """The validated input model of a request and, for file tasks, the file's bytes (raw body or base64 `inputs`)."""
    is_json = "json" in content_type or (not content_type and raw[:1] in (b"{", b"["))
    if spec.input_kind == "binary" and not is_json:
        if not raw:
            raise ServerError(400, f"{spec.task}: the body is empty: send the file's bytes, or JSON with base64 inputs")
        return spec.input.model_validate({"inputs": ""}), raw
    if not is_json:
        raise ServerError(400, f"{spec.task} takes a JSON body (Content-Type: application/json), not {content_type}")
    try:
        body = spec.input.model_validate_json(raw)
    except ValidationError as exc:
        lines = describe(exc.errors(include_url=False), spec.input)
        raise ServerError(400, f"Invalid request body for {spec.task}: " + "; ".join(lines)) from None
    if spec.input_kind != "binary":
        return body, None
    try:
        return body, base64.b64decode(getattr(body, "inputs", ""), validate=True)
    except (binascii.Error, ValueError):
        raise ServerError(400, f"Invalid request body for {spec.task}: inputs: not valid base64") from None


_ANY: TypeAdapter[Any] = TypeAdapter(Any)


def encode_answer(spec: TaskSpec, result: Any, nesting: int, wire: Callable[[Any], Any] | None = None) -> bytes:
    """The JSON of an answer, checked against the task's output model (wrapped in `nesting` lists) with the adapters
    the client validates answers with, then reshaped by `wire` into the hosted service's shape when given."""
    adapter = output_adapter(spec, nesting)
    try:
        value = adapter.validate_python(result)
    except ValidationError as exc:
        lines = describe(exc.errors(include_url=False))
        raise ServerError(
            500, f"the model's answer does not match {spec.output_model}: " + "; ".join(lines[:5])
        ) from None
    if wire is None:
        return adapter.dump_json(value, by_alias=True, exclude_unset=True)
    return _ANY.dump_json(wire(value), by_alias=True, exclude_unset=True)


def error_json(error: ServerError, *, openai: bool = False) -> bytes:
    """The `{"error": ...}` body of an error answer (OpenAI's `{"error": {"message", "type", "code"}}` when
    `openai`)."""
    return json.dumps(error.body(openai=openai)).encode()


def openai_chat_body(raw: bytes) -> bytes:
    """A `/v1/chat/completions` body with OpenAI's current `max_completion_tokens` read as `max_tokens`."""
    try:
        data = json.loads(raw)
    except ValueError:
        return raw  # the task's validation reports it
    if not isinstance(data, dict) or "max_completion_tokens" not in data:
        return raw
    value = data.pop("max_completion_tokens")
    if value is not None:
        if data.get("max_tokens") not in (None, value):
            raise ServerError(
                400,
                "Invalid request body for chat-completion: max_tokens and max_completion_tokens differ; "
                "send one of them",
            )
        data["max_tokens"] = value
    return json.dumps(data).encode()
