"""`typed-inference wait URL`: block until a server's `/health` answers (a script's pause after `serve &`)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from typed_inference.cli._common import Subparsers, guarded, http_url

POLL_SECONDS = 0.1
MAX_POLL_SECONDS = 0.5


def add_commands(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "wait",
        help="wait until a server's /health answers (exit 0), or --timeout passes (exit 1)",
        description="Wait until the server at URL answers GET URL/health with a 2xx status: exit 0 then, 1 once "
        "--timeout seconds pass without one. For scripts: `typed-inference serve &` then `typed-inference wait URL`.",
    )
    parser.add_argument("url", type=http_url, metavar="URL", help="the server's base URL, e.g. http://127.0.0.1:8080")
    parser.add_argument(
        "--timeout", type=float, default=120.0, metavar="S", help="seconds to wait at most (default 120)"
    )
    parser.add_argument(
        "--loaded",
        action="store_true",
        help="also wait until no model is queued or loading (the local server's /health status ok or degraded)",
    )
    parser.set_defaults(run=guarded("wait", run_wait))


def _opener(url: str) -> Any:
    """urllib's opener for URL: no proxy for a loopback server (a proxy cannot reach it), the environment's else."""
    import urllib.request

    from typed_inference._urls import is_loopback_url

    if is_loopback_url(url):
        return urllib.request.build_opener(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener()


def probe(url: str, timeout: float) -> tuple[int | None, dict[str, Any] | None, str]:
    """One GET of URL: its status and JSON body (None when refused or not JSON), and what happened in words."""
    import urllib.error

    try:
        with _opener(url).open(url, timeout=timeout) as response:
            status: int = response.status
            body = response.read(1024 * 1024)
    except urllib.error.HTTPError as exc:
        return exc.code, None, f"HTTP {exc.code}"
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, ConnectionRefusedError):
            return None, None, "connection refused"
        return None, None, str(reason) or type(reason).__name__
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    return status, parsed if isinstance(parsed, dict) else None, f"HTTP {status}"


def run_wait(args: argparse.Namespace) -> int:
    """Polls URL/health until it answers 2xx (with --loaded: and no model still loads), or the timeout passes."""
    health = args.url.rstrip("/") + "/health"
    deadline = time.monotonic() + max(args.timeout, 0.0)
    pause = POLL_SECONDS
    while True:
        left = deadline - time.monotonic()
        status, body, seen = probe(health, timeout=max(min(left, 5.0), 0.1))
        if status is not None and 200 <= status < 300:
            state = (body or {}).get("status")
            if not args.loaded or state != "loading":
                print(
                    f"typed-inference wait: {args.url} is up" + (f" (models: {state})" if state else ""),
                    file=sys.stderr,
                )
                return 0
            seen = f"models {state}"
        left = deadline - time.monotonic()
        if left <= 0:
            print(
                f"typed-inference wait: {health} did not answer within {args.timeout:g} s (last: {seen})",
                file=sys.stderr,
            )
            return 1
        time.sleep(min(pause, left))
        pause = min(pause * 1.5, MAX_POLL_SECONDS)
