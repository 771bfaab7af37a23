"""What a new user meets in the first hour of the library: the README's promises about errors, readable validation
errors, results as JSON, readable streams, visible retries and a refused connection that says what to check."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.server import Reply, ScriptedServer
from tests.test_streaming import tgi_events
from typed_inference import (
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
        "fill-mask: invalid request: parameters.top_k: Input should be a valid integer; found '3' (str)"
    )
    assert server.received == []  # neither reached the server


# -- 6. several allowed types: one clear line ----------------------------------------------------------------------


def test_a_wrong_role_is_one_line_without_other_branches_noise(client: InferenceClient) -> None:
    with pytest.raises(RequestValidationError) as caught:
        client.chat_completion([{"role": "usr", "content": "hi"}], model="m")
    assert str(caught.value) == (
        "chat-completion: invalid request: messages[0].role: Input should be 'system' or 'user' or 'assistant' or"
        " 'tool'; found 'usr' (str)"
    )
    report = validate("chat-completion", {"messages": [{"role": "usr", "content": "hi"}]})
    assert [(p.path, p.message) for p in report.errors] == [
        ("messages[0].role", "Input should be 'system' or 'user' or 'assistant' or 'tool'; found 'usr' (str)")
    ]


def test_the_branch_a_role_picks_reports_its_own_errors(client: InferenceClient) -> None:
    with pytest.raises(RequestValidationError) as caught:
        client.chat_completion([{"role": "user", "content": 5}], model="m")
    assert str(caught.value) == (
        "chat-completion: invalid request: messages[0].content: Input should be a valid string or a valid list;"
        " found 5 (int)"
    )
    with pytest.raises(RequestValidationError) as tool:
        client.chat_completion([{"role": "tool", "content": "42"}], model="m")
    assert str(tool.value) == "chat-completion: invalid request: messages[0].tool_call_id: required field missing"
    with pytest.raises(RequestValidationError) as scalar:
        client.feature_extraction(3, model="m")  # type: ignore[call-overload]
    assert "\n" not in str(scalar.value) and "a valid string or a valid list; found 3 (int)" in str(scalar.value)


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
