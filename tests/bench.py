"""`make bench`: codegen, import times, per-call overhead and schema/model agreement, into docs/benchmarks.md.

Every ratio compares contenders measured side by side in one run on this machine (medians over interleaved rounds).
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.loopback import LoopbackServer

ROOT = Path(__file__).resolve().parent.parent
# Sections measured by the other areas' own benchmark modules, each exposing `run() -> list[str]`.
EXTRA_SECTIONS = (
    "tests.bench_cli",
    "tests.bench_server",
    "tests.bench_providers",
    "tests.bench_jobs",
    "tests.bench_ray",
)
OUT = ROOT / "docs" / "benchmarks.md"


def median_time(code: str, runs: int) -> float:
    """Median seconds the statement `code` takes to import/run in fresh interpreters (timed inside the process)."""
    program = f"import time\nt = time.perf_counter()\n{code}\nprint(time.perf_counter() - t)"
    times = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True, cwd=ROOT)
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


def bench_first_call(runs: int = 15) -> dict[str, float]:
    """Median seconds of import plus one fill-mask call on loopback, in fresh interpreters, ours and the Hub's."""
    server = LoopbackServer({"/fill": json.dumps(FILL).encode()})
    model = server.url + "/fill"
    call = f"InferenceClient().fill_mask('a [MASK].', model={model!r})"
    programs = {
        "typed-inference": f"from typed_inference import InferenceClient\n{call}",
        "huggingface_hub": f"from huggingface_hub import InferenceClient\n{call}",
    }
    samples: dict[str, list[float]] = {name: [] for name in programs}
    try:
        for _ in range(runs):  # interleaved: machine noise hits both alike
            for name, code in programs.items():
                samples[name].append(median_time(code, 1))
    finally:
        server.stop()
    return {name: statistics.median(values) for name, values in samples.items()}


def bench_codegen() -> float:
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "typed_inference"
        shutil.copytree(ROOT / "src" / "typed_inference", target)
        for _ in range(3):
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "codegen", "--package-dir", str(target)],
                check=True,
                cwd=ROOT,
                capture_output=True,
            )
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def embedding_body(rows: int, dims: int) -> bytes:
    rng = random.Random(0)
    return json.dumps([[float(f"{rng.gauss(0, 0.1):.8g}") for _ in range(dims)] for _ in range(rows)]).encode()


FILL = [
    {"sequence": f"the goal of life is {w}.", "score": s, "token": t, "token_str": w}
    for w, s, t in [
        ("life", 0.109, 2166),
        ("love", 0.05, 2293),
        ("happiness", 0.03, 8404),
        ("survival", 0.02, 7691),
        ("freedom", 0.01, 4071),
    ]
]
CLASSES = [[{"label": "POSITIVE", "score": 0.9998}, {"label": "NEGATIVE", "score": 0.0002}]]
SIMILARITY = [0.605, 0.894, 0.112]


