"""Media tasks on providers: their bodies (JSON, replicate's `input` object, multipart) built from the task's body
by the provider's declared rules, and reading what their answers hold (a path into JSON, base64, a data URL)."""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from typing import Any

from typed_inference._binary import sniff
from typed_inference._errors import RequestValidationError, ResponseValidationError
from typed_inference._provider_spec import ProviderTask
from typed_inference._urls import provider_model_path
from typed_inference.providers._body import check_input
from typed_inference.providers._mapping import ProviderMapping

INPUT = "$input"
LORA_BASE = "stabilityai/stable-diffusion-xl-base-1.0"  # fal-ai's SD LoRA endpoint needs its base model named
REPLICATE_HUB = "https://huggingface.co"  # replicate's lora_weights always name the model on huggingface.co
# the kind of file each media task answers with: a download must be one
OUTPUT_MEDIA = {
    "text-to-image": "image",
    "image-to-image": "image",
    "image-segmentation": "image",
    "text-to-video": "video",
    "image-to-video": "video",
    "text-to-speech": "audio",
}
_AUDIO_EXTENSIONS = {"audio/mpeg": "mp3", "audio/wav": "wav", "audio/flac": "flac", "audio/ogg": "ogg"}


def route(task: ProviderTask, model: str) -> str:
    """The task's route for a provider model id, inserted as a checked path (`provider_model_path`: ids hold `/` and
    `:`, never a `.` or `..` segment that would move the request)."""
    if task.version_route and ":" in model:
        return task.version_route
    if "{model}" not in task.route:
        return task.route
    return task.route.replace("{model}", provider_model_path(model.split(":")[0] if task.version_route else model))


def media_payload(
    task: ProviderTask,
    name: str,
    model: str,
    body: dict[str, Any],
    binary: tuple[bytes, str | None] | str | None,
    extra_body: dict[str, Any],
    *,
    entry: ProviderMapping | None,
    hub_model: str | None,
    hub_url: str,
) -> tuple[bytes, str]:
    """The payload and content type of a media task's request to provider `name` for its model id `model`, from the
    task's validated body (`binary`: the input file, or an http(s) URL the provider fetches, for tasks taking one);
    `extra_body` joins the parameters."""
    check_input(task, name, body, binary)
    params = {**(body.get("parameters") or {}), **extra_body}
    if isinstance(binary, str):
        value: Any = binary
    elif binary is not None:
        value = _data_url(task, *binary)
    else:
        value = body["inputs"]
    if task.body == "multipart":
        assert isinstance(binary, tuple)
        return _multipart(binary, params, model)
    for key in task.flatten:
        nested = params.pop(key, None)
        if isinstance(nested, dict):
            params = {**nested, **params}
    for key in task.drop:
        params.pop(key, None)
    if task.size is not None and params.get("width") is not None and params.get("height") is not None:
        width, height = params.pop("width"), params.pop("height")
        params[task.size_key] = {"width": width, "height": height} if task.size == "object" else f"{width}x{height}"
    params = {task.rename.get(k, k): v for k, v in params.items()}
    inputs = task.inputs
    for rule in task.model_rules:
        if all(part in model.lower() for part in rule.contains):
            inputs = rule.inputs
    out: dict[str, Any] = {**_filled(inputs, value), **task.defaults, **params, **task.constants}
    if task.model_field:
        out["model"] = model
    if entry is not None and entry.adapter_weights_path and hub_model:
        if task.lora == "loras":
            path = f"{hub_url}/{hub_model}/resolve/main/{entry.adapter_weights_path}"
            out["loras"] = [{"path": path, "scale": 1}]
            if model == "fal-ai/lora":
                out["model_name"] = LORA_BASE
        elif task.lora == "lora_weights":
            out["lora_weights"] = f"{REPLICATE_HUB}/{hub_model}"
    if task.body == "input-object":
        out = {"input": out}
        if ":" in model:
            out["version"] = model.split(":", 1)[1]
    try:
        return json.dumps(out, ensure_ascii=False, allow_nan=False).encode("utf-8"), "application/json"
    except (TypeError, ValueError) as exc:
        raise RequestValidationError(f"{name}: the body cannot be sent as JSON: {exc}") from None


