"""AsyncInferenceClient and map(): the same typed results as the sync client, concurrency, cancellation, order."""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from typing import Any

import pytest

import typed_inference as ti
from tests.conftest import FakeClock
from tests.mock_server import MockServer
from tests.server import Received, Reply, ScriptedServer
from tests.task_examples import EXAMPLES, method_name
from tests.test_streaming import _endless, _wait_closed, chat_chunks, tgi_events
from tests.test_tasks import dump, serve
from typed_inference import AsyncInferenceClient, InferenceClient
from typed_inference.transport import RetryPolicy
from typed_inference.types import FillMaskOutputElement

FILL = [{"sequence": "a b.", "score": 0.5, "token": 1, "token_str": "b"}]


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_async_method_matches_sync(server: ScriptedServer) -> None:
    server.json(FILL)
    server.json(FILL)
    with InferenceClient("m", base_url=server.url) as sync:
        expected = sync.fill_mask("a [MASK].", top_k=1)

    async def go() -> list[FillMaskOutputElement]:
        async with AsyncInferenceClient("m", base_url=server.url) as client:
            return await client.fill_mask("a [MASK].", top_k=1)

    assert run(go()) == expected
    assert server.received[0].body == server.received[1].body
    assert server.received[0].path == server.received[1].path


def test_async_errors_and_retry_with_injected_sleep(server: ScriptedServer) -> None:
    clock = FakeClock()
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.now += seconds

    policy = RetryPolicy(clock=clock, sleep=clock.sleep, async_sleep=fake_sleep, jitter=lambda: 1.0)
    server.json({"error": "Model m is currently loading", "estimated_time": 3.0}, 503)
    server.json({"error": "Model m is currently loading", "estimated_time": 3.0}, 503)  # X-Wait-For-Model ignored
    server.json(FILL)
    server.json({"error": "nope"}, 404)

    async def go() -> None:
        async with AsyncInferenceClient("m", base_url=server.url, retry_policy=policy) as client:
            assert (await client.fill_mask("a [MASK]."))[0].token == 1
            with pytest.raises(ti.ModelNotFoundError):
                await client.fill_mask("a [MASK].")

    run(go())
    assert slept == [3.0]  # at once with X-Wait-For-Model: true, then estimated_time (the async sleep, injected)
    assert [r.headers.get("x-wait-for-model") for r in server.received] == [None, "true", "true", None]


def test_async_raw_response(server: ScriptedServer) -> None:
    server.reply(Reply(200, FILL, {"x-request-id": "r9"}))

    async def go() -> ti.RawResponse[list[FillMaskOutputElement]]:
        async with AsyncInferenceClient("m", base_url=server.url) as client:
            return await client.with_raw_response.fill_mask("a [MASK].")

    raw = run(go())
    assert raw.request_id == "r9" and raw.parsed[0].score == 0.5


@pytest.mark.parametrize("chunking", [1, 5, 10_000])
def test_async_streams(server: ScriptedServer, chunking: int) -> None:
    body = tgi_events(["a", "b", "c"])
    server.reply(Reply(200, chunks=[body[i : i + chunking] for i in range(0, len(body), chunking)]))
    chat = chat_chunks(["x", "y"])
    server.reply(Reply(200, chunks=[chat[i : i + chunking] for i in range(0, len(chat), chunking)]))

    async def go() -> tuple[list[str], list[str]]:
        async with AsyncInferenceClient("m", base_url=server.url) as client:
            tokens = [e.token.text async for e in await client.text_generation("p", stream=True)]
            stream = await client.chat_completion([{"role": "user", "content": "hi"}], stream=True)
            deltas = [c.choices[0].delta.content or "" async for c in stream]
            return tokens, deltas

    assert run(go()) == (["a", "b", "c"], ["x", "y"])


def test_async_stream_early_exit_closes(server: ScriptedServer) -> None:
    server.reply(Reply(200, chunks=_endless()))

    async def go() -> None:
        async with (
            AsyncInferenceClient("m", base_url=server.url) as client,
            await client.text_generation("p", stream=True) as stream,
        ):
            async for event in stream:
                if event.token.id == 2:
                    break

    run(go())
    assert _wait_closed(server) == 0


def test_cancellation_closes_the_connection(server: ScriptedServer) -> None:
    release = threading.Event()
    server.handler = lambda _: (release.wait(10), Reply(200, FILL))[1]

    async def go() -> None:
        async with AsyncInferenceClient("m", base_url=server.url) as client:
            task = asyncio.create_task(client.fill_mask("a [MASK]."))
            while not server.received:
                await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    try:
        run(go())
        assert _wait_closed_after(server, release) == 0
    finally:
        release.set()


def _wait_closed_after(server: ScriptedServer, release: threading.Event) -> int:
    # the server thread is still blocked in the handler; once released its write fails on the closed socket
    release.set()
    return _wait_closed(server)


def _delayed_echo(request: Received) -> Reply:
    time.sleep(random.uniform(0, 0.02))
    text = request.json()["inputs"]
    if "fail" in text:
        return Reply(400, {"error": f"bad input {text}"})
    return Reply(200, [{"sequence": text, "score": 0.1, "token": 1, "token_str": "x"}])


