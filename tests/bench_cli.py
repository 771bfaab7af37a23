"""Benchmark of `typed-inference validate`: fill-mask requests checked end to end as a process, beside
check-jsonschema on the same data, and payloads per second through the library call. `run()` returns markdown lines
for docs/benchmarks.md; `python -m tests.bench_cli` prints them.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
SIZES = (100_000, 1_000_000)
WORDS = ("life", "love", "art", "music", "science", "freedom", "time", "home")


def requests_of(count: int) -> list[dict[str, Any]]:
    """`count` valid fill-mask requests: bare inputs, with parameters, with targets, with legacy options."""
    out: list[dict[str, Any]] = []
    for i in range(count):
        request: dict[str, Any] = {"inputs": f"The goal of {WORDS[i % len(WORDS)]} number {i} is [MASK]."}
        shape = i % 4
        if shape == 1:
            request["parameters"] = {"top_k": 1 + i % 10}
        elif shape == 2:
            request["parameters"] = {"top_k": 3, "targets": ["paris", "london"]}
        elif shape == 3:
            request["options"] = {"wait_for_model": True}
        out.append(request)
    return out


def write_data(folder: Path, count: int) -> tuple[Path, Path]:
    """The same requests as one JSON array and as JSON Lines."""
    rows = requests_of(count)
    array, lines = folder / f"requests-{count}.json", folder / f"requests-{count}.jsonl"
    array.write_text(json.dumps(rows), encoding="utf-8")
    lines.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return array, lines


def command(name: str) -> list[str]:
    """A console script of this environment (the module form when the script is not installed)."""
    script = BIN / name
    if script.exists():
        return [str(script)]
    if name == "typed-inference":
        return [sys.executable, "-m", "typed_inference.cli"]
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(name)
    return [found]


def wall(argv: list[str], expect: int = 0) -> float:
    """Seconds a process takes, start to exit; fails when it exits otherwise than expected."""
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True)
    elapsed = time.perf_counter() - started
    if done.returncode != expect:
        raise RuntimeError(f"{' '.join(argv[:3])}... exited {done.returncode}: {done.stderr[-500:]!r}")
    return elapsed


def median_wall(contenders: dict[str, list[str]], rounds: int) -> dict[str, float]:
    """Median wall time of each command over interleaved rounds."""
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, argv in contenders.items():
            samples[name].append(wall(argv))
    return {name: statistics.median(times) for name, times in samples.items()}


def same_verdicts(folder: Path, schema: Path, ours: list[str], theirs: list[str] | None) -> None:
    """Both tools reject the same broken array: the comparison is between two real validations."""
    broken = folder / "broken.json"
    rows = requests_of(10)
    rows[4] = {"inputs": "x", "parameters": {"top_k": 0}}
    broken.write_text(json.dumps(rows), encoding="utf-8")
    wall([*ours, "validate", "--task", "fill-mask", "--each", str(broken)], expect=1)
    if theirs is not None:
        wall([*theirs, "--schemafile", str(schema), str(broken)], expect=1)


def per_second(fn: Callable[[], int], rounds: int = 3) -> float:
    """Best payloads per second of `fn` (which returns how many payloads it checked) over a few rounds."""
    best = 0.0
    for _ in range(rounds):
        started = time.perf_counter()
        count = fn()
        best = max(best, count / (time.perf_counter() - started))
    return best


def in_process(lines_path: Path) -> dict[str, float]:
    """Payloads per second through the library: the batch call on JSON Lines, one call per payload, 1% invalid."""
    from typed_inference.validate import validate, validator

    data = lines_path.read_bytes()
    lines = data.split(b"\n")[:-1]
    broken = b"\n".join(ln if i % 100 else ln.replace(b'"inputs"', b'"input"') for i, ln in enumerate(lines))
    check = validator("fill-mask")

    def batch() -> int:
        report = check.check_lines(data)
        assert report.valid
        return report.checked

    def single() -> int:
        for line in lines:
            validate("fill-mask", line)
        return len(lines)

    def with_errors() -> int:
        report = check.check_lines(broken)
        assert len(report.invalid) == len(lines) // 100 and report.invalid[0].report.errors[0].line == 1
        return report.checked

    return {"batch": per_second(batch), "single": per_second(single), "errors": per_second(with_errors)}


def measure(folder: Path) -> tuple[list[tuple[int, dict[str, float]]], dict[str, float], str]:
    """Process timings for each size, in-process rates, and check-jsonschema's version (or why it is missing)."""
    ours = command("typed-inference")
    try:
        theirs: list[str] | None = command("check-jsonschema")
    except FileNotFoundError:
        theirs = None
    schema = folder / "fill-mask-array.schema.json"
    schema.write_bytes(
        subprocess.run([*ours, "schema", "fill-mask", "--array"], capture_output=True, check=True).stdout
    )
    same_verdicts(folder, schema, ours, theirs)
    version = "(not installed: `pip install '.[bench]'`)"
    if theirs is not None:
        reply = subprocess.run([*theirs, "--version"], capture_output=True, text=True).stdout.strip()
        version = reply.rsplit(" ", 1)[-1]
    results = []
    lines_path = folder / "none.jsonl"
    for size in SIZES:
        array, lines_path = write_data(folder, size)
        contenders = {
            "ours-array": [*ours, "validate", "--task", "fill-mask", "--kind", "input", "--each", str(array)],
            "ours-lines": [*ours, "validate", "--task", "fill-mask", "--kind", "input", str(lines_path)],
        }
        if theirs is not None:
            contenders["theirs"] = [*theirs, "--schemafile", str(schema), str(array)]
        results.append((size, median_wall(contenders, rounds=3 if size <= 100_000 else 1)))
    return results, in_process(lines_path), version


