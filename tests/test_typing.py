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


CHAT_DICTS = """
from typing import Any, cast

from pydantic import BaseModel

from typed_inference import InferenceClient
from typed_inference.types import ChatCompletionInputUserMessage
from typed_inference.types.params import ChatCompletionInputMessageParam, ChatCompletionInputToolParam

client = InferenceClient("m")
client.chat_completion([{"role": "usr", "content": "hi"}])
client.chat_completion([{"role": "user", "contnet": "hi"}])
client.chat_completion([{"role": "user", "content": "hi"}], tools=[{"type": "function", "fnction": {"name": "f"}}])
client.chat_completion([{"role": "user", "content": "hi"}])
client.chat_completion([{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}])
client.chat_completion([ChatCompletionInputUserMessage(role="user", content="hi")])
messages: list[ChatCompletionInputMessageParam] = [{"role": "user", "content": "hi"}]
tools: list[ChatCompletionInputToolParam] = [{"type": "function", "function": {"name": "f"}}]
client.chat_completion(messages, tools=tools, tool_choice="auto")
dumped: list[dict[str, Any]] = [{"role": "user", "content": "hi", "name": None}]
client.chat_completion(cast("list[ChatCompletionInputMessageParam]", dumped))
client.chat_completion([{"role": "assistant", "content": None, "tool_calls": [
    {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}])
"""
CHAT_DICT_ERRORS = (11, 12, 13)  # the wrong role, the misspelt key, the misspelt tool key: nothing else


def test_mypy_checks_message_and_tool_dicts(tmp_path: Path) -> None:
    result = mypy(tmp_path, CHAT_DICTS)
    lines = sorted({int(line.split(":")[1]) for line in result.stdout.splitlines() if ": error:" in line})
    assert tuple(lines) == CHAT_DICT_ERRORS, result.stdout


def test_pyright_checks_message_and_tool_dicts(tmp_path: Path) -> None:
    """What VS Code's language server shows: the same three errors, and none for the correct dicts."""
    import json
    import shutil

    pyright = shutil.which("pyright", path=str(Path(sys.executable).parent)) or shutil.which("pyright")
    if pyright is None:
        pytest.skip("pyright is not installed (pip install pyright: the dev extra has it)")
    code = tmp_path / "user_code.py"
    code.write_text(CHAT_DICTS)
    done = subprocess.run(
        [pyright, "--outputjson", str(code)], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    try:
        report = json.loads(done.stdout)
    except ValueError:
        pytest.skip(f"pyright could not run here (its node runtime?): {(done.stderr or done.stdout)[:300]}")
    errors = [d for d in report["generalDiagnostics"] if d["severity"] == "error"]
    lines = sorted({d["range"]["start"]["line"] + 1 for d in errors})
    assert tuple(lines) == CHAT_DICT_ERRORS, [d["message"][:200] for d in errors]
