"""Benchmark of provider calls: a routed chat call's overhead, ours beside huggingface_hub's `InferenceClient`, on
the same loopback ProviderFake (tests/provider_fake.py, run in its own process), and the first call of a model (the
Hub's mapping lookup) against later calls. `run()` returns markdown lines for docs/benchmarks.md;
`python -m tests.bench_providers` prints them.

huggingface_hub is pointed at the fake by patching its router template and Hub endpoint in this process only.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, cast

from typed_inference.types.params import ChatCompletionInputMessageParam

MODEL = "meta-llama/Llama-3.1-8B-Instruct"
PROVIDER_ID = "meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo"
TOKEN = "hf_bench_router_token"
MESSAGES: list[ChatCompletionInputMessageParam] = [{"role": "user", "content": "Say hi"}]


def _serve(conn: Connection) -> None:
    """The fake in a child process (it never competes with the measured clients for the GIL): sends its URLs,
    then answers "counts" with how many requests the router and the Hub received, until "stop"."""
    from tests.provider_fake import ProviderFake

    fake = ProviderFake()
    for server in (fake.router, fake.hub, fake.direct):
        # answer in one segment's time: without TCP_NODELAY, the body written after the headers waits for the
        # client's delayed ACK (~40 ms a call, the same for both clients, hiding what is measured)
        server.httpd.RequestHandlerClass.disable_nagle_algorithm = True  # type: ignore[attr-defined]
    fake.start()
    fake.map(MODEL, ("together", PROVIDER_ID, "conversational"))
    conn.send((fake.router.url, fake.hub.url))
    while True:
        message = conn.recv()
        if message == "counts":
            conn.send((len(fake.router.received), len(fake.hub.received)))
        else:
            fake.stop()
            conn.send("stopped")
            return


class FakeProcess:
    """The ProviderFake running in its own process."""

    def __init__(self) -> None:
        self.conn, child = multiprocessing.Pipe()
        self.process = multiprocessing.get_context("spawn").Process(target=_serve, args=(child,), daemon=True)
        self.process.start()
        self.router_url, self.hub_url = self.conn.recv()

    def counts(self) -> tuple[int, int]:
        """(router requests, Hub requests) received so far."""
        self.conn.send("counts")
        router, hub = self.conn.recv()
        return router, hub

    def stop(self) -> None:
        self.conn.send("stop")
        self.conn.recv()
        self.process.join(10)


def patch_hub(router_url: str, hub_url: str) -> Callable[[], None]:
    """Points huggingface_hub at the fake (its router template, its Hub endpoint); returns its mapping cache's clear."""
    from huggingface_hub import constants
    from huggingface_hub.inference._providers import _common

    constants.INFERENCE_PROXY_TEMPLATE = router_url + "/{provider}"
    constants.ENDPOINT = hub_url
    clear: Callable[[], None] = _common._fetch_inference_provider_mapping.cache_clear
    return clear


def call_times(fn: Callable[[], Any], n: int) -> list[float]:
    """Seconds of each of `n` calls of `fn`, timed one by one."""
    times = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times