def run() -> list[str]:
    """The `## CLI validation` section of docs/benchmarks.md, measured now."""
    with tempfile.TemporaryDirectory() as tmp:
        results, rates, version = measure(Path(tmp))
    lines = [
        "## CLI validation",
        "",
        "fill-mask requests (bare inputs, `parameters`, `targets`, legacy `options`), checked end to end as a process:",
        "wall time from start to exit, median of 3 interleaved runs at 100,000 payloads, one run at 1,000,000.",
        f"check-jsonschema {version} is given `typed-inference schema fill-mask --array` and the JSON array;",
        "typed-inference reads the same array with `--each`, and the same payloads as JSON Lines (which",
        "check-jsonschema cannot read).",
        "",
        "| payloads | check-jsonschema, array | typed-inference `--each`, array | speed-up | typed-inference, JSONL "
        "| target |",
        "|---|---|---|---|---|---|",
    ]
    for size, times in results:
        theirs = times.get("theirs")
        ratio = f"**{theirs / times['ours-array']:.1f}×**" if theirs else "n/a"
        target = "≥ 5×" if size <= 100_000 else "≥ 10×"
        lines.append(
            f"| {size:,} | {f'{theirs:.2f} s' if theirs else 'n/a'} | {times['ours-array']:.2f} s | {ratio} | "
            f"{times['ours-lines']:.2f} s | {target} |"
        )
    lines += [
        "",
        "In-process, through the library (1,000,000 payloads, best of 3 rounds):",
        "",
        "| library call | payloads/s | target |",
        "|---|---|---|",
        f"| `validator('fill-mask').check_lines(data)`: a JSON Lines file's bytes | **{rates['batch']:,.0f}** | "
        "≥ 500,000 |",
        f"| `validate('fill-mask', line)`: one call per payload, a report each | {rates['single']:,.0f} | |",
        f"| `check_lines` with 1% invalid payloads, each reported with path, line, column | {rates['errors']:,.0f} | |",
        "",
    ]
    return lines


if __name__ == "__main__":
    print("\n".join(run()))
