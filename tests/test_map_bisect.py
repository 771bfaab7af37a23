"""A bad input costs one row, not a batch: `map` / `imap` split a failing batch down to the offending inputs."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

import typed_inference as ti
from tests.server import Received, Reply, ScriptedServer
from typed_inference import AsyncInferenceClient, InferenceClient
from typed_inference.transport import RetryPolicy

TEXTS = [f"text {i}" for i in range(16)]


def vector(text: str) -> list[float]:
    return [float(len(text)), float(sum(map(ord, text)) % 97)]


def poisoned_server(server: ScriptedServer, bad: set[str], status: int = 400) -> list[list[str]]:
    """A feature-extraction server answering `status` for any request holding one of the `bad` texts."""
    lock = threading.Lock()
    seen: list[list[str]] = []

    def handle(received: Received) -> Reply:
        inputs = received.json()["inputs"]
        texts = inputs if isinstance(inputs, list) else [inputs]
        with lock:
            seen.append(texts)
        if any(text in bad for text in texts):
            return Reply(status, {"error": f"bad input among {len(texts)}"})
        return Reply(200, [vector(text) for text in texts])

    server.handler = handle
    return seen


def sync_map(server: ScriptedServer, texts: list[str], batch_size: int | None) -> list[Any]:
    with InferenceClient("m", base_url=server.url, retry_policy=RetryPolicy(max_retries=0)) as client:
        return client.map(client.feature_extraction, texts, batch_size=batch_size, concurrency=2)


def async_map(server: ScriptedServer, texts: list[str], batch_size: int | None) -> list[Any]:
    async def go() -> list[Any]:
        async with AsyncInferenceClient("m", base_url=server.url, retry_policy=RetryPolicy(max_retries=0)) as client:
            return await client.map(client.feature_extraction, texts, batch_size=batch_size, concurrency=2)

    return asyncio.run(go())


def sync_imap(server: ScriptedServer, texts: list[str], batch_size: int | None) -> list[Any]:
    before = len(server.received)
    with InferenceClient("m", base_url=server.url, retry_policy=RetryPolicy(max_retries=0)) as client:
        outcomes = client.imap(client.feature_extraction, texts, batch_size=batch_size, concurrency=2)
        found = dict(outcomes)
        assert outcomes.requests == len(server.received) - before  # the iterator counts every request it made
    return [found[i] for i in range(len(texts))]


MAPS = {"map": sync_map, "async map": async_map, "imap": sync_imap}


@pytest.mark.parametrize("run", MAPS.values(), ids=MAPS.keys())
@pytest.mark.parametrize("where", [[0], [7], [15], [0, 9, 15]], ids=["start", "middle", "end", "three"])
def test_only_the_bad_inputs_end_in_error(server: ScriptedServer, run: Any, where: list[int]) -> None:
    bad = {TEXTS[i] for i in where}
    poisoned_server(server, bad)
    results = run(server, TEXTS, 8)
    failed = [i for i, result in enumerate(results) if isinstance(result, ti.InferenceError)]
    assert failed == where
    assert all(isinstance(results[i], ti.BadRequestError) for i in where)
    good = [i for i in range(len(TEXTS)) if i not in where]
    assert [results[i] for i in good] == [[vector(TEXTS[i])] for i in good]  # as the unbatched calls answer
    # each bad input costs the halvings down to it: 2 per level, log2(8) = 3 levels, shared where bad inputs meet
    assert len(server.received) <= 2 + 2 * 3 * len(where)
    assert sorted(len(r.json()["inputs"]) for r in server.received if r.json()["inputs"][0] in bad)[:1] == [1]


@pytest.mark.parametrize("run", MAPS.values(), ids=MAPS.keys())
def test_results_equal_the_unbatched_ones(server: ScriptedServer, run: Any) -> None:
    poisoned_server(server, {TEXTS[5]})
    batched = run(server, TEXTS, 4)
    unbatched = run(server, TEXTS, None)
    assert [None if isinstance(r, ti.InferenceError) else r for r in batched] == [
        None if isinstance(r, ti.InferenceError) else r for r in unbatched
    ]
    assert [type(r) for r in batched if isinstance(r, ti.InferenceError)] == [ti.BadRequestError]


@pytest.mark.parametrize("run", MAPS.values(), ids=MAPS.keys())
@pytest.mark.parametrize("status", [401, 403, 404, 429, 500, 503])
def test_errors_that_fail_every_input_are_not_split(server: ScriptedServer, run: Any, status: int) -> None:
    poisoned_server(server, {TEXTS[3]}, status)
    results = run(server, TEXTS, 8)
    assert len(server.received) == 2  # one request per batch: nothing bisected
    assert [isinstance(r, ti.InferenceError) for r in results] == [True] * 8 + [False] * 8


@pytest.mark.parametrize("run", MAPS.values(), ids=MAPS.keys())
def test_an_answer_that_does_not_fit_is_split_too(server: ScriptedServer, run: Any) -> None:
    """A ResponseValidationError on a batch's answer can be one input's fault: it is bisected like a 400."""

    def handle(received: Received) -> Reply:
        texts = received.json()["inputs"]
        return Reply(200, [["not a number"] if text == TEXTS[2] else vector(text) for text in texts])

    server.handler = handle
    results = run(server, TEXTS[:4], 4)
    assert [isinstance(r, ti.ResponseValidationError) for r in results] == [False, False, True, False]
    assert [len(r.json()["inputs"]) for r in server.received] == [4, 2, 2, 1, 1]
