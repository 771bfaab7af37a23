"""`typed-inference tasks`: the tasks with their input kind, method name and kinds of payload."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from typed_inference.cli._common import Subparsers, guarded

if TYPE_CHECKING:
    from typed_inference._task import TaskSpec


def add_commands(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser("tasks", help="list the tasks with their input kind and method name")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="table or JSON")
    parser.set_defaults(run=guarded("tasks", run_tasks))


def method_name(spec: TaskSpec) -> str:
    """The client method of a task."""
    return spec.task.replace("-", "_")


def run_tasks(args: argparse.Namespace) -> int:
    """`typed-inference tasks`: one line per task (or a JSON list)."""
    from typed_inference._generated.registry import TASKS
    from typed_inference.validation import kinds_of

    rows = [(spec, method_name(spec), ", ".join(kinds_of(spec))) for spec in TASKS.values()]
    if args.format == "json":
        records = [
            {"task": s.task, "input_kind": s.input_kind, "method": m, "kinds": k.split(", "), "summary": s.summary}
            for s, m, k in rows
        ]
        sys.stdout.write(json.dumps(records, indent=2) + "\n")
        return 0
    width = max(len(s.task) for s, _, _ in rows) + 2
    lines = [f"{'TASK':<{width}}{'INPUT':<8}{'METHOD':<{width}}KINDS"]
    lines += [f"{s.task:<{width}}{s.input_kind:<8}{m:<{width}}{k}" for s, m, k in rows]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0
