"""`python -m tests.bench_revisions BASE [NEW]`: per-call time of revision NEW (default: the working tree) vs BASE.

One loopback server answers both; each round runs every case in a fresh interpreter of this venv per revision,
alternating, so machine noise hits both alike (`bench_import`'s worktrees put each revision first on `sys.path`).
Cases: a call to an endpoint URL (no routing), and a call under the default `provider="auto"` whose Hub mapping
(hf-inference) is cached after the first call: the route every stage of a call runs through.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

from tests.bench import CLASSES, FILL, embedding_body
from tests.bench_import import _checkout
from tests.loopback import LoopbackServer

BERT = "google-bert/bert-base-uncased"
MAPPING = json.dumps(
    {"inferenceProviderMapping": {"hf-inference": {"providerId": BERT, "status": "live", "task": "fill-mask"}}}
).encode()
CASES = {
    "fill-mask, endpoint URL": "client.fill_mask('a [MASK].', model=url + '/fill')",
    "text-classification, endpoint URL": "client.text_classification('great', model=url + '/classify')",
    "feature-extraction 1×384, endpoint URL": "client.feature_extraction('x', model=url + '/embed')",
    "fill-mask, provider auto (mapping cached)": f"client.fill_mask('a [MASK].', model={BERT!r})",
}
PROGRAM = """
import sys, time
sys.path.insert(0, {src!r})
from typed_inference import InferenceClient
url = {url!r}
client = InferenceClient(hub_url=url, router_url=url)
for _ in range(50):
    {call}
t = time.perf_counter()
for _ in range({n}):
    {call}
print((time.perf_counter() - t) / {n})
"""


def _per_call(src: Path, url: str, call: str, n: int) -> float:
    program = PROGRAM.format(src=str(src), url=url, call=call, n=n)
    out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def compare(base: str, new: str | None = None, rounds: int = 7, n: int = 400) -> list[str]:
    """Markdown rows: case, median µs per call of each side, and their ratio (new / base)."""
    bodies = {
        "/fill": json.dumps(FILL).encode(),
        "/classify": json.dumps(CLASSES).encode(),
        "/embed": embedding_body(1, 384),
        f"/api/models/{BERT}?expand[]=inferenceProviderMapping": MAPPING,
        f"/api/models/{BERT}?expand%5B%5D=inferenceProviderMapping": MAPPING,
        f"/hf-inference/models/{BERT}": json.dumps(FILL).encode(),
    }
    server = LoopbackServer(bodies)
    rows = [f"| per call | {base} (µs) | {new or 'working tree'} (µs) | ratio |", "|---|---|---|---|"]
    try:
        with _checkout(base) as old_src, _checkout(new) as new_src:
            for title, call in CASES.items():
                old: list[float] = []
                fresh: list[float] = []
                for _ in range(rounds):
                    old.append(_per_call(old_src, server.url, call, n))
                    fresh.append(_per_call(new_src, server.url, call, n))
                a, b = statistics.median(old) * 1e6, statistics.median(fresh) * 1e6
                rows.append(f"| {title} | {a:.0f} | {b:.0f} | {b / a:.2f} |")
    finally:
        server.stop()
    return rows


if __name__ == "__main__":
    print("\n".join(compare(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)))
