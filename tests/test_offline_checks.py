"""Every mistake the client can see by itself is reported before any network: with the socket layer refusing every
name lookup and connection, each call raises its own typed error, and no lookup or connection was attempted."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from typed_inference import AsyncInferenceClient, InferenceClient, RequestValidationError

BERT = "google-bert/bert-base-uncased"
MESSAGES = [{"role": "user", "content": "hi"}]


@dataclass
class Attempts:
    """What the code under test asked of the socket layer."""

    lookups: int = 0
    connections: int = 0


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Attempts]:
    """The socket layer refuses (and counts) every name lookup and connection; no token is ambient."""
    seen = Attempts()

    def lookup(*_: Any, **__: Any) -> Any:
        seen.lookups += 1
        raise socket.gaierror(socket.EAI_NONAME, "name lookups are refused in this test")

    def connect(_self: socket.socket, _address: Any) -> None:
        seen.connections += 1
        raise ConnectionRefusedError(111, "connections are refused in this test")

    def connect_ex(_self: socket.socket, _address: Any) -> int:
        seen.connections += 1
        return 111

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    for name in ("HF_TOKEN", "HF_ENDPOINT", "HF_ROUTER_URL", "HF_INFERENCE_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path))  # no token file
    yield seen


@dataclass(frozen=True)
class Case:
    """One mistake: the client's settings, the method and its arguments, the error and a part of its message."""

    name: str
    method: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    client: dict[str, Any]
    says: str
    error: type[Exception] = RequestValidationError


CASES = [
    Case("top_k as text", "fill_mask", ("a [MASK].",), {"model": BERT, "top_k": "3"}, {}, "top_k"),
    Case("top_k zero", "fill_mask", ("a [MASK].",), {"model": BERT, "top_k": 0}, {}, "top_k"),
    Case(
        "no candidate labels",
        "zero_shot_classification",
        ("t",),
        {"candidate_labels": [], "model": "facebook/bart-large-mnli"},
        {},
        "candidate_labels",
    ),
    Case(
        "missing image",
        "image_classification",
        ("no-such.jpg",),
        {"model": "google/vit-base-patch16-224"},
        {},
        "no-such.jpg",
    ),
    Case(
        "together chat without a token",
        "chat_completion",
        (MESSAGES,),
        {"model": "meta-llama/Llama-3.1-8B-Instruct"},
        {"provider": "together"},
        "needs a token",
    ),
    Case(
        "together embeddings without a token",
        "feature_extraction",
        ("x",),
        {"model": "BAAI/bge-base-en-v1.5"},
        {"provider": "together"},
        "needs a token",
    ),
    Case(
        "details on a completions provider",
        "text_generation",
        ("x",),
        {"model": "meta-llama/Llama-3.1-8B", "provider": "featherless-ai", "details": True},
        {"token": "hf_offline_test"},
        "details=True",
    ),
    Case(
        "negative max_new_tokens",
        "text_generation",
        ("x",),
        {"model": "gpt2", "max_new_tokens": -1},
        {},
        "max_new_tokens",
    ),
    Case(
        "an unknown provider for a non-chat task",
        "fill_mask",
        ("a [MASK].",),
        {"model": BERT, "provider": "no-such-provider"},
        {"token": "hf_offline_test"},
        "unknown provider",
    ),
    Case(
        "a named provider without the task",
        "fill_mask",
        ("a [MASK].",),
        {"model": BERT, "provider": "together"},
        {"token": "hf_offline_test"},
        "does not serve",
    ),
    Case(
        "a header with a newline",
        "fill_mask",
        ("a [MASK].",),
        {"model": BERT, "extra_headers": {"X-Note": "a\nb"}},
        {},
        "line break",
    ),
    Case(
        "NaN in the body",
        "fill_mask",
        ("a [MASK].",),
        {"model": BERT, "extra_body": {"parameters": {"temperature": float("nan")}}},
        {},
        "cannot be sent as JSON",
    ),
    Case(
        "a bad message under auto (no lookup: the auto-router)",
        "chat_completion",
        ([{"role": "user"}],),
        {"model": "meta-llama/Llama-3.1-8B-Instruct"},
        {"token": "hf_offline_test"},
        "messages",
    ),
]
IDS = [case.name for case in CASES]


