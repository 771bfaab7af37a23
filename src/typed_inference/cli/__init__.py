"""`typed-inference`: the command line. Each command lives in its own module and registers itself here."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Sequence

from typed_inference._version import __version__

# Modules providing `add_commands(subparsers)`; each imports its heavy dependencies only when its command runs.
# The server's commands (serve, demo-models) run only with the server extra installed (`cli/serve.py`).
COMMAND_MODULES = (
    "typed_inference.cli.validate",
    "typed_inference.cli.tasks",
    "typed_inference.cli.schema",
    "typed_inference.cli.example",
    "typed_inference.cli.call",
    "typed_inference.cli.providers",
    "typed_inference.cli.wait",
    "typed_inference.cli.docs",
    "typed_inference.cli.serve",
)


def build_parser() -> argparse.ArgumentParser:
    """The parser with every available command group."""
    parser = argparse.ArgumentParser(
        prog="typed-inference", description="Typed Hugging Face Inference API: validate, call, serve."
    )
    parser.add_argument("--version", action="version", version=f"typed-inference {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and (name == exc.name or name.startswith(exc.name + ".")):
                continue  # that command group is not part of this installation
            raise
        module.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs one command; returns its exit code (0 ok, 1 something invalid or failed, 2 usage error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    code: int = args.run(args)
    return code
