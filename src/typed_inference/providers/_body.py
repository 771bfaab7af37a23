"""A provider's body from the task's validated body, and its answer back into the task's shape (per body form)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from typed_inference._errors import RequestValidationError, ResponseValidationError
from typed_inference._provider_spec import ProviderTask

_TOOL_CHOICES = ("auto", "none", "required")


def provider_body(task: ProviderTask, provider: str, model: str, body: dict[str, Any], stream: bool) -> dict[str, Any]:
    """The body `provider` takes for a task, built from the task's own body (already validated against its schema):
    the mapped `model`, the form's field names, the provider's renames."""
    if task.body == "chat":
        return chat_body(body, model, task.response_format)
    if task.body == "completions":
        check_input(task, provider, body, None)
        params = dict(body.get("parameters") or {})
        params.pop("details", None)
        out = {"prompt": body["inputs"], **_renamed(params, task.rename), "model": model}
        if stream:
            out["stream"] = True
        return out
    # embeddings
    params = {k: v for k, v in body.items() if k != "inputs"}
    return {"input": body["inputs"], **_renamed(params, task.rename), "model": model}


def check_input(
    task: ProviderTask, provider: str, body: dict[str, Any], binary: tuple[bytes, str | None] | str | None
) -> None:
    """Refuses what `provider`'s body form cannot carry, whatever model the mapping names: a message list or
    `details=True` on a completions provider, a URL where the provider takes the file itself (multipart)."""
    if task.body == "completions":
        if not isinstance(body["inputs"], str):
            raise RequestValidationError(
                f"text-generation: provider {provider!r} takes a prompt (a string), not a message list: call "
                "chat_completion for a conversation"
            )
        if (body.get("parameters") or {}).get("details"):
            raise RequestValidationError(
                f"text-generation: provider {provider!r} answers with the text only: details=True is not available "
                "there (its OpenAI completions API gives no token details)"
            )
    elif task.body == "multipart" and isinstance(binary, str):
        raise RequestValidationError(
            f"{provider} takes the file itself (bytes, a path or a binary file object), not a URL: {binary[:80]!r}"
        )


def chat_body(body: dict[str, Any], model: str, response_format: str | None) -> dict[str, Any]:
    """An OpenAI chat body with `model` first, the provider's `response_format` form and an object `tool_choice`."""
    out = {"model": model, **{k: v for k, v in body.items() if k != "model"}}
    choice = out.get("tool_choice")
    if isinstance(choice, str) and choice not in _TOOL_CHOICES:
        out["tool_choice"] = {"type": "function", "function": {"name": choice}}
    rf = out.get("response_format")
    if response_format and isinstance(rf, dict) and rf.get("type") == "json_schema":
        schema = (rf.get("json_schema") or {}).get("schema")
        if response_format == "json_object_schema":
            out["response_format"] = {"type": "json_object", "schema": schema}
        else:
            out["response_format"] = {"type": "json_schema", "schema": schema}
    return out


def _renamed(params: dict[str, Any], rename: dict[str, str]) -> dict[str, Any]:
    return {rename.get(k, k): v for k, v in params.items()}


def answer_mapper(task: ProviderTask, provider: str, batch: bool) -> Callable[[bytes], bytes] | None:
    """The function turning the provider's answer body into the task's wire shape; None when it already is."""
    if task.body == "chat":
        return None

    def mapped(body: bytes) -> bytes:
        what = "completions" if task.body == "completions" else "embeddings"
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise _wrong(provider, what, f"the answer is not valid JSON: {exc}", body) from None
        key = "choices" if task.body == "completions" else "data"
        items = data.get(key) if isinstance(data, dict) else None
        if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
            raise _wrong(provider, what, f"expected a non-empty array of objects at $.{key}", body)
        items = sorted(items, key=lambda item: item.get("index", 0) if isinstance(item.get("index"), int) else 0)
        if task.body == "completions":
            texts = [item.get("text") for item in items]
            if not all(isinstance(t, str) for t in texts):
                raise _wrong(provider, what, "expected a string at $.choices[*].text", body)
            out: Any = [{"generated_text": t} for t in texts] if batch else {"generated_text": texts[0]}
        else:
            out = [item.get("embedding") for item in items]
            if not all(isinstance(row, list) for row in out):
                raise _wrong(provider, what, "expected an array at $.data[*].embedding", body)
            if batch:
                out = [[row] for row in out]
        return json.dumps(out).encode("utf-8")

    return mapped


def _wrong(provider: str, what: str, why: str, body: bytes) -> ResponseValidationError:
    return ResponseValidationError(f"{provider} ({what} answer): {why}", status_code=200, body=body)


# OpenAI finish reasons → the task's (a matched stop string also reads "stop" there, so "eos_token" here)
FINISH_REASONS = {"stop": "eos_token", "length": "length"}


class CompletionEvents:
    """Turns an OpenAI completions stream's chunks into text-generation stream events (TGI's shape).

    Each chunk's `choices[0].text` is one token event (no id or logprob: the provider sends none); the chunk with a
    `finish_reason` also carries the whole text as `generated_text`, and `details` (finish reason, token count)
    when the provider sent its `usage` there; else `details` stays null.
    """

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.text: list[str] = []
        self.index = 0

    def __call__(self, data: Any) -> Any:
        choices = data.get("choices") if isinstance(data, dict) else None
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            if isinstance(data, dict) and "usage" in data and not choices:
                return None  # a usage-only chunk (stream_options.include_usage): nothing for the caller
            raise ResponseValidationError(
                f"{self.provider} (completions stream): expected a non-empty array of objects at $.choices",
                status_code=200,
                body=json.dumps(data).encode("utf-8"),
            )
        choice = choices[0]
        text = choice.get("text")
        if not isinstance(text, str):
            raise ResponseValidationError(
                f"{self.provider} (completions stream): expected a string at $.choices[0].text",
                status_code=200,
                body=json.dumps(data).encode("utf-8"),
            )
        self.text.append(text)
        self.index += 1
        reason = choice.get("finish_reason")
        usage = data.get("usage")
        tokens = usage.get("completion_tokens") if isinstance(usage, dict) else None
        details = None
        if reason is not None and isinstance(tokens, int):  # only what the provider said: no token count, no details
            details = {"finish_reason": FINISH_REASONS.get(reason, reason), "generated_tokens": tokens}
        return {
            "index": self.index,
            "token": {"text": text, "special": False},
            "generated_text": "".join(self.text) if reason is not None else None,
            "details": details,
        }
