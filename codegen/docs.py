"""Writes docs/tasks.md: every task's method, parameters, result type, route and accepted wire variants."""

from __future__ import annotations

from typing import Any

from codegen.methods import Types, _returns
from codegen.schemas import Task

EXAMPLE_FIRST = {
    "text": '"The goal of life is [MASK]."',
    "prompt": '"Once upon a time"',
    "image": '"cat.png"',
    "audio": '"speech.flac"',
    "video": '"clip.mp4"',
    "messages": '[{"role": "user", "content": "Hello!"}]',
    "table": '{"sepal_length": [5.1, 6.2], "sepal_width": [3.5, 2.9]}',
}
ROUTES = {
    "model": "`POST {base_url}/models/{model}`",
    "pipeline": "`POST {base_url}/models/{model}/pipeline/{task}`",
    "chat": "`POST {base_url}/models/{model}/v1/chat/completions`",
}


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _bounds(schema: dict[str, Any]) -> str:
    parts = []
    for key, symbol in (("minimum", "≥"), ("exclusiveMinimum", ">"), ("maximum", "≤"), ("exclusiveMaximum", "<")):
        if key in schema:
            parts.append(f"{symbol} {schema[key]}")
    if "minItems" in schema:
        parts.append(f"≥ {schema['minItems']} items")
    if "enum" in schema:
        parts.append("one of " + ", ".join(f"`{v}`" for v in schema["enum"]))
    return ", ".join(parts)


def _fields(task: Task, types: Types) -> list[str]:
    """Rows describing the result type's fields (of the element for array outputs)."""
    if task.meta["output_kind"] == "binary":
        return ["Raw bytes (`BinaryOutput`, a `bytes` with `.content_type`, `.save(path)`, `.to_image()`)."]
    output = task.output
    target = output
    if task.element:
        target = output["$defs"][task.element]
    if "allOf" in target:
        ref = target["allOf"][0]["$ref"]
        target = types.common[ref.rsplit("/", 1)[-1]]
    props = target.get("properties")
    if not props:
        kind = types.annotation(output).replace("Sequence[", "list[")
        return [f"`{kind}`: {_cell(output.get('description', ''))}"]
    required = set(target.get("required", []))
    rows = ["| field | type | description |", "|---|---|---|"]
    for name, schema in props.items():
        kind = types.annotation(schema).replace("Sequence[", "list[")
        optional = "" if name in required else " (optional)"
        rows.append(f"| `{name}` | `{_cell(kind)}`{optional} | {_cell(schema.get('description', ''))} |")
    return rows


def task_section(task: Task, common: dict[str, Any]) -> list[str]:
    meta = task.meta
    types = Types(task, common)
    method = task.module
    first = meta["first_argument"]
    params = task.input["$defs"][f"{task.name}Parameters"].get("properties", {})
    lines = [f"## {task.id}", "", meta["summary"], ""]
    args = [EXAMPLE_FIRST.get(first or "", '"..."')] if first else []
    if not first:
        inputs_ref = task.input["properties"]["inputs"]["$ref"].rsplit("/", 1)[-1]
        for name in task.input["$defs"][inputs_ref].get("required", []):
            args.append(f'{name}="..."')
    args.append('model="org/model"')
    lines += ["```python", f"result = client.{method}({', '.join(args)})", "```", ""]
    lines += [
        f"- Method: `InferenceClient.{method}` (and `await AsyncInferenceClient.{method}`)",
        f"- Returns: `{_returns(task)}`"
        + (" (a list of them for a list input)" if meta["batch"] else "")
        + (f"; `Stream[{task.name}StreamOutput]` with `stream=True`" if task.stream_output else ""),
        f"- Input: {meta['input_kind']}"
        + (f", first argument `{first}`" if first else ", keyword fields of `inputs`")
        + f"; body layout `{meta['body']}`",
        f"- Route: {ROUTES[meta['route']]}",
        f"- Output: {meta['output_kind']}",
    ]
    if task.stream_output:
        end = meta["stream_end"]
        ends = "a `data: [DONE]` event" if end == "[DONE]" else f"the event whose `{end}` is set"
        if meta.get("stream_closes_after"):
            ends += f", or the body's end after an event whose `{meta['stream_closes_after']}` is set"
        lines.append(f"- Stream ends with: {ends}")
    lines.append("")
    if params:
        lines += ["| parameter | type | bounds | description |", "|---|---|---|---|"]
        for name, schema in params.items():
            kind = types.annotation(schema)
            lines.append(f"| `{name}` | `{_cell(kind)}` | {_bounds(schema)} | {_cell(schema.get('description', ''))} |")
        lines.append("")
        lines.append("Every parameter defaults to unset (`None`): it is not sent and the service applies its default.")
        lines.append("")
    else:
        lines += ["No parameters.", ""]
    lines += ["Result:", "", *_fields(task, types), ""]
    variants = meta["wire_variants"]
    if variants:
        lines += ["Wire variants accepted and normalised:", ""]
        lines += [f"- **{v['name']}** (`{v['transform']['op']}`): {_cell(v['description'])}" for v in variants]
        lines.append("")
    return lines


def _lists_of_texts(tasks: list[Task]) -> list[str]:
    """The section saying which text tasks take a list of texts (their `batch` declaration) and why."""
    batch = [f"[{t.id}](#{t.id})" for t in tasks if t.meta["batch"]]
    single = [f"[{t.id}](#{t.id})" for t in tasks if t.meta["input_kind"] == "text" and not t.meta["batch"]]
    return [
        "## Lists of texts",
        "",
        f"These tasks take a list (or a tuple) of texts as their first argument: {', '.join(batch)}. The service's",
        "pipelines for them (transformers' text-classification, token-classification, fill-mask, feature-extraction,",
        "and the text2text pipelines behind summarization and translation; zero-shot-classification) run a list in one",
        "request and answer one result per text, in order; the JS client's tests recorded it for translation and",
        "zero-shot-classification in 2025. A `str` gives one result, a list gives a list of results (the typed",
        "overloads say so), a list of one included. `task.json`'s `batch` declares it; `client.map(batch_size=...)`",
        "batches exactly these tasks.",
        "",
        f"The other text tasks take one text: {', '.join(single)}. text-generation's list is a",
        "chat's messages, and TGI, which serves most generation models, takes one prompt per request; the",
        "text-to-media tasks (images, speech, audio, video) answer one file per request.",
        "",
    ]


def tasks_markdown(tasks: list[Task], common: dict[str, Any]) -> str:
    """The whole reference page."""
    lines = [
        "<!-- Generated by `make codegen` (python -m codegen) from schemas/. Do not edit by hand. -->",
        "# Task reference",
        "",
        "Every task of the Inference API, as `schemas/` describes it. `client` is an `InferenceClient`; each method",
        "also takes the per-call options `model`, `provider`, `wait_for_model`, `use_cache`, `extra_headers`,",
        "`extra_body` and `timeout`.",
        "",
        "| task | method | input | returns |",
        "|---|---|---|---|",
    ]
    for task in tasks:
        lines.append(
            f"| [{task.id}](#{task.id}) | `{task.module}` | {task.meta['input_kind']} | `{_cell(_returns(task))}` |"
        )
    lines.append("")
    lines += _lists_of_texts(tasks)
    for task in tasks:
        lines += task_section(task, common)
    return "\n".join(lines).rstrip() + "\n"
