"""Job-runner overhead on the loopback media fake: per poll (fal-ai's queue) and per download, typed-inference vs
huggingface_hub on the same servers. `python -m tests.bench_jobs` prints a markdown table (docs/benchmarks.md).

Both clients poll without sleeping (ours: an injected sleep; huggingface_hub: its fal-ai polling interval set to 0
in this process only), so the figures are the clients' own cost plus the loopback round trip.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from tests.media_fake import MediaFake

MODEL = "org/model"
POLLS = 40
ROUNDS = 7


def timed(call: Callable[[], Any], fake: MediaFake, pending: int) -> float:
    fake.pending, fake.polls = pending, 0
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def main() -> None:
    fake = MediaFake()
    for server in (fake.router, fake.hub, fake.direct):  # no Nagle wait between headers and body: the clients' cost
        server.httpd.RequestHandlerClass.disable_nagle_algorithm = True  # type: ignore[attr-defined]
    fake.start()
    os.environ["HF_ENDPOINT"] = fake.hub.url  # read by huggingface_hub at import: this process only
    import huggingface_hub
    from huggingface_hub.inference._providers import fal_ai

    from typed_inference import InferenceClient
    from typed_inference.transport import RetryPolicy

    huggingface_hub.constants.INFERENCE_PROXY_TEMPLATE = fake.router.url + "/{provider}"
    fal_ai._POLLING_INTERVAL = 0.0
    fake.map(MODEL, ("fal-ai", "fal-ai/wan/t2v", "text-to-video"), ("nscale", "sdxl", "text-to-image"))
    fake.mappings["org/image"] = {
        "id": "org/image",
        "inferenceProviderMapping": {
            "fal-ai": {"providerId": "fal-ai/flux", "task": "text-to-image", "status": "live"},
            "nscale": {"providerId": "sdxl", "task": "text-to-image", "status": "live"},
        },
    }
    token = "hf_bench_token"
    ours = InferenceClient(token=token, retry_policy=RetryPolicy(sleep=lambda _s: None), **fake.client_kwargs())
    hub_fal = huggingface_hub.InferenceClient(provider="fal-ai", token=token)
    hub_nscale = huggingface_hub.InferenceClient(provider="nscale", token=token)

    contenders: dict[str, dict[str, Callable[[], Any]]] = {
        "huggingface_hub": {
            "video": lambda: hub_fal.text_to_video("a cat", model=MODEL),
            "image": lambda: hub_fal.text_to_image("cat", model="org/image"),
            "base64": lambda: hub_nscale.text_to_image("cat", model="org/image"),
        },
        "typed-inference": {
            "video": lambda: ours.text_to_video("a cat", model=MODEL, provider="fal-ai"),
            "image": lambda: ours.text_to_image("cat", model="org/image", provider="fal-ai"),
            "base64": lambda: ours.text_to_image("cat", model="org/image", provider="nscale"),
        },
    }
    samples: dict[tuple[str, str], list[float]] = {}
    for _ in range(2):  # warm up: mappings cached, connections open
        for calls in contenders.values():
            for call in calls.values():
                timed(call, fake, 0)
    for _ in range(ROUNDS):
        for name, calls in contenders.items():
            samples.setdefault((name, "0 polls"), []).append(timed(calls["video"], fake, 0))
            samples.setdefault((name, f"{POLLS} polls"), []).append(timed(calls["video"], fake, POLLS))
            samples.setdefault((name, "image"), []).append(timed(calls["image"], fake, 0))
            samples.setdefault((name, "base64"), []).append(timed(calls["base64"], fake, 0))
    fake.stop()
    median = {key: statistics.median(values) for key, values in samples.items()}
    rows = []
    for name in contenders:
        per_poll = (median[(name, f"{POLLS} polls")] - median[(name, "0 polls")]) / POLLS
        per_download = median[(name, "image")] - median[(name, "base64")]
        rows.append((name, median[(name, "0 polls")], per_poll, median[(name, "image")], per_download))
    out = sys.stdout
    out.write(
        "| contender | fal-ai text-to-video, no poll (submit, status, result, download) | per extra poll | "
        "fal-ai text-to-image (POST + download) | per download (vs nscale's base64 answer) |\n"
    )
    out.write("|---|---|---|---|---|\n")
    for name, job, poll, image, download in rows:
        out.write(
            f"| {name} | {job * 1e6:.0f} µs | {poll * 1e6:.0f} µs | {image * 1e6:.0f} µs | {download * 1e6:.0f} µs |\n"
        )
    ratio = rows[1][2] / rows[0][2] if rows[0][2] > 0 else float("nan")
    out.write(f"\nper poll, ours / huggingface_hub: {ratio:.2f}\n")


if __name__ == "__main__":
    main()
