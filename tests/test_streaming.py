"""Streaming text generation and chat completion: SSE in awkward chunkings, error events, early exit, cut streams."""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

import typed_inference as ti
from tests.server import Reply, ScriptedServer
from typed_inference import InferenceClient
from typed_inference.types import ChatCompletionOutput, ChatCompletionStreamOutput, TextGenerationStreamOutput
from typed_inference.types.params import ChatCompletionInputToolParam


def tgi_events(words: list[str], *, space: bool = True) -> bytes:
    out = []
    for i, word in enumerate(words):
        last = i == len(words) - 1
        event = {
            "index": i + 1,
            "token": {"id": 100 + i, "text": word, "logprob": -0.5, "special": False},
            "generated_text": "".join(words) if last else None,
            "details": {"finish_reason": "length", "generated_tokens": len(words), "seed": None} if last else None,
        }
        out.append(b"data:" + (b" " if space else b"") + json.dumps(event).encode() + b"\n\n")
    return b"".join(out)


def chat_chunks(words: list[str]) -> bytes:
    out = []
    for i, word in enumerate(words):
        chunk = {
            "id": "",
            "object": "chat.completion.chunk",
            "created": 1700000000,
            "model": "org/model",
            "system_fingerprint": "3.0.0-sha",
            "choices": [
                {
                    "index": 0,
                    "delta": {"role": "assistant", "content": word},
                    "logprobs": None,
                    "finish_reason": "stop" if i == len(words) - 1 else None,
                }
            ],
        }
        out.append(b"data: " + json.dumps(chunk).encode() + b"\r\n\r\n")
    return b"".join(out) + b"data: [DONE]\r\n\r\n"


def split(body: bytes, how: str) -> list[bytes]:
    if how == "bytewise":
        return [body[i : i + 1] for i in range(len(body))]
    if how == "whole":
        return [body]
    return [body[i : i + 7] for i in range(0, len(body), 7)]


@pytest.fixture
def client(server: ScriptedServer) -> Iterator[InferenceClient]:
    with InferenceClient("org/model", base_url=server.url, token="hf_t") as c:
        yield c


@pytest.mark.parametrize("how", ["bytewise", "sevens", "whole"])
@pytest.mark.parametrize("space", [True, False])
def test_text_generation_stream(server: ScriptedServer, client: InferenceClient, how: str, space: bool) -> None:
    body = tgi_events(["Hello", ",", " world"], space=space)
    server.reply(Reply(200, chunks=split(body, how), headers={"Content-Type": "text/event-stream"}))
    events = list(client.text_generation("Say hi", max_new_tokens=3, stream=True))
    assert [e.token.text for e in events] == ["Hello", ",", " world"]
    assert all(isinstance(e, TextGenerationStreamOutput) for e in events)
    assert events[-1].generated_text == "Hello, world"
    assert events[-1].details is not None and events[-1].details.finish_reason == "length"
    sent = server.last.json()
    assert sent == {"inputs": "Say hi", "parameters": {"max_new_tokens": 3}, "stream": True}
    assert server.last.headers["accept"] == "text/event-stream"


@pytest.mark.parametrize("how", ["bytewise", "sevens", "whole"])
def test_chat_stream_ends_at_done(server: ScriptedServer, client: InferenceClient, how: str) -> None:
    server.reply(Reply(200, chunks=split(chat_chunks(["The", " answer"]), how)))
    stream = client.chat_completion([{"role": "user", "content": "hi"}], max_tokens=5, stream=True)
    chunks = list(stream)
    assert all(isinstance(c, ChatCompletionStreamOutput) for c in chunks)
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "The answer"
    assert server.last.path == "/models/org/model/v1/chat/completions"
    assert server.last.json() == {
        "model": "org/model",
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 5,
        "stream": True,
    }


def test_chat_non_streaming_with_deviations(server: ScriptedServer, client: InferenceClient) -> None:
    server.json(
        {
            "id": "",
            "object": "text_completion",
            "created": 1700000000,
            "model": "tgi",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "tool_calls",
                    "message": {
                        "role": "assistant",
                        "tool_calls": [
                            {
                                "id": 0,
                                "type": "function",
                                "function": {"name": "get_weather", "parameters": {"city": "Paris"}},
                            }
                        ],
                    },
                }
            ],
            "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12},
        }
    )
    tools: list[ChatCompletionInputToolParam] = [
        {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}
    ]
    out = client.chat_completion([{"role": "user", "content": "Weather in Paris?"}], tools=tools, tool_choice="auto")
    assert isinstance(out, ChatCompletionOutput)
    calls = out.choices[0].message.tool_calls
    assert calls is not None
    assert calls[0].id == "0"
    assert json.loads(calls[0].function.arguments) == {"city": "Paris"}
    assert server.last.json()["tools"] == tools


