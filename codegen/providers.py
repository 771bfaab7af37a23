"""Reads schemas/providers/*.json (what each Inference Provider does, as data) and writes `_generated/providers.py`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from codegen.schemas import SCHEMAS

PROVIDERS_DIR = SCHEMAS / "providers"
_TOP = {"provider", "description", "routing", "base_url", "auth", "headers", "queue_url", "model_ids", "tasks"}
_TASK = {"route", "body", "rename", "response_format", "description"}
_ENUMS = {
    "routing": ("routed", "direct", "both"),
    "auth": ("bearer", "key"),
    "model_ids": ("mapped", "as-given"),
    "body": ("chat", "completions", "embeddings"),
    "response_format": ("json_object_schema", "json_schema_flat"),
}


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
        found[path.stem] = doc
    if problems:
        raise SystemExit("schemas/providers/ has errors:\n  " + "\n  ".join(problems))
    return found


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
        "from typed_inference.providers._spec import ProviderSpec, ProviderTask",
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
                if entry.get("rename"):
                    args.append(f"rename={entry['rename']!r}")
                if entry.get("response_format"):
                    args.append(f"response_format={entry['response_format']!r}")
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