def interleaved(calls: dict[str, Callable[[], Any]], n: int, rounds: int) -> dict[str, list[float]]:
    """Each contender's single-call times over interleaved rounds of `n` calls, after a warm-up."""
    for fn in calls.values():
        call_times(fn, max(5, n // 10))
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(rounds):
        for name, fn in calls.items():
            samples[name] += call_times(fn, n)
    return samples


def quantile(values: list[float], q: float) -> float:
    """The `q` quantile of `values` (0.5: the median)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def first_calls(call: Callable[[], Any], clear: Callable[[], None], n: int) -> list[float]:
    """Seconds of a model's first call, `n` times (its mapping cache cleared before each)."""
    times = []
    for _ in range(n):
        clear()
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return times


def canned_fake() -> Any:
    """The ProviderFake's answers for this benchmark (the chat reply, the model's mapping, as huggingface_hub and we
    ask for it) served canned by tests/loopback.py's asyncio server, which answers in microseconds."""
    import json

    from tests.loopback import LoopbackServer
    from tests.provider_fake import ProviderFake, chat_reply

    fake = ProviderFake()
    fake.map(MODEL, ("together", PROVIDER_ID, "conversational"))
    mapping = json.dumps(fake.mappings[MODEL]).encode()
    return LoopbackServer(
        {
            "/together/v1/chat/completions": chat_reply({"model": PROVIDER_ID}).payload(),
            f"/api/models/{MODEL}?expand=inferenceProviderMapping": mapping,  # huggingface_hub's query
            f"/api/models/{MODEL}?expand%5B%5D=inferenceProviderMapping": mapping,  # ours
        }
    )


def measure(n: int = 200, rounds: int = 7, firsts: int = 300, *, canned: bool = False) -> dict[str, Any]:
    """Every figure of one table, with the requests the fake received for the first-call runs (ProviderFake only)."""
    from huggingface_hub import InferenceClient as HubClient

    from typed_inference import InferenceClient
    from typed_inference.providers._mapping import MAPPINGS

    fake = canned_fake() if canned else FakeProcess()
    router_url, hub_url = (fake.url, fake.url) if canned else (fake.router_url, fake.hub_url)  # type: ignore[union-attr]
    counts = (lambda: (0, 0)) if canned else fake.counts
    try:
        clear_hub = patch_hub(router_url, hub_url)
        clear_hub()
        MAPPINGS.clear()
        ours = InferenceClient(provider="together", token=TOKEN, router_url=router_url, hub_url=hub_url)
        hub = HubClient(provider="together", api_key=TOKEN)

        def ours_call() -> Any:
            return ours.chat_completion(MESSAGES, model=MODEL, max_tokens=8)

        def hub_call() -> Any:
            return hub.chat_completion(cast(Any, MESSAGES), model=MODEL, max_tokens=8)

        assert ours_call().choices[0].message.content == hub_call().choices[0].message.content == "Hello"
        per_call = interleaved({"huggingface_hub": hub_call, "typed-inference": ours_call}, n, rounds)
        before = counts()
        first = {
            "typed-inference": first_calls(ours_call, MAPPINGS.clear, firsts),
            "huggingface_hub": first_calls(hub_call, clear_hub, firsts),
        }
        after = counts()
        ours.close()
    finally:
        fake.stop()
    return {
        "per_call": per_call,
        "first": first,
        "first_requests": (after[0] - before[0], after[1] - before[1]),
        "n": n,
        "rounds": rounds,
        "firsts": firsts,
        "load": os.getloadavg()[0],
    }


def table(m: dict[str, Any]) -> list[str]:
    """One measurement's rows."""
    per_call, first = m["per_call"], m["first"]

    def row(title: str, samples: dict[str, list[float]], q: float) -> str:
        hub, ours = quantile(samples["huggingface_hub"], q), quantile(samples["typed-inference"], q)
        return f"| {title} | {hub * 1e6:.0f} µs | {ours * 1e6:.0f} µs | **{ours / hub:.2f}** |"

    later_ours, first_ours = quantile(per_call["typed-inference"], 0.5), quantile(first["typed-inference"], 0.5)
    later_hub, first_hub = quantile(per_call["huggingface_hub"], 0.5), quantile(first["huggingface_hub"], 0.5)
    return [
        "| measure | huggingface_hub | typed-inference | ours / hub |",
        "|---|---|---|---|",
        row("chat call, mapping cached: median", per_call, 0.5),
        row("chat call, mapping cached: 10th percentile", per_call, 0.1),
        row("first call of a model (Hub lookup + chat): median", first, 0.5),
        f"| first call / later call (medians) | {first_hub / later_hub:.2f}× | {first_ours / later_ours:.2f}× | |",
    ]


def run() -> list[str]:
    """The markdown section for docs/benchmarks.md."""
    fake = measure()
    canned = measure(canned=True)
    router, lookups = fake["first_requests"]
    return [
        "## Provider calls (`python -m tests.bench_providers`)",
        "",
        'A routed chat call (`provider="together"`, an hf_ token, not streamed); huggingface_hub\'s router template',
        "and Hub endpoint are patched in the benchmark process to reach the same fake. Each call is timed on its own:",
        f"later calls (the model's mapping cached) over {fake['rounds']} interleaved rounds of {fake['n']} calls per",
        f"client; first calls ({fake['firsts']} per client) with the mapping cache cleared before each, so one Hub",
        "lookup plus the chat call.",
        "",
        "On the loopback ProviderFake (tests/provider_fake.py: the router and the Hub, in their own process, with",
        f"TCP_NODELAY). Load average (1 min) at the end: {fake['load']:.1f}.",
        "",
        *table(fake),
        "",
        "The same calls on the ProviderFake's answers served canned by tests/loopback.py's asyncio server (own",
        "process, microseconds per answer): the clients' own overhead, without the fake's. Load average (1 min)",
        f"at the end: {canned['load']:.1f}.",
        "",
        *table(canned),
        "",
        f"Target: ours ≤ 0.7× huggingface_hub per call. The first-call runs on the ProviderFake sent {router} chat",
        f"requests and {lookups} Hub lookups (one per first call of each client; later calls make none: ours keeps a",
        "mapping 300 s, huggingface_hub for the life of the process).",
    ]


if __name__ == "__main__":
    print("\n".join(run()))
