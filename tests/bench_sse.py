"""Parse time and bytes scanned of one large server-sent event fed in small chunks, for the SSE parser here and,
with `--against REV`, for the parser of a git revision (e.g. the quadratic one before issue 15: d7abcc9).

    .venv/bin/python -m tests.bench_sse [--against d7abcc9] [--chunk 4096] [--mib 4 8 16]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time
from pathlib import Path
from typing import Any

from typed_inference._errors import IncompleteStreamError
from typed_inference._streaming import SSEParser

ROOT = Path(__file__).resolve().parent.parent
FRAMINGS = {"blank line": b"\n\n", "single LF, then an event": b'\ndata: {"n": 2}\n\n', "no newline": b""}


def parser_at(revision: str) -> Any:
    """The SSEParser class as a git revision wrote it."""
    source = subprocess.run(
        ["git", "show", f"{revision}:src/typed_inference/_streaming.py"], cwd=ROOT, check=True, capture_output=True
    ).stdout.decode()
    start, stop = source.index("class SSEParser:"), source.index("class EventDecoder(")
    namespace: dict[str, Any] = {"IncompleteStreamError": IncompleteStreamError}
    exec("import json\nimport re\n" + source[start:stop], namespace)  # the class alone: no other module state
    return namespace["SSEParser"]


def measure(cls: Any, body: bytes, chunk: int) -> tuple[float, int, int | None]:
    """(seconds, events found, bytes scanned or None) for one body fed `chunk` bytes at a time."""
    parser = cls()
    found = 0
    started = time.perf_counter()
    for i in range(0, len(body), chunk):
        found += len(parser.feed(body[i : i + chunk]))
    found += len(parser.end() or [])
    return time.perf_counter() - started, found, getattr(parser, "scanned", None)


def main() -> None:
    args = argparse.ArgumentParser(description="Parse time and bytes scanned of one large SSE event.")
    args.add_argument("--against", help="also measure the parser of this git revision")
    args.add_argument("--chunk", type=int, default=4096)
    args.add_argument("--mib", type=int, nargs="+", default=[4, 8, 16])
    opts = args.parse_args()
    parsers = [("here", SSEParser)] + ([(opts.against, parser_at(opts.against))] if opts.against else [])
    print(f"| event | framing | parser | {opts.chunk} B chunks | events | bytes scanned |")
    print("|---|---|---|---|---|---|")
    for mib in opts.mib:
        event = json.dumps({"token": {"id": 1, "text": "x" * (mib << 20), "logprob": 0.0, "special": False}}).encode()
        for framing, tail in FRAMINGS.items():
            runs = parsers if framing == "blank line" else parsers[:1]  # an older parser may not read the others
            body = b"data: " + event + tail
            for name, cls in runs:
                seconds, found, scanned = measure(cls, body, opts.chunk)
                ratio = f"{scanned / len(body):.2f} × body" if scanned is not None else "not counted"
                print(f"| {mib} MiB | {framing} | {name} | {seconds * 1000:.0f} ms | {found} | {ratio} |")


if __name__ == "__main__":
    main()