def test_response_format_from_a_pydantic_model(server: ScriptedServer, client: InferenceClient) -> None:
    class Weather(BaseModel):
        city: str
        celsius: float

    server.json(
        {
            "id": "x",
            "object": "chat.completion",
            "created": 1,
            "model": "m",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": '{"city": "Paris", "celsius": 21.5}'},
                }
            ],
        }
    )
    out = client.chat_completion([{"role": "user", "content": "weather?"}], response_format=Weather)
    assert Weather.model_validate_json(out.choices[0].message.content or "") == Weather(city="Paris", celsius=21.5)
    sent = server.last.json()["response_format"]
    assert sent["type"] == "json_schema"
    assert sent["json_schema"]["name"] == "Weather"
    assert sent["json_schema"]["schema"] == Weather.model_json_schema()


def test_error_event_raises_stream_error(server: ScriptedServer, client: InferenceClient) -> None:
    body = tgi_events(["a", "b", "c"]).split(b"\n\n")[0] + b"\n\n"
    body += (
        b'data:{"error":"Request failed during generation: Server error: out of memory","error_type":"generation"}\n\n'
    )
    server.reply(Reply(200, chunks=[body]))
    stream = client.text_generation("x", stream=True)
    assert next(stream).token.text == "a"
    with pytest.raises(ti.StreamError) as err:
        next(stream)
    assert err.value.error_type == "generation"
    assert "out of memory" in str(err.value)


def test_stream_cut_before_final_event(server: ScriptedServer, client: InferenceClient) -> None:
    body = tgi_events(["a", "b", "c"])
    cut = body[: body.rindex(b"data:") + 30]  # the last event is cut in the middle
    server.reply(Reply(200, chunks=[cut]))
    with pytest.raises(ti.IncompleteStreamError):
        list(client.text_generation("x", stream=True))


def test_chat_stream_without_done(server: ScriptedServer, client: InferenceClient) -> None:
    # closed before [DONE] and before any chunk with a finish_reason (which would end it: see test_sse_framing.py)
    body = chat_chunks(["a", "b"]).split(b"\r\n\r\n")[0] + b"\r\n\r\n"
    server.reply(Reply(200, chunks=[body]))
    with pytest.raises(ti.IncompleteStreamError, match=r"\[DONE\]"):
        list(client.chat_completion([{"role": "user", "content": "hi"}], stream=True))


def _endless() -> Iterator[bytes]:
    for i in range(100_000):
        event = {"token": {"id": i, "text": "x", "logprob": 0.0, "special": False}, "generated_text": None}
        yield b"data:" + json.dumps(event).encode() + b"\n\n"
        time.sleep(0.001)


def _wait_closed(server: ScriptedServer) -> int:
    deadline = time.monotonic() + 5
    while server.open_connections and time.monotonic() < deadline:
        time.sleep(0.02)
    return server.open_connections


@pytest.mark.parametrize("how", ["break", "exception", "gc", "with"])
def test_leaving_early_closes_the_connection(server: ScriptedServer, client: InferenceClient, how: str) -> None:
    server.reply(Reply(200, chunks=_endless()))
    if how == "break":
        for event in client.text_generation("x", stream=True):
            if event.token.id == 3:
                break
    elif how == "exception":
        with pytest.raises(RuntimeError):
            for event in client.text_generation("x", stream=True):
                if event.token.id == 3:
                    raise RuntimeError("user code failed")
    elif how == "gc":
        stream: Any = client.text_generation("x", stream=True)
        next(stream)
        del stream
        gc.collect()
    else:
        with client.text_generation("x", stream=True) as stream:
            next(stream)
    assert _wait_closed(server) == 0


def test_error_status_before_stream_is_typed(server: ScriptedServer, client: InferenceClient) -> None:
    server.json({"error": "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 1024"}, 422)
    with pytest.raises(ti.UnprocessableEntityError, match="must be <= 1024"):
        client.text_generation("x", stream=True)


def test_text_generation_list_form(server: ScriptedServer, client: InferenceClient) -> None:
    server.json([{"generated_text": "Hello world", "details": None}])
    assert client.text_generation("Hello").generated_text == "Hello world"
