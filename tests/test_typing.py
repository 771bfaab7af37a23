"""mypy catches misuse in user code: misspelt keywords and wrong parameter types are type errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # runs mypy in a subprocess

ROOT = Path(__file__).resolve().parent.parent

BAD = """
from typed_inference import InferenceClient

client = InferenceClient()
client.fill_mask("a [MASK].", topk=3)
client.fill_mask("a [MASK].", top_k="3")
client.text_classification(42)
client.question_answering(question="q")
client.zero_shot_classification("text", candidate_labels="a,b")
"""


def test_mypy_reports_misuse(tmp_path: Path) -> None:
    bad = tmp_path / "bad_user_code.py"
    bad.write_text(BAD)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "--cache-dir",
            str(tmp_path / "cache"),
            str(bad),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    out = result.stdout
    assert result.returncode == 1, out
    assert 'Unexpected keyword argument "topk"' in out
    assert ':6: error: No overload variant of "fill_mask"' in out or ":6: error: Argument" in out
    assert ":7: error:" in out
    assert ':8: error: Missing named argument "context"' in out
    assert ":9: error:" in out
