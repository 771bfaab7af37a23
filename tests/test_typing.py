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
client.with_raw_response.fill_mask("a [MASK].", topk=3)
InferenceClient(total_timout=1.0)
"""


def mypy(tmp_path: Path, code: str) -> subprocess.CompletedProcess[str]:
    bad = tmp_path / "bad_user_code.py"
    bad.write_text(code)
    return subprocess.run(
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


def test_mypy_reports_misuse(tmp_path: Path) -> None:
    result = mypy(tmp_path, BAD)
    out = result.stdout
    assert result.returncode == 1, out
    assert 'Unexpected keyword argument "topk"' in out
    assert ':6: error: No overload variant of "fill_mask"' in out or ":6: error: Argument" in out
    assert ":7: error:" in out
    assert ':8: error: Missing named argument "context"' in out
    assert ":9: error:" in out
    assert ':10: error: Unexpected keyword argument "topk"' in out
    assert ':11: error: Unexpected keyword argument "total_timout"' in out  # constructors: generated, every keyword


BAD_TRANSPORT = """
from typed_inference import InferenceClient
from typed_inference.testing import AsyncMockTransport, MockTransport
from typed_inference.transport import AsyncResponse, Request, Response

class WrongKind:
    def send(self, request: Request) -> AsyncResponse:
        return AsyncResponse(200)

    def close(self) -> None:
        pass

InferenceClient(transport=WrongKind())
InferenceClient(transport=AsyncMockTransport(lambda request: Response(200)))
MockTransport(lambda request: "ok")
Response(200, content="text")
Request("GET", "http://127.0.0.1/", {}).timeout = 3.0
"""


def test_mypy_reports_transport_misuse(tmp_path: Path) -> None:
    result = mypy(tmp_path, BAD_TRANSPORT)
    out = result.stdout
    assert result.returncode == 1, out
    assert out.count(": error:") == 6, out  # nothing else is wrong
    assert ':13: error: Argument "transport" to "InferenceClient" has incompatible type "WrongKind"' in out
    assert ':14: error: Argument "transport" to "InferenceClient" has incompatible type "AsyncMockTransport"' in out
    assert ':15: error: Argument 1 to "MockTransport" has incompatible type' in out
    assert ':16: error: Argument "content" to "Response" has incompatible type "str"' in out
    assert ':17: error: Property "timeout" defined in "Request" is read-only' in out