def _data_url(task: ProviderTask, data: bytes, sniffed: str | None) -> str:
    kind = task.data_url if task.data_url_fixed else sniffed or task.data_url or "application/octet-stream"
    return f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"


def _filled(template: Any, value: Any) -> Any:
    """`template` with every "$input" replaced by `value`."""
    if template == INPUT:
        return value
    if isinstance(template, dict):
        return {k: _filled(v, value) for k, v in template.items()}
    if isinstance(template, list):
        return [_filled(v, value) for v in template]
    return template


def _multipart(binary: tuple[bytes, str | None], params: dict[str, Any], model: str) -> tuple[bytes, str]:
    """An OpenAI transcription body: the file, one field per parameter, then the model."""
    data, kind = binary
    boundary = uuid.uuid4().hex
    extension = _AUDIO_EXTENSIONS.get(kind or "", "wav")
    parts = [
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="audio.{extension}"\r\n'
            f"Content-Type: {kind or 'application/octet-stream'}\r\n\r\n"
        ).encode()
        + data
        + b"\r\n"
    ]
    for key, value in [*((k, v) for k, v in params.items() if k != "model"), ("model", model)]:  # model last
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, (str, int, float)):
            text = str(value)
        else:
            text = json.dumps(value)
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{text}\r\n'.encode())
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def at(data: Any, path: str) -> Any:
    """The value at a JSON path (`images[0].url`, `data.outputs[0]`; "" is the whole value), or None when absent."""
    for name, index in _STEP.findall(path):
        if name:
            data = data.get(name) if isinstance(data, dict) else None
        else:
            data = data[int(index)] if isinstance(data, list) and int(index) < len(data) else None
        if data is None:
            return None
    return data


def transcript(data: Any) -> dict[str, Any] | None:
    """A transcription answer as the task's output, or None without a `text` string: OpenAI's `segments` (start,
    end) become `chunks`, fal-ai whisper's `chunks` (`timestamp: [start, end]`, `text`, `speaker`) stay; every other
    field is kept (the output models keep them as extras)."""
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        return None
    out = {key: value for key, value in data.items() if key != "segments"}
    segments = data.get("segments")
    if isinstance(segments, list) and segments:
        out["chunks"] = [
            {"text": s.get("text", ""), "timestamp": [s.get("start"), s.get("end")]}
            for s in segments
            if isinstance(s, dict)
        ]
    # fal-ai's `chunks` are the task's shape already (validated as the task's output, `speaker` an extra)
    return out


def data_url_bytes(url: str) -> tuple[bytes, str] | None:
    """The bytes and declared type of a base64 `data:` URL; None when `url` is not one."""
    match = re.match(r"data:([^;,]*)(;base64)?,", url)
    if match is None:
        return None
    try:
        if match.group(2):
            data = base64.b64decode(url[match.end() :], validate=True)
        else:
            from urllib.parse import unquote_to_bytes

            data = unquote_to_bytes(url[match.end() :])
    except (binascii.Error, ValueError):
        return None
    return data, match.group(1) or "application/octet-stream"


def file_type(task: str, declared: str, data: bytes, where: str) -> str:
    """The content type of a file a provider gave for `task`: the declared one when it is of the task's kind
    (image, audio, video), the magic bytes' when it is generic or absent; anything else is a
    ResponseValidationError naming `where` the file came from."""
    wanted = OUTPUT_MEDIA.get(task)
    kind = declared.split(";")[0].strip().lower()
    if kind in ("", "application/octet-stream", "binary/octet-stream"):
        kind = sniff(data) or ""
        if not kind:
            raise ResponseValidationError(
                f"{task}: the file at {where} has a generic content type and its first bytes are no known {wanted} "
                "format",
                status_code=200,
                body=data[:64],
            )
    if wanted is not None and not kind.startswith(wanted + "/"):
        raise ResponseValidationError(
            f"{task}: the file at {where} is {kind}, not the {wanted} this task returns",
            status_code=200,
            body=data[:64],
        )
    return kind
