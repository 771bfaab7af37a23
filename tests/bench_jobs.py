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
POLLS = 100
ROUNDS = 15


def timed(call: Callable[[], Any], fake: MediaFake, pending: int) -> float:
    fake.pending, fake.polls = pending, 0
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def run() -> list[str]:
    """The `## Provider jobs` section of docs/benchmarks.md, measured now."""
    fake = MediaFake()
    for server in (fake.router, fake.hub, fake.direct):  # no Nagle wait between headers and body: the clients' cost
        server.httpd.RequestHandlerClass.disable_nagle_algorithm = True  # type: ignore[attr-defined]
    fake.start()
    os.environ["HF_ENDPOINT"] = fake.hub.url  # read by huggingface_hub at import: this process only
    import huggingface_hub
    from huggingface_hub.inference._providers import fal_ai

    from typed_inference import InferenceClient
    from typed_inference.transport import RetryPolicy

    huggingface_hub.constants.ENDPOINT = fake.hub.url  # also when an earlier section imported huggingface_hub
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
    for name in contenders:  # paired per round: each round's difference, then the median of those
        polls = zip(samples[(name, f"{POLLS} polls")], samples[(name, "0 polls")], strict=True)
        per_poll = statistics.median((many - none) / POLLS for many, none in polls)
        downloads = zip(samples[(name, "image")], samples[(name, "base64")], strict=True)
        per_download = statistics.median(image - b64 for image, b64 in downloads)
        rows.append((name, median[(name, "0 polls")], per_poll, median[(name, "image")], per_download))
    ratio = rows[1][2] / rows[0][2] if rows[0][2] > 0 else float("nan")
    lines = [
        "## Provider jobs",
        "",
        "The job runner's own cost on the loopback media fake (tests/media_fake.py: router, Hub and provider hosts on",
        f"127.0.0.1), typed-inference vs huggingface_hub {huggingface_hub.__version__} on the same servers, polling",
        "without sleeping (ours: an injected sleep; huggingface_hub: its fal-ai interval set to 0 in the bench",
        f"process). Medians of {ROUNDS} interleaved rounds; per poll: a job of {POLLS} polls minus one of none, per",
        "round, over the polls; per download: fal-ai text-to-image (POST, then download) minus nscale's (base64 in the",
        "answer). `python -m tests.bench_jobs`.",
        "",
        "| contender | fal-ai text-to-video (submit, status, result, download) | per extra poll | fal-ai text-to-image "
        "(POST + download) | per download |",
        "|---|---|---|---|---|",
    ]
    for name, job, poll, image, download in rows:
        lines.append(
            f"| {name} | {job * 1e6:.0f} µs | {poll * 1e6:.0f} µs | {image * 1e6:.0f} µs | {download * 1e6:.0f} µs |"
        )
    lines += ["", f"Per poll, ours / huggingface_hub: **{ratio:.2f}**."]
    return lines


def main() -> None:
    sys.stdout.write("\n".join(run()) + "\n")


if __name__ == "__main__":
    main()
