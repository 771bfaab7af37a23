"""`python -m tests.bench_import BASE [NEW]`: import time of revision NEW (default: the working tree) vs BASE.

Both packages are imported in fresh interpreters of this venv, alternating, so machine noise hits both alike; each
revision is checked out into a temporary worktree and put first on `sys.path`.
"""

from __future__ import annotations

import contextlib
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATEMENTS = {
    "client": "from typed_inference import InferenceClient",
    "client + raw": "from typed_inference import InferenceClient\nInferenceClient().with_raw_response",
}


def _time(src: Path, code: str) -> float:
    program = f"import sys, time\nsys.path.insert(0, {str(src)!r})\nt = time.perf_counter()\n{code}\n"
    program += "print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


@contextlib.contextmanager
def _checkout(revision: str | None) -> Iterator[Path]:
    """The `src` folder of `revision` (a temporary worktree), or of the working tree for None."""
    if revision is None:
        yield ROOT / "src"
        return
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "tree"
        add = ["git", "worktree", "add", "--detach", str(tree), revision]
        subprocess.run(add, cwd=ROOT, check=True, capture_output=True)
        try:
            yield tree / "src"
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=True)


def compare(base: str, new: str | None = None, runs: int = 31) -> list[str]:
    """Markdown rows: statement, median ms of each side, and their ratio (new / base)."""
    rows = [f"| import | {base} (ms) | {new or 'working tree'} (ms) | ratio |", "|---|---|---|---|"]
    with _checkout(base) as old_src, _checkout(new) as new_src:
        for name, code in STATEMENTS.items():
            old: list[float] = []
            fresh: list[float] = []
            for _ in range(runs):
                old.append(_time(old_src, code))
                fresh.append(_time(new_src, code))
            a, b = statistics.median(old) * 1000, statistics.median(fresh) * 1000
            rows.append(f"| `{name}` | {a:.1f} | {b:.1f} | {b / a:.2f} |")
    return rows


if __name__ == "__main__":
    print("\n".join(compare(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)))
