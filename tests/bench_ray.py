"""Ray benchmark: `InferenceMapper` on Ray Data against `client.map`, and the local server on 1 vs 2 Serve replicas.

Both on one local Ray instance (`ray.init(num_cpus=2)`) on this machine. The mapper and `client.map` send the same
10,000 texts, 25 per request with 8 requests in flight, to the same loopback server (canned answers in
microseconds, its own process), so the ratio is what Ray Data adds: actor start, blocks, Arrow columns. The Serve
figures are `tests.bench_server`'s load (8 client threads, single MiniLM sentences) through Serve's proxy.
`run()` returns the markdown section for docs/benchmarks.md; `python -m tests.bench_ray` prints it.
"""

from __future__ import annotations

import json
import os
import random
import socket
import statistics
import time

from tests.bench_server import CLIENTS, PER_CLIENT, load
from tests.loopback import LoopbackServer
from typed_inference import InferenceClient

SIZES = {10_000: 3, 100_000: 1}  # texts → interleaved rounds
PER_REQUEST = 25  # divides the blocks and batches below, so every request gets the canned 25-row answer
IN_FLIGHT = 8


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _canned() -> bytes:
    rng = random.Random(0)
    return json.dumps([[[round(rng.uniform(-1, 1), 6) for _ in range(384)]] for _ in range(PER_REQUEST)]).encode()


def bench_mapper(count: int, rounds: int) -> dict[str, float]:
    """Median seconds for `count` texts through `client.map` and through `infer` (1 and 2 actors)."""
    import ray
    import ray.data

    from typed_inference.ray import infer

    server = LoopbackServer({"/models/m/pipeline/feature-extraction": _canned()})
    texts = [f"text number {i}" for i in range(count)]
    times: dict[str, list[float]] = {"client.map": [], "infer, 1 actor": [], "infer, 2 actors": []}
    try:
        for _ in range(rounds):
            with InferenceClient("m", base_url=server.url) as client:
                started = time.perf_counter()
                results = client.map(client.feature_extraction, texts, concurrency=IN_FLIGHT, batch_size=PER_REQUEST)
                times["client.map"].append(time.perf_counter() - started)
                assert len(results) == count and all(isinstance(r, list) for r in results)
            for actors in (1, 2):
                started = time.perf_counter()  # the dataset, the plan and the actors' start included
                ds = ray.data.from_items([{"text": t} for t in texts], override_num_blocks=8)
                out = infer(
                    ds,
                    "feature-extraction",
                    "m",
                    input_column="text",
                    output_column="embedding",
                    request_batch_size=PER_REQUEST,
                    requests_in_flight=IN_FLIGHT,
                    base_url=server.url,
                    actors=actors,
                    batch_size=250,
                )
                rows = sum(t.num_rows for t in ray.get(out.to_arrow_refs(), timeout=600))
                times[f"infer, {actors} actor{'s' if actors > 1 else ''}"].append(time.perf_counter() - started)
                assert rows == count
    finally:
        server.stop()
    return {name: statistics.median(values) for name, values in times.items()}


def bench_serve() -> dict[int, tuple[float, list[float]]]:
    """Requests/s and latencies through Serve's proxy with 1, then 2, replicas of MiniLM."""
    from ray import serve

    from typed_inference.ray.serve import deployment
    from typed_inference.server.config import ServerConfig

    port = _free_port()
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    found = {}
    try:
        for replicas in (1, 2):
            serve.run(deployment(ServerConfig(), replicas=replicas), name="bench", route_prefix="/")
            found[replicas] = load(f"http://127.0.0.1:{port}")
            serve.delete("bench")
    finally:
        serve.shutdown()
    return found


def run() -> list[str]:
    """Measures both and returns the markdown lines of the section."""
    import ray

    os.environ.setdefault("RAY_DATA_DISABLE_PROGRESS_BARS", "1")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        mappers = {count: bench_mapper(count, rounds) for count, rounds in SIZES.items()}
        served = bench_serve()
    finally:
        ray.shutdown()
    lines = [
        "## Ray",
        "",
        f"`python -m tests.bench_ray`, on one local Ray instance (`num_cpus=2`) on this machine's {os.cpu_count()} "
        f"cores. Bulk: {PER_REQUEST} texts per feature-extraction request, {IN_FLIGHT} requests in flight, against "
        "one loopback server with canned 384-dimension answers (its own process); median of interleaved rounds "
        f"({', '.join(f'{r} at {c:,}' for c, r in SIZES.items())}), Ray's start excluded; the dataset, the plan "
        "and the actors' start included.",
        "",
        "| texts | contender | time | texts/s | time / client.map |",
        "|---:|---|---:|---:|---:|",
    ]
    for count, mapper in mappers.items():
        base = mapper["client.map"]
        for name, seconds in mapper.items():
            lines.append(
                f"| {count:,} | {name} | {seconds:.2f} s | {count / seconds:,.0f} | **{seconds / base:.2f}** |"
            )
    lines += [
        "",
        f"Serving: the local server's embedded MiniLM behind Serve's proxy, {CLIENTS} client threads each sending "
        f"{PER_CLIENT} single sentences (`tests.bench_server`'s load), one round per replica count, both counts on "
        "the same 2 CPUs (0.5 CPU reserved per replica).",
        "",
        "| Serve replicas | requests/s | p50 latency | p99 latency |",
        "|---|---:|---:|---:|",
    ]
    for replicas, (rate, latencies) in served.items():
        ordered = sorted(latencies)
        p50, p99 = ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        lines.append(f"| {replicas} | {rate:.0f} | {p50 * 1e3:.1f} ms | {p99 * 1e3:.1f} ms |")
    lines += [
        "",
        "On one two-core machine Ray brings no new cores: the bulk ratio is Ray Data's fixed costs (starting the",
        "actors, moving blocks, building Arrow columns) over a job `client.map` finishes in about a second, and the",
        "Serve figures pay for the proxy hop on the same cores as the replicas and the clients (compare the direct",
        "server under Local server above). Both pay off when the actors or replicas spread over machines.",
    ]
    return lines


if __name__ == "__main__":
    print("\n".join(run()))