def test_sync_map_keeps_order_and_reports_failures(server: ScriptedServer) -> None:
    server.handler = _delayed_echo
    texts = [f"text {i} [MASK]" if i % 7 else f"fail {i}" for i in range(40)]
    with InferenceClient("m", base_url=server.url) as client:
        results = client.map(client.fill_mask, texts, concurrency=8)
    for text, result in zip(texts, results, strict=True):
        if text.startswith("fail"):
            assert isinstance(result, ti.BadRequestError) and text in str(result)
        else:
            assert not isinstance(result, Exception) and result[0].sequence == text


def test_async_map_keeps_order_and_bounds_concurrency(server: ScriptedServer) -> None:
    in_flight = 0
    peak = 0
    lock = threading.Lock()

    def handler(request: Received) -> Reply:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        try:
            return _delayed_echo(request)
        finally:
            with lock:
                in_flight -= 1

    server.handler = handler
    texts = [f"text {i} [MASK]" if i % 5 else f"fail {i}" for i in range(30)]

    async def go() -> list[Any]:
        async with AsyncInferenceClient("m", base_url=server.url) as client:
            return await client.map(client.fill_mask, texts, concurrency=4)

    results = run(go())
    assert peak <= 4
    assert [isinstance(r, ti.BadRequestError) for r in results] == [t.startswith("fail") for t in texts]
    assert [r[0].sequence for r in results if not isinstance(r, Exception)] == [
        t for t in texts if not t.startswith("fail")
    ]


def test_map_raises_when_asked(server: ScriptedServer) -> None:
    server.handler = _delayed_echo
    with InferenceClient("m", base_url=server.url) as client, pytest.raises(ti.BadRequestError):
        client.map(client.fill_mask, ["ok [MASK]", "fail"], return_exceptions=False)


def test_map_batches_feature_extraction(server: ScriptedServer) -> None:
    def embed(request: Received) -> Reply:
        inputs = request.json()["inputs"]
        return Reply(200, [[float(len(text)), 0.0] for text in inputs])

    server.handler = embed
    texts = ["a" * i for i in range(1, 11)]
    with InferenceClient("m", base_url=server.url) as client:
        results = client.map(client.feature_extraction, texts, batch_size=4, concurrency=2)
    assert len(server.received) == 3
    assert sorted(len(json.loads(r.body)["inputs"]) for r in server.received) == [2, 4, 4]
    assert results == [[[float(i), 0.0]] for i in range(1, 11)]


def test_map_takes_a_list_input_as_one_input(server: ScriptedServer) -> None:
    answer = {
        "id": "c1",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "system_fingerprint": "x",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "hi"}}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
    server.handler = lambda _request: Reply(200, answer)
    conversations = [[{"role": "user", "content": "hello"}], [{"role": "user", "content": "bye"}]]
    with InferenceClient("m", base_url=server.url) as client:
        chats = client.map(client.chat_completion, conversations)
        assert [type(r).__name__ for r in chats] == ["ChatCompletionOutput", "ChatCompletionOutput"]
        server.handler = lambda request: Reply(200, [[1.0, 2.0]] * len(request.json()["inputs"]))
        embedded: list[Any] = client.map(client.feature_extraction, [["a", "b"], ["c"]])
    assert embedded == [[[[1.0, 2.0]], [[1.0, 2.0]]], [[[1.0, 2.0]]]]
    assert len(server.received) == 4


def test_map_object_inputs_and_progress(server: ScriptedServer, capsys: pytest.CaptureFixture[str]) -> None:
    server.handler = lambda r: Reply(200, {"answer": r.json()["inputs"]["question"], "score": 1, "start": 0, "end": 1})
    items = [{"question": f"q{i}", "context": "c"} for i in range(5)]
    with InferenceClient("m", base_url=server.url) as client:
        results = client.map(client.question_answering, items, progress=True)
    assert [r[0].answer for r in results if not isinstance(r, Exception)] == [f"q{i}" for i in range(5)]
    assert "typed-inference: 5/5" in capsys.readouterr().err


def test_map_batch_size_rejected_for_other_tasks(server: ScriptedServer) -> None:
    with InferenceClient("m", base_url=server.url) as client, pytest.raises(ti.RequestValidationError):
        client.map(client.text_generation, ["a"], batch_size=2)


@pytest.mark.parametrize("task", sorted(EXAMPLES))
def test_every_async_method_matches_its_sync_twin(task: str) -> None:
    server = MockServer()  # what each client sends and makes of the answer; the wire is covered above
    example = EXAMPLES[task]
    for _ in range(2):
        serve(server, example.response, example.response_content_type)
    method = method_name(task)
    with InferenceClient(base_url=server.url, token="hf_t", transport=server.transport) as sync:
        expected = getattr(sync, method)(*example.args, **example.kwargs)

    async def go() -> Any:
        async with AsyncInferenceClient(base_url=server.url, token="hf_t", transport=server.async_transport) as client:
            return await getattr(client, method)(*example.args, **example.kwargs)

    result = run(go())
    assert type(result) is type(expected)
    assert dump(result) == dump(expected)
    sync_request, async_request = server.received
    assert (async_request.path, async_request.body) == (sync_request.path, sync_request.body)
    assert async_request.headers["content-type"] == sync_request.headers["content-type"]
    assert async_request.headers["authorization"] == sync_request.headers["authorization"]
