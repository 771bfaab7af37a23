"""Reads schemas/providers/*.json (what each Inference Provider does, as data) and writes `_generated/providers.py`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from codegen.schemas import SCHEMAS

PROVIDERS_DIR = SCHEMAS / "providers"
_TOP = {"provider", "description", "routing", "base_url", "auth", "headers", "queue_url", "model_ids", "tasks"}
_TASK = {
    "route", "body", "rename", "response_format", "description", "inputs", "model_rules", "data_url", "data_url_fixed",
    "constants", "defaults", "drop", "flatten", "size", "size_key", "model_field", "lora", "version_route", "answer",
    "answer_at", "job", "poll_interval", "max_polls",
}  # fmt: skip
_TUPLES = ("drop", "flatten")  # lists in the JSON, tuples in ProviderTask
_OPTIONAL = ("route", "body")  # written first; every other key only when given
_ENUMS = {
    "routing": ("routed", "direct", "both"),
    "auth": ("bearer", "key"),
    "model_ids": ("mapped", "as-given"),
    "body": ("chat", "completions", "embeddings", "json", "input-object", "multipart"),
    "response_format": ("json_object_schema", "json_schema_flat"),
    "answer": ("bytes", "base64", "url", "text", "transcription", "mask"),
    "job": ("fal-queue", "together-video", "wavespeed", "zai", "replicate-wait"),
    "size": ("object", "WxH"),
    "lora": ("loras", "lora_weights"),
}
_MEDIA = ("json", "input-object", "multipart")


def load_providers(root: Path = PROVIDERS_DIR, tasks: set[str] | None = None) -> dict[str, dict[str, Any]]:
    """Every provider file by name, checked: known keys, enum values, a route starting with `/`, known tasks."""
    found: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    for path in sorted(root.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        where = f"schemas/providers/{path.name}"
        if doc.get("provider") != path.stem:
            problems.append(f"{where}: 'provider' must be {path.stem!r}")
        problems += [f"{where}: unknown key {key!r}" for key in sorted(set(doc) - _TOP)]
        problems += _enum_problems(where, doc)
        entries = doc.get("tasks")
        if entries != "all" and not isinstance(entries, dict):
            problems.append(f"{where}: 'tasks' must be \"all\" or an object of task → route")
            entries = {}
        for task, entry in (entries if isinstance(entries, dict) else {}).items():
            at = f"{where}: tasks.{task}"
            if tasks is not None and task not in tasks:
                problems.append(f"{at}: unknown task")
            problems += [f"{at}: unknown key {key!r}" for key in sorted(set(entry) - _TASK)]
            if not str(entry.get("route", "")).startswith("/"):
                problems.append(f"{at}: 'route' must start with '/'")
            problems += _enum_problems(at, entry)
            problems += _media_problems(at, entry)
        found[path.stem] = doc
    if problems:
        raise SystemExit("schemas/providers/ has errors:\n  " + "\n  ".join(problems))
    return found


def _media_problems(at: str, entry: dict[str, Any]) -> list[str]:
    """A media task's own rules: an answer form, a `$input` somewhere, well-formed model rules and polls."""
    problems = []
    media = entry.get("body") in _MEDIA
    if media and "answer" not in entry:
        problems.append(f"{at}: a media body form needs an 'answer'")
    if not media and any(key in entry for key in ("answer", "job", "inputs")):
        problems.append(f"{at}: 'answer', 'job' and 'inputs' belong to media body forms ({', '.join(_MEDIA)})")
    if media and "$input" not in json.dumps(entry.get("inputs", {})) and entry.get("body") != "multipart":
        problems.append(f"{at}: 'inputs' must place the task's input (\"$input\")")
    for i, rule in enumerate(entry.get("model_rules", [])):
        if set(rule) != {"contains", "inputs"} or not all(isinstance(c, str) for c in rule["contains"]):
            problems.append(f"{at}: model_rules[{i}] must be {{contains: [strings], inputs: {{...}}}}")
    for key in _TUPLES:
        if not all(isinstance(item, str) for item in entry.get(key, [])):
            problems.append(f"{at}: {key!r} must be a list of strings")
    interval = entry.get("poll_interval", 0.5)
    if not isinstance(interval, (int, float)) or interval < 0:
        problems.append(f"{at}: 'poll_interval' must be a number of seconds, at least 0")
    polled = entry.get("job") not in (None, "replicate-wait")
    limit = entry.get("max_polls")
    if polled and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        problems.append(f"{at}: a polled job needs 'max_polls', a whole number of at least 1 (its poll limit)")
    return problems


def _enum_problems(where: str, doc: dict[str, Any]) -> list[str]:
    return [
        f"{where}: {key!r} must be one of {', '.join(allowed)}, not {doc[key]!r}"
        for key, allowed in _ENUMS.items()
        if key in doc and doc[key] not in allowed
    ]


def providers_source(providers: dict[str, dict[str, Any]]) -> str:
    """The source of `_generated/providers.py`: PROVIDERS, name → ProviderSpec."""
    lines = [
        '"""The Inference Providers this SDK knows, from schemas/providers/: routes, auth and body forms per task."""',
        "",
        "from typed_inference._provider_spec import ModelRule, ProviderSpec, ProviderTask",
        "",
        "PROVIDERS: dict[str, ProviderSpec] = {",
    ]
    for name, doc in providers.items():
        entries = doc["tasks"]
        if entries == "all":
            tasks = "None"
        else:
            items = []
            for task, entry in entries.items():
                args = [f"route={entry['route']!r}", f"body={entry['body']!r}"]
                for key, value in entry.items():
                    if key in (*_OPTIONAL, "description"):
                        continue
                    if key in _TUPLES:
                        value = tuple(value)
                    if key == "model_rules":
                        rules = [f"ModelRule({tuple(r['contains'])!r}, {r['inputs']!r})" for r in value]
                        args.append(f"model_rules=({', '.join(rules)},)")
                        continue
                    args.append(f"{key}={value!r}")
                items.append(f"{task!r}: ProviderTask({', '.join(args)})")
            tasks = "{" + ", ".join(items) + "}"
        args = [
            f"name={name!r}",
            f"routing={doc['routing']!r}",
            f"base_url={doc.get('base_url')!r}",
            f"auth={doc['auth']!r}",
            f"tasks={tasks}",
        ]
        if doc.get("headers"):
            args.append(f"headers={doc['headers']!r}")
        if doc.get("queue_url"):
            args.append(f"queue_url={doc['queue_url']!r}")
        if doc.get("model_ids", "mapped") != "mapped":
            args.append(f"model_ids={doc['model_ids']!r}")
        lines.append(f"    {name!r}: ProviderSpec({', '.join(args)}),")
    lines.append("}")
    return "\n".join(lines) + "\n"


def names_source(providers: dict[str, dict[str, Any]]) -> str:
    """The source of `_generated/names.py`: `ProviderName`, the known provider names and "auto", open to others."""
    names = ", ".join(repr(n) for n in ["auto", *sorted(providers)])
    return (
        '"""Names editors complete: `ProviderName`, the provider= of every method, client and Ray setting."""\n\n'
        "from typing import Literal, TypeAlias\n\n"
        f"ProviderName: TypeAlias = Literal[{names}] | str\n"
        '"""An Inference Provider: "auto" (the Hub\'s mapping picks), one this SDK knows, or another one."""\n'
    )
