"""`typed-inference validate`: payload files checked against a task's schema, in the report format a CI reads."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from typed_inference.cli._common import KIND_CHOICES, CommandError, Subparsers, guarded
from typed_inference.cli._validate_jobs import DEFAULT_GLOBS, Job

if TYPE_CHECKING:
    from typed_inference.cli._validate_jobs import Results

FORMATS = ("text", "json", "github", "junit", "sarif", "gitlab")
# the options that say how to read one task's payloads: with the config, each entry says it for itself
_PER_JOB = ("kind", "each", "jsonl", "glob", "strict", "canonical_only")


def add_commands(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="check JSON / JSONL payloads against a task's schema (exit 0 valid, 1 invalid, 2 usage error)",
        description="Check payloads against a task's schema: .json files (one payload, or an array with --each), "
        ".jsonl and .ndjson files (one payload a line), directories (recursed) or - for stdin. Without --task, "
        "checks every [[tool.typed-inference.validate]] entry of the nearest pyproject.toml (or of --config FILE).",
    )
    parser.add_argument("--task", help="task id, e.g. fill-mask (`typed-inference tasks` lists them)")
    parser.add_argument("--kind", help=f"what the payloads are: {', '.join(KIND_CHOICES)} (default: input)")
    parser.add_argument("--each", action="store_true", default=None, help="a .json file holds an array of payloads")
    parser.add_argument("--jsonl", action="store_true", default=None, help="read every file and stdin as JSON Lines")
    parser.add_argument(
        "--glob",
        action="append",
        metavar="PATTERN",
        help=f"files to take from directories (default: {', '.join(DEFAULT_GLOBS)})",
    )
    parser.add_argument(
        "--strict", action="store_true", default=None, help="outputs: reject fields the schema does not know"
    )
    parser.add_argument(
        "--canonical-only", action="store_true", default=None, help="outputs: reject the real wire variants"
    )
    parser.add_argument("--format", choices=FORMATS, default="text", help="report format")
    parser.add_argument(
        "--config", metavar="FILE", help="read the [[tool.typed-inference.validate]] tables from this TOML file"
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help="files, directories, or - for stdin (with --task)")
    parser.set_defaults(run=guarded("validate", run_validate))


def run_validate(args: argparse.Namespace) -> int:
    """`typed-inference validate`: checks every payload of every job, prints one report, returns the exit code."""
    import gc

    collecting = gc.isenabled()
    gc.disable()  # the hot loop frees everything it makes: collections would only cost time
    try:
        return _validate(args)
    finally:
        if collecting:
            gc.enable()


def jobs_of(args: argparse.Namespace) -> list[Job]:
    """The jobs a command line asks for: one from --task and paths, else the config's entries."""
    if args.task is not None:
        if args.config is not None:
            raise CommandError("--task (with paths) and --config exclude each other: the config names its own tasks")
        if not args.paths:
            raise CommandError("--task needs paths: files, directories, or - for stdin")
        return [
            Job(
                task=args.task,
                kind=args.kind or "input",
                paths=tuple(args.paths),
                each=bool(args.each),
                jsonl=bool(args.jsonl),
                globs=tuple(args.glob or DEFAULT_GLOBS),
                strict=bool(args.strict),
                canonical_only=bool(args.canonical_only),
            )
        ]
    from typed_inference.cli._validate_config import find_config, read_config

    if args.paths:
        raise CommandError("paths on the command line need --task (the config's entries name their own paths)")
    given = [f"--{name.replace('_', '-')}" for name in _PER_JOB if getattr(args, name) is not None]
    if given:
        raise CommandError(f"{', '.join(given)}: only with --task; with the config, each entry sets its own")
    config = Path(args.config) if args.config is not None else find_config(Path.cwd())
    return read_config(config)


def _formatter(name: str) -> Callable[[Results], str]:
    """The report function of a format (each lives in its own module, imported only when used)."""
    if name == "junit":
        from typed_inference.cli._report_junit import format_junit

        return format_junit
    if name == "sarif":
        from typed_inference.cli._report_sarif import format_sarif

        return format_sarif
    if name == "gitlab":
        from typed_inference.cli._report_gitlab import format_gitlab

        return format_gitlab
    from typed_inference.cli import _report_text

    formatters: dict[str, Callable[[Results], str]] = {
        "text": _report_text.format_text,
        "json": _report_text.format_json,
        "github": _report_text.format_github,
    }
    return formatters[name]


def _validate(args: argparse.Namespace) -> int:
    """Runs the jobs, prints the report on stdout and unreadable sources on stderr; returns the exit code."""
    from typed_inference.cli._validate_jobs import run_jobs

    results = run_jobs(jobs_of(args), with_lines=args.format == "junit")
    sys.stdout.write(_formatter(args.format)(results))
    sys.stdout.flush()
    for name, why in results.unreadable:
        print(f"typed-inference validate: error: cannot read {name}: {why}", file=sys.stderr)
    return results.exit_code()