def _check(case: Case, outcome: object, seen: Attempts) -> None:
    assert isinstance(outcome, case.error), f"{case.name}: got {outcome!r}"
    assert case.says in str(outcome), str(outcome)
    assert (seen.lookups, seen.connections) == (0, 0), f"{case.name}: {seen}"


def _raised(call: Callable[[], Any]) -> object:
    try:
        return call()
    except Exception as exc:
        return exc


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_sync_method(case: Case, no_network: Attempts) -> None:
    with InferenceClient(**case.client) as client:
        _check(case, _raised(lambda: getattr(client, case.method)(*case.args, **case.kwargs)), no_network)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_async_method(case: Case, no_network: Attempts) -> None:
    async def run() -> object:
        async with AsyncInferenceClient(**case.client) as client:
            try:
                return await getattr(client, case.method)(*case.args, **case.kwargs)
            except Exception as exc:
                return exc

    _check(case, asyncio.run(run()), no_network)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_call_by_name(case: Case, no_network: Attempts) -> None:
    task = case.method.replace("_", "-")
    with InferenceClient(**case.client) as client:
        _check(case, _raised(lambda: client.call(task, *case.args, **case.kwargs)), no_network)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_async_call_by_name(case: Case, no_network: Attempts) -> None:
    task = case.method.replace("_", "-")

    async def run() -> object:
        async with AsyncInferenceClient(**case.client) as client:
            try:
                return await client.call(task, *case.args, **case.kwargs)
            except Exception as exc:
                return exc

    _check(case, asyncio.run(run()), no_network)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_map(case: Case, no_network: Attempts) -> None:
    with InferenceClient(**case.client) as client:
        results = client.map(getattr(client, case.method), list(case.args), concurrency=1, **case.kwargs)
    assert len(results) == 1
    _check(case, results[0], no_network)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_async_map(case: Case, no_network: Attempts) -> None:
    async def run() -> list[Any]:
        async with AsyncInferenceClient(**case.client) as client:
            return await client.map(getattr(client, case.method), list(case.args), concurrency=1, **case.kwargs)

    results = asyncio.run(run())
    assert len(results) == 1
    _check(case, results[0], no_network)


def test_the_refusing_socket_layer_is_what_a_valid_call_meets(no_network: Attempts) -> None:
    """The same client with valid arguments does try the Hub first (the mapping lookup), so the zero counts above
    are the checks' doing, not the fixture's."""
    from typed_inference import APIConnectionError

    with InferenceClient(max_retries=0) as client:
        outcome = _raised(lambda: client.fill_mask("a [MASK].", model=BERT, top_k=3))
    assert isinstance(outcome, APIConnectionError), outcome
    assert "looking up the inference providers" in str(outcome)
    assert no_network.lookups + no_network.connections >= 1


class CountingListener:
    """A loopback listener that counts the connections made to it and closes each at once."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.connections = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.sock.close()


@pytest.mark.parametrize(
    "args",
    [
        ["call", "fill-mask", "--model", BERT, "--input", "a [MASK].", "--param", "top_k=abc"],
        ["call", "fill-mask", "--model", BERT, "--input", "a [MASK].", "--param", "top_k=0"],
        ["call", "image-classification", "--model", "google/vit-base-patch16-224", "--input-file", "no-such.jpg"],
        ["call", "text-generation", "--model", "gpt2", "--input", "x", "--param", "max_new_tokens=-1"],
    ],
    ids=["top_k-text", "top_k-zero", "missing-file", "negative-max_new_tokens"],
)
@pytest.mark.parametrize("via", ["flags", "environment"])
def test_cli_usage_errors_connect_nowhere(args: list[str], via: str, tmp_path: Path) -> None:
    listener = CountingListener()
    try:
        env = {k: v for k, v in os.environ.items() if k not in ("HF_TOKEN", "HF_INFERENCE_ENDPOINT")}
        env["HF_HOME"] = str(tmp_path)
        command = [sys.executable, "-m", "typed_inference.cli", *args]
        if via == "flags":
            command += ["--hub-url", listener.url, "--router-url", listener.url]
        else:
            env["HF_ENDPOINT"] = env["HF_ROUTER_URL"] = listener.url
        done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    finally:
        listener.close()
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert listener.connections == 0, done.stderr
