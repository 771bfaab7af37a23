"""What every command of the command line shares: usage errors, the no-traceback guard, the kinds and suffixes."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import TypeAlias

KIND_CHOICES = ("input", "parameters", "output", "stream-output")
LINE_SUFFIXES = (".jsonl", ".ndjson")
Run = Callable[[argparse.Namespace], int]
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def http_url(value: str) -> str:
    """An argparse type: an http(s) URL with a host (a router, a Hub), else a usage error naming the option's value."""
    from urllib.parse import urlsplit

    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"{value!r} is not an http(s) URL with a host (e.g. https://huggingface.co)")
    return value


class CommandError(Exception):
    """A usage error found while a command runs (exit code 2), with the message to show."""


def guarded(name: str, run: Run) -> Run:
    """A command that reports every failure as a message and an exit code, never as a traceback."""

    def wrapper(args: argparse.Namespace) -> int:
        for stream in (sys.stdout, sys.stderr):
            reconfigure = getattr(stream, "reconfigure", None)
            if reconfigure is not None:
                reconfigure(errors="backslashreplace")
        from typed_inference.validation import UsageError

        try:
            return run(args)
        except (UsageError, CommandError) as exc:
            print(f"typed-inference {name}: error: {exc}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print(f"typed-inference {name}: interrupted", file=sys.stderr)
            return 130
        except BrokenPipeError:
            sys.stderr.close()  # the reader went away (`| head`): nothing left to say
            return 0
        except Exception as exc:
            if os.environ.get("TYPED_INFERENCE_DEBUG"):
                raise
            print(f"typed-inference {name}: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 2

    return wrapper
