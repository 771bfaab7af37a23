"""`python -m tests.bench_import [REV]`: import time of the working tree vs a git revision (default HEAD), side by side.

Both packages are imported in fresh interpreters of this venv, alternating, so machine noise hits both alike; the
revision is checked out into a temporary worktree and put first on `sys.path`.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
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


def compare(revision: str, runs: int = 31) -> list[str]:
    """Markdown rows: statement, median ms of the revision and of the working tree, and their ratio."""
    rows = ["| import | " + revision + " (ms) | working tree (ms) | ratio |", "|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(base), revision], cwd=ROOT, check=True, capture_output=True
        )
        try:
            for name, code in STATEMENTS.items():
                old: list[float] = []
                new: list[float] = []
                for _ in range(runs):
                    old.append(_time(base / "src", code))
                    new.append(_time(ROOT / "src", code))
                a, b = statistics.median(old) * 1000, statistics.median(new) * 1000
                rows.append(f"| `{name}` | {a:.1f} | {b:.1f} | {b / a:.2f} |")
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=ROOT, check=True)
    return rows


if __name__ == "__main__":
    print("\n".join(compare(sys.argv[1] if len(sys.argv) > 1 else "HEAD")))