def per_call(calls: dict[str, Callable[[], Any]], n: int, rounds: int) -> dict[str, float]:
    """Median seconds per call of each contender, over interleaved rounds of `n` calls."""
    for fn in calls.values():
        for _ in range(max(5, n // 10)):
            fn()
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(rounds):
        for name, fn in calls.items():
            started = time.perf_counter()
            for _ in range(n):
                fn()
            samples[name].append((time.perf_counter() - started) / n)
    return {name: statistics.median(values) for name, values in samples.items()}


def bench_calls() -> list[tuple[str, dict[str, float]]]:
    import requests
    from huggingface_hub import InferenceClient as HubClient

    from typed_inference import InferenceClient

    bodies = {
        "/fill": json.dumps(FILL).encode(),
        "/classify": json.dumps(CLASSES).encode(),
        "/similarity": json.dumps(SIMILARITY).encode(),
        "/embed": embedding_body(256, 768),
        "/embed1": embedding_body(1, 384),
    }
    server = LoopbackServer(bodies)
    url = server.url
    session = requests.Session()
    ours = InferenceClient()
    hub = HubClient()
    sentences = {"source_sentence": "That is a happy person", "sentences": ["a", "b", "c"]}
    results = []
    try:
        cases: list[tuple[str, str, dict[str, Callable[[], Any]], int]] = [
            (
                "fill-mask (5 candidates)",
                "/fill",
                {
                    "raw requests + json.loads": lambda: json.loads(
                        session.post(url + "/fill", json={"inputs": "a [MASK]."}).content
                    ),
                    "huggingface_hub": lambda: hub.fill_mask("a [MASK].", model=url + "/fill"),
                    "typed-inference": lambda: ours.fill_mask("a [MASK].", model=url + "/fill"),
                },
                400,
            ),
            (
                "text-classification",
                "/classify",
                {
                    "raw requests + json.loads": lambda: json.loads(
                        session.post(url + "/classify", json={"inputs": "great"}).content
                    ),
                    "huggingface_hub": lambda: hub.text_classification("great", model=url + "/classify"),
                    "typed-inference": lambda: ours.text_classification("great", model=url + "/classify"),
                },
                400,
            ),
            (
                "sentence-similarity",
                "/similarity",
                {
                    "raw requests + json.loads": lambda: json.loads(
                        session.post(url + "/similarity", json={"inputs": sentences}).content
                    ),
                    "huggingface_hub": lambda: hub.sentence_similarity(
                        "That is a happy person", ["a", "b", "c"], model=url + "/similarity"
                    ),
                    "typed-inference": lambda: ours.sentence_similarity(
                        source_sentence="That is a happy person", sentences=["a", "b", "c"], model=url + "/similarity"
                    ),
                },
                400,
            ),
            (
                "feature-extraction 1×384",
                "/embed1",
                {
                    "raw requests + json.loads": lambda: json.loads(
                        session.post(url + "/embed1", json={"inputs": "x"}).content
                    ),
                    "huggingface_hub": lambda: hub.feature_extraction("x", model=url + "/embed1"),
                    "typed-inference": lambda: ours.feature_extraction("x", model=url + "/embed1"),
                },
                400,
            ),
            (
                "feature-extraction 256×768 (2.4 MB JSON)",
                "/embed",
                {
                    "raw requests + json.loads": lambda: json.loads(
                        session.post(url + "/embed", json={"inputs": "x"}).content
                    ),
                    "huggingface_hub": lambda: hub.feature_extraction("x", model=url + "/embed"),
                    "typed-inference": lambda: ours.feature_extraction("x", model=url + "/embed"),
                },
                15,
            ),
        ]
        for title, _path, calls, n in cases:
            results.append((title, per_call(calls, n, rounds=7)))
    finally:
        server.stop()
        ours.close()
        session.close()
    return results


def sse_body(events: int) -> bytes:
    out = []
    for i in range(events):
        last = i == events - 1
        event = {
            "index": i,
            "token": {"id": i, "text": " tok", "logprob": -0.25, "special": False},
            "generated_text": "done" if last else None,
            "details": None,
        }
        out.append(b"data:" + json.dumps(event).encode() + b"\n\n")
    return b"".join(out)


def bench_stream(events: int = 10_000) -> dict[str, float]:
    """Seconds to consume a stream of `events` token events: a plain requests loop vs typed events."""
    import requests

    from typed_inference import InferenceClient

    server = LoopbackServer({"/stream": sse_body(events)})
    url = server.url + "/stream"
    session = requests.Session()
    ours = InferenceClient()

    def floor() -> None:
        with session.post(url, json={"inputs": "x", "stream": True}, stream=True) as response:
            for line in response.iter_lines():
                if line.startswith(b"data:"):
                    json.loads(line[5:])

    def typed() -> None:
        for _ in ours.text_generation("x", model=url, stream=True):
            pass

    try:
        return per_call({"requests + iter_lines + json.loads": floor, "typed-inference": typed}, 3, rounds=7)
    finally:
        server.stop()
        ours.close()
        session.close()


def bench_concurrency(calls: int = 1000, concurrency: int = 16, delay: float = 0.005) -> dict[str, float]:
    """Seconds for `calls` fill-mask calls against a loopback server answering after `delay`."""
    import asyncio

    from huggingface_hub import AsyncInferenceClient as HubAsync

    from typed_inference import AsyncInferenceClient, InferenceClient

    server = LoopbackServer({"/fill": json.dumps(FILL).encode()}, delay=delay)
    url = server.url + "/fill"
    texts = [f"text {i} [MASK]." for i in range(calls)]
    results: dict[str, float] = {}
    try:
        with InferenceClient() as sync:
            started = time.perf_counter()
            for text in texts[: calls // 10]:
                sync.fill_mask(text, model=url)
            results["sequential loop (sync client)"] = (time.perf_counter() - started) * 10
            started = time.perf_counter()
            sync.map(sync.fill_mask, texts, concurrency=concurrency, model=url)
            results[f"sync map, {concurrency} threads"] = time.perf_counter() - started

        async def ours() -> None:
            async with AsyncInferenceClient() as client:
                await client.map(client.fill_mask, texts, concurrency=concurrency, model=url)

        async def hub() -> None:
            client = HubAsync()
            limit = asyncio.Semaphore(concurrency)

            async def one(text: str) -> Any:
                async with limit:
                    return await client.fill_mask(text, model=url)

            await asyncio.gather(*(one(t) for t in texts))
            await client.close()  # type: ignore[no-untyped-call]

        for name, fn in (
            (f"huggingface_hub AsyncInferenceClient, {concurrency} tasks", hub),
            (f"typed-inference AsyncInferenceClient.map, {concurrency} tasks", ours),
        ):
            times = []
            for _ in range(3):
                started = time.perf_counter()
                asyncio.run(fn())
                times.append(time.perf_counter() - started)
            results[name] = statistics.median(times)
    finally:
        server.stop()
    return results


def bench_agreement(examples: int) -> list[tuple[str, int, int, int]]:
    """Per task: instances checked (valid + mutated), disagreements, targets."""
    from hypothesis.errors import NonInteractiveExampleWarning
    from hypothesis_jsonschema import from_schema

    from tests.agreement import check_instance, targets

    warnings.simplefilter("ignore", NonInteractiveExampleWarning)
    rng = random.Random(0)
    per_task: dict[str, list[int]] = {}
    for target in targets():
        strategy = from_schema(target.schema())
        counts = per_task.setdefault(target.task, [0, 0, 0])
        counts[2] += 1
        for _ in range(examples):
            value = strategy.example()
            problems = check_instance(target, value, rng, mutation_count=8)
            counts[0] += 1 + 8
            counts[1] += len(problems)
    return [(task, c[0], c[1], c[2]) for task, c in sorted(per_task.items())]


def main() -> None:
    print("codegen ...", flush=True)
    codegen = bench_codegen()
    print("imports ...", flush=True)
    baseline = median_time("from pydantic import BaseModel\nclass M(BaseModel):\n    a: int\n    b: str", 21)
    types_import = median_time("from typed_inference.types import FillMaskInput, FillMaskOutputElement", 21)
    ours_import = median_time("import typed_inference\nfrom typed_inference import InferenceClient", 21)
    hub_import = median_time("from huggingface_hub import InferenceClient", 21)
    requests_import = median_time("import requests", 21)
    first_call = bench_first_call()
    print("calls ...", flush=True)
    calls = bench_calls()
    print("concurrency ...", flush=True)
    concurrency = bench_concurrency()
    print("stream ...", flush=True)
    stream = bench_stream()
    print("agreement ...", flush=True)
    agreement = bench_agreement(examples=10)

    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m tests.bench`); every ratio compares contenders measured side by side in",
        "the same run. Medians of fresh processes (imports) or of interleaved rounds (calls). Machine: "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}.",
        "",
        "## Code generation",
        "",
        "| measure | result | target |",
        "|---|---|---|",
        f"| full `make codegen` (`python -m codegen`), wall time, median of 3 | {codegen:.2f} s | < 5 s |",
        f"| `from typed_inference.types import FillMaskInput, FillMaskOutputElement` | {types_import * 1e3:.1f} ms | |",
        f"| baseline: import pydantic's `BaseModel` and define a two-field model | {baseline * 1e3:.1f} ms | |",
        f"| difference | {(types_import - baseline) * 1e3:+.1f} ms | ≤ +30 ms |",
        "",
        "## Client import",
        "",
        "| measure | result |",
        "|---|---|",
        f"| `import typed_inference; from typed_inference import InferenceClient` | {ours_import * 1e3:.1f} ms |",
        f"| `from huggingface_hub import InferenceClient` | {hub_import * 1e3:.1f} ms |",
        f"| `import requests` (imported on first call, not at import) | {requests_import * 1e3:.1f} ms |",
        f"| ratio ours / huggingface_hub (target ≤ 0.6, stretch ≤ 0.3) | **{ours_import / hub_import:.2f}** |",
        f"| import + first fill-mask call on loopback, ours | {first_call['typed-inference'] * 1e3:.1f} ms |",
        f"| import + first fill-mask call on loopback, hub | {first_call['huggingface_hub'] * 1e3:.1f} ms |",
        f"| ratio ours / huggingface_hub, import + first call (target ≤ 0.5) | "
        f"**{first_call['typed-inference'] / first_call['huggingface_hub']:.2f}** |",
        "",
        "Nothing beyond the error tree loads at import: pydantic and a task's models on its first call, the provider",
        "machinery (jobs, media bodies, the Hub mapping) on the first provider call, requests or httpx with the",
        "client's transport.",
        "",
        "## Per call against one loopback server (asyncio, keep-alive, own process)",
        "",
        "| call | raw requests + json.loads | huggingface_hub | typed-inference | ours / hub | ours / raw |",
        "|---|---|---|---|---|---|",
    ]
    for title, result in calls:
        raw, hub, ours = result["raw requests + json.loads"], result["huggingface_hub"], result["typed-inference"]
        lines.append(
            f"| {title} | {raw * 1e6:.0f} µs | {hub * 1e6:.0f} µs | {ours * 1e6:.0f} µs | "
            f"**{ours / hub:.2f}** | {ours / raw:.2f} |"
        )
    lines += [
        "",
        "Targets: ours ≤ 0.5× huggingface_hub on fill-mask and text-classification, ≤ 0.6× on sentence-similarity,",
        "≤ 0.55× on feature-extraction 1×384, ≤ 0.7× raw requests + json.loads on the 256×768",
        "feature-extraction response, with full validation on (typed-inference validates every response; the others",
        "do not).",
        "",
        "## Concurrency",
        "",
        "1,000 fill-mask calls against a loopback server that answers after 5 ms (the sequential loop is timed on",
        "100 calls and scaled).",
        "",
        "| contender | total | speed-up vs sequential |",
        "|---|---|---|",
    ]
    sequential = concurrency["sequential loop (sync client)"]
    for name, seconds in concurrency.items():
        lines.append(f"| {name} | {seconds:.2f} s | {sequential / seconds:.1f}× |")
    lines += [
        "",
        "Targets: async client and sync `map` at least 8× faster than the sequential loop; ours at least as fast",
        "as huggingface_hub's AsyncInferenceClient at the same concurrency.",
        "",
        "## Streaming",
        "",
        "10,000 text-generation token events from one loopback response, consumed whole.",
        "",
        "| contender | time | per event | ratio |",
        "|---|---|---|---|",
    ]
    floor = stream["requests + iter_lines + json.loads"]
    for name, seconds in stream.items():
        lines.append(f"| {name} | {seconds * 1e3:.1f} ms | {seconds / 10_000 * 1e6:.2f} µs | {seconds / floor:.2f} |")
    lines += [
        "",
        "Target: typed-inference (typed, validated events) at most 1.2× the plain loop.",
        "",
        "## Schema / model agreement (property tests)",
        "",
        "Instances generated from each JSON Schema (hypothesis-jsonschema) plus 8 mutations of each (wrong types,",
        "out-of-range numbers, removed and unknown keys), judged by jsonschema and by the generated pydantic model",
        "(lenient, and strict output mode for outputs). The one allowed divergence, JSON Schema counting `1.0` as an",
        "integer where strict input validation does not, is kept out of the mutations.",
        "",
        "| task | schemas | instances | disagreements | agreement |",
        "|---|---|---|---|---|",
    ]
    for task, checked, bad, schemas in agreement:
        lines.append(f"| {task} | {schemas} | {checked} | {bad} | {100 * (1 - bad / checked):.1f}% |")
    for name in EXTRA_SECTIONS:
        print(f"{name} ...", flush=True)
        module = importlib.import_module(name)
        lines += ["", *module.run()]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(OUT.read_text())


if __name__ == "__main__":
    main()
