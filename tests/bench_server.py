"""Local server benchmark: feature-extraction throughput with MiniLM, micro-batching on versus off.

8 concurrent clients (threads of this one process, each with its own InferenceClient) send single sentences to a
`typed-inference serve` process on 127.0.0.1. The same server runs with micro-batching on and off, in alternating
rounds; each round sends a fixed number of requests. `run()` returns the markdown section for docs/benchmarks.md.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from typed_inference import InferenceClient

MINILM = "sentence-transformers/all-MiniLM-L6-v2"
CLIENTS = 8
PER_CLIENT = 40  # requests per client per round
ROUNDS = 3  # rounds per mode, alternating


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _health(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url}/health", timeout=5) as response:
        data: dict[str, Any] = json.load(response)
        return data


@contextmanager
def serving(*extra: str) -> Iterator[str]:
    """A `typed-inference serve` process with only the embedded MiniLM, ready to answer."""
    port = _free_port()
    args = [sys.executable, "-m", "typed_inference.cli", "serve", "--port", str(port), "--log-level", "warning", *extra]
    proc = subprocess.Popen(args, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if _health(url)["status"] == "ok":
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not come up")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def load(url: str) -> tuple[float, list[float]]:
    """Requests per second and every request's latency (seconds) for CLIENTS threads × PER_CLIENT requests."""
    latencies: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(CLIENTS + 1)

    def client(index: int) -> None:
        mine = []
        with InferenceClient(base_url=url, max_retries=0) as c:
            c.feature_extraction(f"warm-up {index}", model=MINILM)
            barrier.wait()
            for i in range(PER_CLIENT):
                started = time.perf_counter()
                c.feature_extraction(f"Client {index} asks question number {i} about the weather.", model=MINILM)
                mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, latencies


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run() -> list[str]:
    """Measures both modes and returns the markdown lines of the section."""
    modes = {"micro-batching on": (), "micro-batching off": ("--no-batching",)}
    rates: dict[str, list[float]] = {m: [] for m in modes}
    latencies: dict[str, list[float]] = {m: [] for m in modes}
    per_pass: dict[str, float] = {}
    for _ in range(ROUNDS):
        for mode, extra in modes.items():
            with serving(*extra) as url:
                rate, lats = load(url)
                stats = _health(url).get("batching", {}).get(MINILM)
            rates[mode].append(rate)
            latencies[mode].extend(lats)
            if stats and stats["forward_passes"]:
                per_pass[mode] = stats["requests"] / stats["forward_passes"]
    on, off = statistics.median(rates["micro-batching on"]), statistics.median(rates["micro-batching off"])
    lines = [
        "## Local server",
        "",
        f"feature-extraction with the embedded all-MiniLM-L6-v2: {CLIENTS} concurrent clients (threads of one client "
        f"process) each send {PER_CLIENT} single sentences per round to `typed-inference serve` on 127.0.0.1; "
        f"{ROUNDS} alternating rounds per mode, median requests/second, latency percentiles over every request. "
        f"Server and clients share this machine's {os.cpu_count()} cores.",
        "",
        "| server | requests/s | p50 latency | p99 latency | requests per forward pass |",
        "|---|---:|---:|---:|---:|",
    ]
    for mode in modes:
        lats = latencies[mode]
        shared = f"{per_pass[mode]:.1f}" if mode in per_pass else "1"
        lines.append(
            f"| {mode} | {statistics.median(rates[mode]):.0f} | {_percentile(lats, 0.5) * 1000:.1f} ms "
            f"| {_percentile(lats, 0.99) * 1000:.1f} ms | {shared} |"
        )
    lines += [
        "",
        f"Micro-batching: **{on / off:.1f}×** the throughput of one forward pass per request (target: ≥ 3×).",
        "",
    ]
    return lines


if __name__ == "__main__":
    print("\n".join(run()))
