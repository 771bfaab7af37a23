"""Server-sent events as real servers framed them (issue 15, items 1-3): the parser's rules, its linear cost, and
the end of a stream, each fed as exact bytes through the loopback server to the sync and the async client."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest

import typed_inference as ti
from tests.server import Reply, ScriptedServer
from typed_inference import AsyncInferenceClient, InferenceClient
from typed_inference._streaming import SSEParser

MESSAGES = [{"role": "user", "content": "hi"}]


def tgi_event(i: int, word: str, *, last: bool = False, text: str = "") -> dict[str, Any]:
    return {
        "index": i,
        "token": {"id": 100 + i, "text": word, "logprob": -0.5, "special": False},
        "generated_text": text if last else None,
        "details": {"finish_reason": "length", "generated_tokens": i, "seed": None} if last else None,
    }


def tgi_stream(words: list[str]) -> list[dict[str, Any]]:
    return [tgi_event(i + 1, w, last=i == len(words) - 1, text="".join(words)) for i, w in enumerate(words)]


def chat_chunk(content: str | None, finish: str | None = None, **delta: Any) -> dict[str, Any]:
    return {
        "id": "",
        "object": "chat.completion.chunk",
        "created": 1717430400,
        "model": "tgi",
        "system_fingerprint": "2.0.4-sha-f426a33",
        "choices": [
            {
                "index": 0,
                "delta": {"role": "assistant", "content": content, **delta},
                "logprobs": None,
                "finish_reason": finish,
            }
        ],
    }


def frame(events: list[Any], sep: bytes = b"\n\n", *, tail: bytes | None = None, space: bool = True) -> bytes:
    """Events as `data:` lines separated by `sep`; the last separator is `tail` (default: `sep`)."""
    lines = [
        b"data:" + (b" " if space else b"") + (e if isinstance(e, bytes) else json.dumps(e).encode()) for e in events
    ]
    return sep.join(lines) + (sep if tail is None else tail)


def split(body: bytes, how: str) -> list[bytes]:
    if how == "bytewise":
        return [body[i : i + 1] for i in range(len(body))]
    if how == "whole":
        return [body]
    return [body[i : i + 7] for i in range(0, len(body), 7)]


def run_sync(server: ScriptedServer, method: str, *args: Any, **kwargs: Any) -> tuple[list[Any], Exception | None]:
    """Events read until the stream ends or raises, and what it raised."""
    events: list[Any] = []
    with InferenceClient("org/model", base_url=server.url, token="hf_t") as client:
        try:
            for event in getattr(client, method)(*args, stream=True, **kwargs):
                events.append(event)
        except ti.InferenceError as exc:
            return events, exc
    return events, None


def run_async(server: ScriptedServer, method: str, *args: Any, **kwargs: Any) -> tuple[list[Any], Exception | None]:
    async def go() -> tuple[list[Any], Exception | None]:
        events: list[Any] = []
        async with AsyncInferenceClient("org/model", base_url=server.url, token="hf_t") as client:
            try:
                async for event in await getattr(client, method)(*args, stream=True, **kwargs):
                    events.append(event)
            except ti.InferenceError as exc:
                return events, exc
        return events, None

    return asyncio.run(go())


Runner = Callable[..., tuple[list[Any], Exception | None]]
BOTH = pytest.mark.parametrize("run", [run_sync, run_async], ids=["sync", "async"])


def dumped(events: list[Any]) -> list[Any]:
    return [e.model_dump(mode="json", exclude_unset=True) for e in events]


# -- 1. how streams end ------------------------------------------------------------------------------------------------
@BOTH
@pytest.mark.parametrize("finish", ["length", "eos_token", "stop"])
@pytest.mark.parametrize("how", ["bytewise", "sevens", "whole"])
def test_chat_stream_without_done_ends_at_finish_reason(
    server: ScriptedServer, run: Runner, finish: str, how: str
) -> None:
    """TGI before 2.1: no `data: [DONE]`, the body closes after the chunk whose finish_reason is set."""
    chunks = [chat_chunk("The"), chat_chunk(" answer"), chat_chunk("", finish)]
    server.reply(Reply(200, chunks=split(frame(chunks), how), headers={"Content-Type": "text/event-stream"}))
    events, error = run(server, "chat_completion", MESSAGES)
    assert error is None
    assert dumped(events) == chunks
    assert events[-1].choices[0].finish_reason == finish


@BOTH
def test_chat_stream_usage_chunk_after_finish_reason_without_done(server: ScriptedServer, run: Runner) -> None:
    """A usage chunk (no choices) after the finish_reason chunk, then the close: complete, nothing lost."""
    usage = {
        **chat_chunk(None),
        "choices": [],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
    }
    chunks = [chat_chunk("Hi"), chat_chunk("!", "stop"), usage]
    server.reply(Reply(200, chunks=[frame(chunks)]))
    events, error = run(server, "chat_completion", MESSAGES)
    assert error is None and len(events) == 3
    assert events[2].usage is not None and events[2].usage.total_tokens == 5


@BOTH
def test_chat_stream_closed_before_finish_reason_is_incomplete(server: ScriptedServer, run: Runner) -> None:
    server.reply(Reply(200, chunks=[frame([chat_chunk("The"), chat_chunk(" answer")])]))
    events, error = run(server, "chat_completion", MESSAGES)
    assert len(events) == 2
    assert isinstance(error, ti.IncompleteStreamError)
    assert "data: [DONE]" in str(error) and "choices.0.finish_reason" in str(error)


@BOTH
def test_chat_stream_with_done_still_ends_at_done(server: ScriptedServer, run: Runner) -> None:
    chunks = [chat_chunk("a"), chat_chunk("b", "stop")]
    server.reply(Reply(200, chunks=[frame([*chunks, b"[DONE]"])]))
    events, error = run(server, "chat_completion", MESSAGES)
    assert error is None and dumped(events) == chunks


@BOTH
def test_text_generation_stream_ends_after_generated_text(server: ScriptedServer, run: Runner) -> None:
    """(regression) The event carrying generated_text and details is the last one; the body closes after it."""
    events_sent = tgi_stream(["Hello", ",", " world"])
    server.reply(Reply(200, chunks=[frame(events_sent)]))
    events, error = run(server, "text_generation", "Say hi")
    assert error is None
    assert [e.token.text for e in events] == ["Hello", ",", " world"]
    assert events[-1].generated_text == "Hello, world" and events[-1].details is not None


@BOTH
def test_text_generation_stream_closed_before_final_event_is_incomplete(server: ScriptedServer, run: Runner) -> None:
    server.reply(Reply(200, chunks=[frame(tgi_stream(["a", "b", "c"])[:2])]))
    events, error = run(server, "text_generation", "x")
    assert len(events) == 2
    assert isinstance(error, ti.IncompleteStreamError) and "generated_text" in str(error)


# -- 2. framing --------------------------------------------------------------------------------------------------------
FRAMINGS = {
    "blank line": (b"\n\n", None),
    "blank line, CRLF": (b"\r\n\r\n", None),
    "blank line, CR": (b"\r\r", None),
    "single LF": (b"\n", None),
    "single CRLF": (b"\r\n", None),
    "single LF, no newline at the end": (b"\n", b""),
    "blank line, no newline at the end": (b"\n\n", b""),
    "single LF, trailing space": (b"\n", b" "),
    "blank line, one newline at the end": (b"\n\n", b"\n"),
}


@BOTH
@pytest.mark.parametrize("framing", sorted(FRAMINGS))
@pytest.mark.parametrize("how", ["bytewise", "sevens", "whole"])
def test_text_generation_framings(server: ScriptedServer, run: Runner, framing: str, how: str) -> None:
    sep, tail = FRAMINGS[framing]
    sent = tgi_stream(["Hello", ",", " world"])
    server.reply(Reply(200, chunks=split(frame(sent, sep, tail=tail, space=how != "sevens"), how)))
    events, error = run(server, "text_generation", "Say hi")
    assert error is None
    assert dumped(events) == sent


@BOTH
@pytest.mark.parametrize("framing", sorted(FRAMINGS))
@pytest.mark.parametrize("done", [True, False])
def test_chat_framings(server: ScriptedServer, run: Runner, framing: str, done: bool) -> None:
    sep, tail = FRAMINGS[framing]
    sent = [chat_chunk("The"), chat_chunk(" answer", "stop")]
    server.reply(Reply(200, chunks=split(frame([*sent, b"[DONE]"] if done else sent, sep, tail=tail), "sevens")))
    events, error = run(server, "chat_completion", MESSAGES)
    assert error is None
    assert dumped(events) == sent


@BOTH
def test_multi_line_data_events_are_joined(server: ScriptedServer, run: Runner) -> None:
    """`data:` lines that are not complete JSON on their own are one event (the SSE standard), in any framing."""
    first, last = tgi_stream(["a", "b"])
    text = json.dumps(first, indent=1).encode()
    multi = b"".join(b"data: " + line + b"\n" for line in text.split(b"\n")) + b"\n"
    server.reply(Reply(200, chunks=split(multi + frame([last], tail=b""), "sevens")))
    events, error = run(server, "text_generation", "x")
    assert error is None
    assert dumped(events) == [first, last]


@BOTH
def test_comments_and_other_fields_are_ignored(server: ScriptedServer, run: Runner) -> None:
    first, last = tgi_stream(["a", "b"])
    body = b": keep-alive\nevent: token\nid: 1\n" + frame([first], b"\n") + b"retry: 10\n" + frame([last], b"\n")
    server.reply(Reply(200, chunks=[body]))
    events, error = run(server, "text_generation", "x")
    assert error is None and dumped(events) == [first, last]


@BOTH
@pytest.mark.parametrize("sep", [b"\n", b"\n\n"])
def test_event_truly_cut_at_the_end_is_incomplete(server: ScriptedServer, run: Runner, sep: bytes) -> None:
    body = frame(tgi_stream(["a", "b", "c"]), sep, tail=b"")
    server.reply(Reply(200, chunks=[body[:-20]]))
    events, error = run(server, "text_generation", "x")
    assert len(events) == 2
    assert isinstance(error, ti.IncompleteStreamError)
    assert 'the stream ended inside an event: b\'data: {"index": 3' in str(error)


@BOTH
def test_large_event_in_small_chunks(server: ScriptedServer, run: Runner) -> None:
    big = tgi_event(1, "x" * (4 << 20), last=True, text="y")
    body = frame([big], b"\n", tail=b"")
    server.reply(Reply(200, chunks=[body[i : i + 4096] for i in range(0, len(body), 4096)]))
    events, error = run(server, "text_generation", "x")
    assert error is None and len(events) == 1
    assert len(events[0].token.text) == 4 << 20


# -- the parser's cost: every byte scanned a bounded number of times ---------------------------------------------------
def feed_all(body: bytes, size: int) -> tuple[list[bytes], SSEParser]:
    parser = SSEParser()
    found: list[bytes] = []
    for i in range(0, len(body), size):
        found += parser.feed(body[i : i + size])
    found += parser.end()
    return found, parser


@pytest.mark.parametrize("mib", [4, 16])
@pytest.mark.parametrize("sep", [b"\n\n", b"\n", b""], ids=["blank-line", "single-lf", "no-newline"])
def test_parser_scans_a_large_event_in_linear_time(mib: int, sep: bytes) -> None:
    event = json.dumps(tgi_event(1, "x" * (mib << 20), last=True)).encode()
    body = b"data: " + event + sep
    found, parser = feed_all(body, 1024)
    assert found == [event]
    assert parser.scanned <= 2 * len(body)


def test_parser_scans_many_events_in_linear_time() -> None:
    """Single-`\\n` framing: each line is tried as JSON once; the scan stays linear in the body size."""
    events = [json.dumps(e).encode() for e in tgi_stream(["tok"] * 20_000)]
    for sep in (b"\n", b"\n\n", b"\r\n"):
        body = b"".join(b"data:" + e + sep for e in events)
        found, parser = feed_all(body, 10)
        assert found == events
        assert parser.scanned <= 2 * len(body)


def test_parser_multi_line_event_tries_each_line_once() -> None:
    lines = [b"{", b'"a":', b"[1,", b"2]", b"}"]
    body = b"".join(b"data: " + line + b"\n" for line in lines) + b"\n"
    parser = SSEParser()
    assert parser.feed(body) == [b"\n".join(lines)]
    assert parser.scanned <= 2 * len(body)


def test_parser_cr_split_across_chunks() -> None:
    parser = SSEParser()
    assert parser.feed(b'data: {"a": 1}\r') == []
    assert parser.feed(b"\n\r") == [b'{"a": 1}']
    assert parser.feed(b'\ndata: {"b": 2}') == []
    assert parser.end() == [b'{"b": 2}']


def test_parser_done_at_the_end_without_newline() -> None:
    parser = SSEParser()
    assert parser.feed(b'data: {"a": 1}\ndata: [DONE]') == []  # the [DONE] line has not ended yet
    assert parser.end() == [b'{"a": 1}', b"[DONE]"]


def test_parser_cut_event_raises_at_the_end() -> None:
    parser = SSEParser()
    assert parser.feed(b'data: {"a": 1}\n\ndata: {"b": ') == [b'{"a": 1}']
    with pytest.raises(ti.IncompleteStreamError, match="the stream ended inside an event"):
        parser.end()


# -- 3. error events ---------------------------------------------------------------------------------------------------
ERROR = {"error": "Request failed during generation: Server error: out of memory", "error_type": "generation"}


@BOTH
@pytest.mark.parametrize("framing", sorted(FRAMINGS))
@pytest.mark.parametrize("first", [True, False], ids=["error-first", "after-a-token"])
def test_error_event_raises_stream_error_in_every_framing(
    server: ScriptedServer, run: Runner, framing: str, first: bool
) -> None:
    """(regression) `data: {"error": ..., "error_type": ...}` raises StreamError however the events are framed."""
    sep, tail = FRAMINGS[framing]
    sent = [ERROR] if first else [tgi_stream(["a", "b"])[0], ERROR]
    server.reply(Reply(200, chunks=split(frame(sent, sep, tail=tail), "sevens")))
    events, error = run(server, "text_generation", "x")
    assert len(events) == len(sent) - 1
    assert isinstance(error, ti.StreamError)
    assert error.error_type == "generation" and "out of memory" in str(error)


@BOTH
@pytest.mark.parametrize("sep", [b"\n\n", b"\n"])
def test_chat_error_event_raises_stream_error(server: ScriptedServer, run: Runner, sep: bytes) -> None:
    error_event = {"error": {"message": "Input validation error", "type": "validation"}}
    server.reply(Reply(200, chunks=[frame([chat_chunk("a"), error_event], sep, tail=b"")]))
    events, error = run(server, "chat_completion", MESSAGES)
    assert len(events) == 1
    assert isinstance(error, ti.StreamError) and "Input validation error" in str(error)
