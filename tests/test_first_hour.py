"""What a new user meets in the first hour of the library: the README's promises about errors, readable validation
errors, results as JSON, readable streams, visible retries and a refused connection that says what to check."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import threading
from typing import Any

import pytest

from tests.server import Received, Reply, ScriptedServer
from tests.test_streaming import tgi_events
from typed_inference import (
    APIConnectionError,
    AsyncInferenceClient,
    InferenceClient,
    RequestValidationError,
    to_jsonable,
    validate,
)
from typed_inference._binary import BinaryOutput

FILL = [{"sequence": "the goal of life is life.", "score": 0.109, "token": 2166, "token_str": "life"}]


# -- 5. TypeError for an unknown keyword, RequestValidationError for a bad value -----------------------------------


def test_misspelt_keyword_is_a_type_error_and_bad_value_a_validation_error(
    server: ScriptedServer, client: InferenceClient
) -> None:
    with pytest.raises(TypeError, match="unexpected keyword argument 'top_kk'"):
        client.fill_mask("a [MASK].", model="m", top_kk=3)  # type: ignore[call-overload]
    with pytest.raises(RequestValidationError) as caught:
        client.fill_mask("a [MASK].", model="m", top_k="3")  # type: ignore[call-overload]
    assert str(caught.value) == (
        "fill-mask: invalid request:\n  parameters.top_k: Input should be a valid integer; found '3' (str)"
    )
    assert server.received == []  # neither reached the server


# -- 6. several allowed types: one clear line ----------------------------------------------------------------------


def test_a_wrong_role_is_one_line_without_other_branches_noise(client: InferenceClient) -> None:
    with pytest.raises(RequestValidationError) as caught:
        client.chat_completion([{"role": "usr", "content": "hi"}], model="m")  # type: ignore[list-item]
    assert str(caught.value) == (
        "chat-completion: invalid request:\n  messages[0].role: Input should be 'system' or 'user' or 'assistant' or"
        " 'tool'; found 'usr' (str)"
    )
    report = validate("chat-completion", {"messages": [{"role": "usr", "content": "hi"}]})
    assert [(p.path, p.message) for p in report.errors] == [
        ("messages[0].role", "Input should be 'system' or 'user' or 'assistant' or 'tool'; found 'usr' (str)")
    ]


def test_the_branch_a_role_picks_reports_its_own_errors(client: InferenceClient) -> None:
    with pytest.raises(RequestValidationError) as caught:
        client.chat_completion([{"role": "user", "content": 5}], model="m")  # type: ignore[list-item]
    assert str(caught.value) == (
        "chat-completion: invalid request:\n  messages[0].content: Input should be a valid string or a valid list;"
        " found 5 (int)"
    )
    with pytest.raises(RequestValidationError) as tool:
        client.chat_completion([{"role": "tool", "content": "42"}], model="m")  # type: ignore[list-item]
    assert str(tool.value) == "chat-completion: invalid request:\n  messages[0].tool_call_id: required field missing"
    with pytest.raises(RequestValidationError) as scalar:
        client.feature_extraction(3, model="m")  # type: ignore[call-overload]
    assert str(scalar.value).splitlines()[1:] == [
        "  inputs: Input should be a valid string or a valid list; found 3 (int)"
    ]


# -- 7. results as JSON, readable streams ---------------------------------------------------------------------------


def test_to_jsonable_takes_any_typed_result(server: ScriptedServer, client: InferenceClient) -> None:
    server.json([{**FILL[0], "extra": "kept"}])
    candidates = client.fill_mask("a [MASK].", model="m")
    assert json.loads(json.dumps(to_jsonable(candidates))) == [{**FILL[0], "extra": "kept"}]
    server.json([FILL, FILL])
    nested = client.fill_mask(["a [MASK].", "b [MASK]."], model="m")
    assert to_jsonable(nested) == [FILL, FILL]
    image = BinaryOutput(b"\x89PNG\r\n\x1a\n", "image/png")
    assert to_jsonable(image) == {"content_type": "image/png", "base64": "iVBORw0KGgo="}
    assert to_jsonable([1, "a", None]) == [1, "a", None]


def test_streams_have_a_readable_repr(server: ScriptedServer, client: InferenceClient) -> None:
    server.reply(Reply(200, chunks=[tgi_events(["a", "b"])], headers={"Content-Type": "text/event-stream"}))
    stream = client.text_generation("x", model="m", stream=True)
    assert repr(stream) == "<Stream of text-generation events: open>"
    assert [event.token.text for event in stream] == ["a", "b"]
    assert repr(stream) == "<Stream of text-generation events: finished>"
    server.reply(Reply(200, chunks=[tgi_events(["a", "b"])], headers={"Content-Type": "text/event-stream"}))
    stream = client.text_generation("x", model="m", stream=True)
    stream.close()
    assert repr(stream) == "<Stream of text-generation events: closed>"

    async def main() -> str:
        async with AsyncInferenceClient(base_url=server.url) as async_client:
            events = await async_client.text_generation("x", model="m", stream=True)
            text = repr(events)
            await events.aclose()
            return text

    server.reply(Reply(200, chunks=[tgi_events(["a"])], headers={"Content-Type": "text/event-stream"}))
    assert asyncio.run(main()) == "<AsyncStream of text-generation events: open>"


# -- 3. retries visible at INFO on the `typed_inference` logger, never a token --------------------------------------


def test_each_retry_is_logged_at_info_without_the_token(
    server: ScriptedServer, client: InferenceClient, caplog: pytest.LogCaptureFixture
) -> None:
    server.reply(
        Reply(429, {"error": "rate limited (token hf_test_secret_token)"}, {"Retry-After": "1.2"}),
        Reply(503, {"error": "overloaded"}, {"Retry-After": "2"}),
        Reply(200, FILL),
    )
    with caplog.at_level(logging.DEBUG, logger="typed_inference"):
        client.fill_mask("a [MASK].", model="x")
    retries = [r for r in caplog.records if r.levelno == logging.INFO]
    assert [r.getMessage() for r in retries] == [
        f"retrying POST {server.url}/models/x in 1.2 s (attempt 2 of 3): 429 rate limited (token ***)",
        f"retrying POST {server.url}/models/x in 2.0 s (attempt 3 of 3): 503 overloaded",
    ]
    assert all(r.name == "typed_inference" for r in retries)
    assert not any("hf_test_secret_token" in r.getMessage() for r in caplog.records)
    assert len(server.received) == 3


def test_the_environment_switch_prints_retries_on_stderr(server: ScriptedServer) -> None:
    server.reply(Reply(503, {"error": "busy"}, {"Retry-After": "0"}), Reply(200, FILL))
    program = (
        "from typed_inference import InferenceClient\n"
        f"InferenceClient(base_url={server.url!r}, token='hf_secret_in_env').fill_mask('a [MASK].', model='x')\n"
    )
    env = {**os.environ, "TYPED_INFERENCE_LOG": "info"}
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, env=env, timeout=60, check=False)
    err = done.stderr.decode()
    assert done.returncode == 0, err
    assert f"typed_inference: INFO: retrying POST {server.url}/models/x in 0.0 s (attempt 2 of 3): 503 busy" in err
    assert "hf_secret_in_env" not in err
    quiet = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, env={**os.environ}, timeout=60, check=False
    )
    assert len(server.received) == 3 and quiet.returncode == 1  # no reply left: the default 500, not retried
    assert "retrying" not in quiet.stderr.decode()


# -- 4. a refused connection says what to check, on both clients ----------------------------------------------------


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens there any more: connecting is refused


def test_a_refused_loopback_connection_asks_whether_the_server_runs() -> None:
    port = _closed_port()
    expected = f"connection refused by 127.0.0.1:{port}: is the server running?"
    client = InferenceClient(base_url=f"http://127.0.0.1:{port}", max_retries=0)
    with client, pytest.raises(APIConnectionError) as sync_error:
        client.fill_mask("a [MASK].", model="x")

    async def main() -> APIConnectionError:
        async with AsyncInferenceClient(base_url=f"http://127.0.0.1:{port}", max_retries=0) as async_client:
            try:
                await async_client.fill_mask("a [MASK].", model="x")
            except APIConnectionError as exc:
                return exc
        raise AssertionError("no error")

    async_error = asyncio.run(main())
    assert str(sync_error.value) == str(async_error) == f"{expected} (http://127.0.0.1:{port}/models/x, attempt 1)"


def test_a_refused_remote_connection_names_the_address_only() -> None:
    from typed_inference._transport import connect_reason

    refused = OSError("All connection attempts failed")
    refused.__cause__ = ConnectionRefusedError(111, "Connection refused")
    assert connect_reason(refused, "https://example.org/models/x") == "connection refused by example.org:443"
    other = OSError("All connection attempts failed")
    other.__cause__ = OSError(-2, "Name or service not known")
    assert connect_reason(other, "https://example.org/models/x") == (
        "All connection attempts failed: [Errno -2] Name or service not known"
    )


# -- 1. imap, and a map that stops at once ------------------------------------------------------------------------


def _answer_or_hold(held: set[str]) -> Any:
    """A handler answering fill-mask requests at once, except those whose input is in `held` (kept in flight)."""

    def handle(request: Received) -> Reply:
        if request.json()["inputs"] in held:
            return Reply(hold=True)
        return Reply(200, FILL)

    return handle


def _interrupt_main_after(server: ScriptedServer, count: int) -> threading.Thread:
    """Sends SIGINT to the main thread once the server has seen `count` requests (as Ctrl-C would)."""

    def watch() -> None:
        while len(server.received) < count:
            threading.Event().wait(0.01)
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def _wait_until_closed(server: ScriptedServer) -> None:
    """Waits (bounded) until the server has no open connection left."""
    for _ in range(1000):
        if server.open_connections == 0:
            return
        threading.Event().wait(0.01)
    raise AssertionError(f"{server.open_connections} connection(s) still open")


def test_imap_yields_each_result_with_its_index_as_it_completes(server: ScriptedServer) -> None:
    server.handler = _answer_or_hold(set())
    texts = [f"{i} [MASK]." for i in range(5)]
    with InferenceClient("m", base_url=server.url) as client:
        seen = dict(client.imap(client.fill_mask, texts, concurrency=2))
        assert sorted(seen) == [0, 1, 2, 3, 4]
        assert all(to_jsonable(result) == FILL for result in seen.values())
        # a list given as one input stays one input; only batch_size groups are split
        server.handler = lambda request: Reply(200, [FILL] * len(request.json()["inputs"]))
        grouped = dict(client.imap(client.fill_mask, [texts[:2], texts[2:]]))
        assert [len(grouped[0]), len(grouped[1])] == [2, 3]  # type: ignore[arg-type]
        batched = dict(client.imap(client.fill_mask, texts, batch_size=2))
        assert sorted(batched) == [0, 1, 2, 3, 4] and len(server.received) == 5 + 2 + 3


def test_ctrl_c_stops_map_at_once_and_closes_the_connections_in_flight(server: ScriptedServer) -> None:
    texts = [f"{i} [MASK]." for i in range(20)]
    server.handler = _answer_or_hold(set(texts[3:]))  # three answers, then requests that never get one
    with InferenceClient("m", base_url=server.url, timeout=30) as client:
        watcher = _interrupt_main_after(server, 5)
        with pytest.raises(KeyboardInterrupt):
            client.map(client.fill_mask, texts, concurrency=2)
        watcher.join(timeout=10)
        _wait_until_closed(server)
        assert len(server.received) == 5  # no request after the interrupt
        # the client still works afterwards
        server.handler = _answer_or_hold(set())
        assert to_jsonable(client.fill_mask("a [MASK].")) == FILL


def test_cancelling_async_map_closes_the_connections_in_flight(server: ScriptedServer) -> None:
    texts = [f"{i} [MASK]." for i in range(20)]
    server.handler = _answer_or_hold(set(texts[3:]))
    yielded: list[int] = []

    async def main() -> None:
        async with AsyncInferenceClient("m", base_url=server.url, timeout=30) as client:

            async def consume() -> None:
                async for index, _ in client.imap(client.fill_mask, texts, concurrency=2):
                    yielded.append(index)

            task = asyncio.ensure_future(consume())
            while len(server.received) < 5:
                await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    asyncio.run(main())
    _wait_until_closed(server)
    assert len(server.received) == 5 and sorted(yielded) == [0, 1, 2]


# -- issue 32.1: `typed-inference wait URL` between `serve &` and the first call ------------------------------------


def _wait(*args: str) -> subprocess.CompletedProcess[str]:
    """`typed-inference wait ARGS...` as a process."""
    command = [sys.executable, "-m", "typed_inference.cli", "wait", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def test_wait_returns_once_health_answers(server: ScriptedServer) -> None:
    server.reply(Reply(503, {"error": "starting"}), Reply(200, {"status": "loading"}))
    done = _wait(server.url)
    assert done.returncode == 0, done.stderr
    assert done.stderr == f"typed-inference wait: {server.url} is up (models: loading)\n"
    assert [(r.method, r.path) for r in server.received] == [("GET", "/health")] * 2  # polled past the 503


def test_wait_loaded_waits_for_the_models_too(server: ScriptedServer) -> None:
    server.reply(Reply(200, {"status": "loading"}), Reply(200, {"status": "loading"}), Reply(200, {"status": "ok"}))
    done = _wait(server.url + "/", "--loaded")
    assert done.returncode == 0, done.stderr
    assert "(models: ok)" in done.stderr and len(server.received) == 3


def test_wait_times_out_with_exit_1_saying_what_it_saw() -> None:
    port = _closed_port()
    done = _wait(f"http://127.0.0.1:{port}", "--timeout", "0.3")
    assert done.returncode == 1
    assert done.stderr == (
        f"typed-inference wait: http://127.0.0.1:{port}/health did not answer within 0.3 s (last: connection refused)\n"
    )
    assert _wait("not-a-url").returncode == 2  # a usage error, as every command's


# -- issue 32.2: the documentation from the package, for pip users ---------------------------------------------------


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    """`typed-inference ARGS...` as a process."""
    command = [sys.executable, "-m", "typed_inference.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def test_docs_lists_the_topics_and_prints_one() -> None:
    from pathlib import Path

    docs = Path(__file__).resolve().parent.parent / "docs"
    listing = _cli("docs")
    assert listing.returncode == 0, listing.stderr
    names = [line.split()[0] for line in listing.stdout.splitlines()[: len(list(docs.glob("*.md"))) + 1]]
    assert names == ["readme", *sorted(p.stem for p in docs.glob("*.md"))]
    assert "server       The local server" in listing.stdout
    shown = _cli("docs", "server")
    assert shown.returncode == 0 and shown.stdout == (docs / "server.md").read_text()
    assert _cli("docs", "CLI.md").stdout == (docs / "cli.md").read_text()
    typo = _cli("docs", "sever")
    assert typo.returncode == 2 and "unknown topic 'sever'; did you mean 'server'?" in typo.stderr


# -- issue 32.8: `call` prints numbers compactly -------------------------------------------------------------------


def test_call_prints_an_embedding_on_one_line_and_objects_indented(server: ScriptedServer) -> None:
    server.handler = lambda request: Reply(200, [[0.25] * 384] if "embed" in request.path else FILL)
    embedded = _cli("call", "feature-extraction", "--model", "embed", "--input", "Hello", "--base-url", server.url)
    assert embedded.returncode == 0, embedded.stderr
    assert embedded.stdout == json.dumps([[0.25] * 384]) + "\n"  # one line, not one number a line
    filled = _cli("call", "fill-mask", "--model", "m", "--input", "a [MASK].", "--base-url", server.url)
    assert filled.returncode == 0 and filled.stdout == json.dumps(FILL, indent=2) + "\n"
