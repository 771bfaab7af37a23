"""`typed-inference providers`: the Hub's inference provider mapping of a model, as a table or JSON."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from typed_inference.cli._common import CommandError, Subparsers, guarded, http_url

if TYPE_CHECKING:
    from typed_inference.providers import ProviderMapping

COLUMNS = ("PROVIDER", "PROVIDER ID", "STATUS", "TASK", "IN SDK", "ADAPTER")


def add_commands(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "providers",
        help="show which inference providers serve a model (the Hub's provider mapping)",
        description="Show the Hub's inference provider mapping of a model: each provider, its id for the model, its "
        "status and task, and whether this SDK implements that provider for that task. The Hub is HF_ENDPOINT "
        "(default https://huggingface.co) unless --hub-url names another; HF_TOKEN (or the token file) is sent to it.",
    )
    parser.add_argument("model", help="a Hub model id, e.g. meta-llama/Llama-3.1-8B-Instruct")
    parser.add_argument("--task", help="only the entries for this task (a task id, or the Hub's 'conversational')")
    parser.add_argument("--json", action="store_true", help="print the entries as a JSON array")
    parser.add_argument(
        "--hub-url", type=http_url, metavar="URL", help="the Hub's base URL (default: HF_ENDPOINT or huggingface.co)"
    )
    parser.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS", help="per-attempt timeout")
    parser.set_defaults(run=guarded("providers", run_providers))


def sdk_task(hub_task: str) -> str:
    """The SDK's task id of a task name in a provider mapping (the Hub calls chat "conversational")."""
    return "chat-completion" if hub_task == "conversational" else hub_task


def wanted_task(name: str | None) -> str | None:
    """The Hub's task name that --task asks for (None: every task); an unknown task is a usage error."""
    from typed_inference.providers._route import hub_task
    from typed_inference.validation import resolve_task

    if name is None or name == "conversational":
        return name
    return hub_task(resolve_task(name).task)


def implemented(entry: ProviderMapping) -> bool:
    """Whether this SDK implements the entry's provider for the entry's task."""
    from typed_inference.providers import PROVIDERS

    spec = PROVIDERS.get(entry.provider)
    return spec is not None and spec.serves(sdk_task(entry.task))


def record(entry: ProviderMapping) -> dict[str, Any]:
    """An entry as JSON: the Hub's field names, `implemented`, and the fields this SDK does not know."""
    return {
        "provider": entry.provider,
        "providerId": entry.provider_id,
        "status": entry.status,
        "task": entry.task,
        "implemented": implemented(entry),
        "adapter": entry.adapter,
        "adapterWeightsPath": entry.adapter_weights_path,
        "type": entry.type,
        **entry.extra,
    }


def run_providers(args: argparse.Namespace) -> int:
    """`typed-inference providers MODEL`: the mapping as a table (or JSON); Hub errors exit 1 with one line."""
    from typed_inference import InferenceError, RequestValidationError
    from typed_inference.client import InferenceClient

    task = wanted_task(args.task)
    if args.timeout <= 0:
        raise CommandError("--timeout must be more than 0")
    with InferenceClient(hub_url=args.hub_url, timeout=args.timeout) as client:
        try:
            entries = client.provider_mapping(args.model)
        except RequestValidationError as exc:  # a malformed model id, refused before the Hub is asked
            raise CommandError(str(exc)) from None
        except InferenceError as exc:
            message = " ".join(str(exc).split())
            print(f"typed-inference providers: {type(exc).__name__}: {message}", file=sys.stderr)
            return 1
        hub = client.hub_url
    shown = [entry for entry in entries if task is None or entry.task == task]
    if args.json:
        sys.stdout.write(json.dumps([record(entry) for entry in shown], indent=2, ensure_ascii=False) + "\n")
        return 0
    if not shown:
        what = f" for task {task!r}" if task else ""
        sys.stdout.write(f"{args.model}: no inference provider mapping{what} on the Hub ({hub})\n")
        return 0
    rows = [
        (e.provider, e.provider_id, e.status, e.task, "yes" if implemented(e) else "no", e.adapter or "") for e in shown
    ]
    widths = [max(len(row[i]) for row in [COLUMNS, *rows]) + 2 for i in range(len(COLUMNS) - 1)]
    lines = ["".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + row[-1] for row in [COLUMNS, *rows]]
    sys.stdout.write("\n".join(line.rstrip() for line in lines) + "\n")
    return 0
