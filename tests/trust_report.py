"""Issue 28's figures, measured on loopback: `python -m tests.trust_report` prints the lines docs/reliability.md quotes.

Peak RSS of an endless download with default settings (each client in its own process), polls per second of a job
answering IN_PROGRESS with `Retry-After: 0` (real sleeps), and the hostile inputs of tests/test_provider_trust.py.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

MIB = 1024 * 1024


def _endless() -> Iterator[bytes]:
    from tests.media_fake import PNG

    yield PNG
    while True:
        yield b"\x00" * MIB


def _download(mode: str, out: Any) -> None:
    """One text-to-image call whose file never ends; sends (error class, RSS before, peak RSS) in MiB."""
    from tests.media_fake import MediaFake
    from tests.server import Reply
    from typed_inference import AsyncInferenceClient, InferenceClient

    fake = MediaFake()
    fake.start()
    fake.map("org/model", ("fal-ai", "fal-ai/flux", "text-to-image"))
    fake.script("/files/cat.png", Reply(200, headers={"Content-Type": "image/png"}, chunks=_endless()))
    kwargs = {"token": "hf_x", **fake.client_kwargs()}
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    try:
        if mode == "sync":
            InferenceClient(**kwargs).text_to_image("cat", model="org/model", provider="fal-ai")
        else:
            asyncio.run(AsyncInferenceClient(**kwargs).text_to_image("cat", model="org/model", provider="fal-ai"))
        error = "none"
    except Exception as exc:
        error = type(exc).__name__
    out.send((error, before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


def peak_rss(mode: str) -> tuple[str, float, float]:
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.get_context("spawn").Process(target=_download, args=(mode, child))
    process.start()
    result: tuple[str, float, float] = parent.recv()
    process.join()
    return result


def polls_per_second(mode: str, seconds: float = 3.0) -> tuple[int, float]:
    """Polls a fal-ai job answering IN_PROGRESS with Retry-After: 0 gets in `seconds` of real time."""
    from tests.media_fake import MediaFake
    from tests.server import Received, Reply
    from typed_inference import APITimeoutError, AsyncInferenceClient, InferenceClient

    fake = MediaFake()
    fake.start()
    fake.pending = 10**9
    fake.map("org/model", ("fal-ai", "fal-ai/wan/t2v", "text-to-video"))
    answer = fake.router.handler
    assert answer is not None

    def handler(received: Received) -> Reply:
        reply = answer(received)
        reply.headers = {**reply.headers, "Retry-After": "0"}
        return reply

    fake.router.handler = handler
    kwargs = {"token": "hf_x", "total_timeout": seconds, **fake.client_kwargs()}
    started = time.monotonic()
    try:
        if mode == "sync":
            InferenceClient(**kwargs).text_to_video("a cat", model="org/model", provider="fal-ai")
        else:
            asyncio.run(AsyncInferenceClient(**kwargs).text_to_video("a cat", model="org/model", provider="fal-ai"))
    except APITimeoutError:
        pass
    elapsed = time.monotonic() - started
    polls = len([r for r in fake.router.received if r.method == "GET"])
    fake.stop()
    return polls, elapsed


def hostile_cases() -> str:
    """The summary line of tests/test_provider_trust.py (every case asserts a typed error and no credential leak)."""
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/test_provider_trust.py", "-p", "no:cacheprovider"],
        capture_output=True,
        text=True,
        check=False,
    )
    return run.stdout.strip().splitlines()[-1].strip("= ")


def run() -> list[str]:
    """The figures, as markdown lines."""
    lines = []
    for mode in ("sync", "async"):
        error, before, peak = peak_rss(mode)
        lines.append(
            f"- endless download, defaults, {mode}: {error}; peak RSS {peak:.0f} MiB (before the call {before:.0f} MiB)"
        )
    for mode in ("sync", "async"):
        polls, elapsed = polls_per_second(mode)
        lines.append(
            f"- Retry-After: 0 on every poll, {mode}: {polls} polls in {elapsed:.2f} s ({polls / elapsed:.1f}/s)"
        )
    lines.append(f"- tests/test_provider_trust.py: {hostile_cases()}")
    return lines


if __name__ == "__main__":
    print("\n".join(run()))  # noqa: T201 - the report is its output
