"""Chat, text-generation and feature-extraction answers as real servers sent them (issue 15, items 4-7 and 9), each
fed as exact bytes through the loopback server to the sync and the async client."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from typing_extensions import get_overloads

import typed_inference as ti
from tests.server import Reply, ScriptedServer
from tests.test_sse_framing import chat_chunk, frame
from typed_inference import AsyncInferenceClient, InferenceClient
from typed_inference.types import ChatCompletionOutput

MESSAGES = [{"role": "user", "content": "What is the weather in Paris?"}]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_current_weather",
            "description": "Get the current weather",
            "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]},
        },
    }
]


def run_sync(server: ScriptedServer, method: str, *args: Any, **kwargs: Any) -> Any:
    """The method's result (a list of events for a stream), or the InferenceError it raised."""
    with InferenceClient("org/model", base_url=server.url, token="hf_t") as client:
        try:
            result = getattr(client, method)(*args, **kwargs)
            return list(result) if kwargs.get("stream") else result
        except ti.InferenceError as exc:
            return exc


def run_async(server: ScriptedServer, method: str, *args: Any, **kwargs: Any) -> Any:
    async def go() -> Any:
        async with AsyncInferenceClient("org/model", base_url=server.url, token="hf_t") as client:
            try:
                result = await getattr(client, method)(*args, **kwargs)
                return [e async for e in result] if kwargs.get("stream") else result
            except ti.InferenceError as exc:
                return exc

    return asyncio.run(go())


Runner = Callable[..., Any]
BOTH = pytest.mark.parametrize("run", [run_sync, run_async], ids=["sync", "async"])


def chat_answer(function: dict[str, Any], *, fingerprint: str, tool_id: Any = 0) -> bytes:
    """A non-streamed TGI chat answer with one tool call, as exact bytes (key order as TGI wrote it)."""
    body = {
        "id": "",
        "object": "text_completion",
        "created": 1717430400,
        "model": "meta-llama/Meta-Llama-3-8B-Instruct",
        "system_fingerprint": fingerprint,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "tool_calls": [{"id": tool_id, "type": "function", "function": function}],
                },
                "logprobs": None,
                "finish_reason": "eos_token",
            }
        ],
        "usage": {"prompt_tokens": 212, "completion_tokens": 27, "total_tokens": 239},
    }
    return json.dumps(body).encode()


def only_call(result: Any) -> Any:
    assert isinstance(result, ChatCompletionOutput), result
    calls = result.choices[0].message.tool_calls
    assert calls is not None and len(calls) == 1
    return calls[0]


# -- 4. tool-call arguments are always JSON text -----------------------------------------------------------------------
@BOTH
def test_tgi_2_0_arguments_object_becomes_json_text(server: ScriptedServer, run: Runner) -> None:
    body = (
        b'{"id":"","object":"text_completion","created":1717430400,"model":"meta-llama/Meta-Llama-3-8B-Instruct",'
        b'"system_fingerprint":"2.0.4-sha-f426a33","choices":[{"index":0,"message":{"role":"assistant","tool_calls":'
        b'[{"id":0,"type":"function","function":{"description":null,"name":"get_current_weather","arguments":'
        b'{"location":"Paris, France","format":"celsius","days":3,"nested":{"z":1,"a":[true,null]},'
        b'"city":"Z\xc3\xbcrich"}}}]},'
        b'"logprobs":null,"finish_reason":"eos_token"}],"usage":{"prompt_tokens":212,"completion_tokens":27,'
        b'"total_tokens":239}}'
    )
    server.reply(Reply(200, body, {"Content-Type": "application/json"}))
    call = only_call(run(server, "chat_completion", MESSAGES, tools=TOOLS))
    assert call.id == "0"
    assert call.function.name == "get_current_weather"
    assert call.function.description is None
    assert isinstance(call.function.arguments, str)
    # json.dumps of the object, keys in the order they arrived
    assert call.function.arguments == (
        '{"location": "Paris, France", "format": "celsius", "days": 3, "nested": {"z": 1, "a": [true, null]}, '
        '"city": "Zürich"}'
    )
    assert list(json.loads(call.function.arguments)) == ["location", "format", "days", "nested", "city"]


@BOTH
def test_tgi_1_4_parameters_become_arguments_and_description_is_kept(server: ScriptedServer, run: Runner) -> None:
    """(regression) TGI 1.4.x: `function.parameters` (an object) is the arguments; `description` stays."""
    function = {
        "description": "Get the current weather",
        "name": "tools",
        "parameters": {"location": "Paris, France", "format": "celsius"},
    }
    server.reply(Reply(200, chat_answer(function, fingerprint="1.4.5-sha-4ee0a0c")))
    call = only_call(run(server, "chat_completion", MESSAGES, tools=TOOLS))
    assert call.function.arguments == '{"location": "Paris, France", "format": "celsius"}'
    assert call.function.description == "Get the current weather"
    assert call.function.name == "tools"
    assert "parameters" not in (call.function.model_extra or {})


@BOTH
def test_arguments_string_is_untouched(server: ScriptedServer, run: Runner) -> None:
    text = '{"format":"celsius","location":"Paris"}'  # as the model wrote it, spacing and order included
    server.reply(Reply(200, chat_answer({"name": "get_current_weather", "arguments": text}, fingerprint="3.0.1")))
    assert only_call(run(server, "chat_completion", MESSAGES, tools=TOOLS)).function.arguments == text


@BOTH
@pytest.mark.parametrize("field", ["arguments", "parameters"])
def test_streamed_tool_call_deltas_follow_the_same_rule(server: ScriptedServer, run: Runner, field: str) -> None:
    piece = {"index": 0, "id": "0", "type": "function", "function": {"name": "get_current_weather"}}
    first = chat_chunk(
        None, tool_calls=[{**piece, "function": {"name": "get_current_weather", field: {"b": 1, "a": 2}}}]
    )
    second = chat_chunk(None, tool_calls=[{**piece, "function": {"arguments": "{}"}}])
    last = chat_chunk(None, "eos_token")
    server.reply(Reply(200, chunks=[frame([first, second, last])], headers={"Content-Type": "text/event-stream"}))
    events = run(server, "chat_completion", MESSAGES, tools=TOOLS, stream=True)
    assert isinstance(events, list) and len(events) == 3
    calls = [e.choices[0].delta.tool_calls for e in events[:2]]
    assert calls[0][0].function.arguments == '{"b": 1, "a": 2}'
    assert calls[0][0].function.name == "get_current_weather"
    assert calls[1][0].function.arguments == "{}"


@BOTH
def test_a_stream_event_no_variant_explains_still_fails(server: ScriptedServer, run: Runner) -> None:
    """A tool call's index as text: no variant turns it into a number (a null `arguments`, which this test sent
    before issue 36, now reads as absent)."""
    bad = chat_chunk(None, tool_calls=[{"index": "first", "function": {"arguments": "{}"}}])
    server.reply(Reply(200, chunks=[frame([bad, chat_chunk(None, "stop")])]))
    error = run(server, "chat_completion", MESSAGES, stream=True)
    assert isinstance(error, ti.ResponseValidationError)
    assert "choices[0].delta.tool_calls[0].index" in str(error)


# -- 5. tool_choice as a bare function name; tool_prompt ---------------------------------------------------------------
def plain_answer() -> bytes:
    return json.dumps(
        {
            "id": "",
            "object": "chat.completion",
            "created": 1717430400,
            "model": "tgi",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
        }
    ).encode()


@BOTH
@pytest.mark.parametrize(
    "choice", ["get_current_weather", "auto", {"type": "function", "function": {"name": "get_current_weather"}}]
)
def test_tool_choice_bare_name_is_sent_as_given(server: ScriptedServer, run: Runner, choice: Any) -> None:
    server.reply(Reply(200, plain_answer()))
    result = run(server, "chat_completion", MESSAGES, tools=TOOLS, tool_choice=choice, tool_prompt="Use a tool:")
    assert isinstance(result, ChatCompletionOutput)
    sent = server.last.json()
    assert sent["tool_choice"] == choice
    assert sent["tool_prompt"] == "Use a tool:"
    assert sent["tools"] == TOOLS


# -- 7. 400: model_kwargs not used by the model ------------------------------------------------------------------------
UNUSED = (
    b"{\"error\":\"The following `model_kwargs` are not used by the model: ['watermark', 'stop'] "
    b'(note: typos in the generate arguments will also show up in this list)","warnings":[]}'
)


@BOTH
def test_unused_model_kwargs_is_a_bad_request_naming_them(server: ScriptedServer, run: Runner) -> None:
    server.reply(Reply(400, UNUSED, {"Content-Type": "application/json"}))
    error = run(server, "text_generation", "Hello", max_new_tokens=5, watermark=True, stop=["\n"])
    assert isinstance(error, ti.BadRequestError)
    assert error.unused_parameters == ["watermark", "stop"]
    assert "does not use the parameters watermark, stop: call again without them" in str(error)
    assert error.status_code == 400
    # nothing the user passed was dropped
    assert server.last.json() == {
        "inputs": "Hello",
        "parameters": {"max_new_tokens": 5, "watermark": True, "stop": ["\n"]},
    }
    assert len(server.received) == 1  # a 400 is not retried


@BOTH
def test_other_bad_requests_name_no_parameters(server: ScriptedServer, run: Runner) -> None:
    server.reply(Reply(400, b'{"error":"Error in `inputs`: field required"}'))
    error = run(server, "text_generation", "Hello")
    assert isinstance(error, ti.BadRequestError)
    assert error.unused_parameters == []
    assert "call again without" not in str(error)


# -- 9. feature-extraction token embeddings ----------------------------------------------------------------------------
TOKENS_A = [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9]]
TOKENS_B = [[1.1, 1.2, 1.3], [1.4, 1.5, 1.6]]


@BOTH
def test_token_embeddings_of_a_batch(server: ScriptedServer, run: Runner) -> None:
    """[n][1][tokens][dims] for n texts (facebook/bart-base) → n tokens × dims matrices."""
    server.reply(Reply(200, json.dumps([[TOKENS_A], [TOKENS_B]]).encode()))
    result = run(server, "feature_extraction", ["Hello world !", "Hi !"])
    assert result == [TOKENS_A, TOKENS_B]
    assert server.last.json() == {"inputs": ["Hello world !", "Hi !"]}


@BOTH
def test_token_embeddings_of_one_text(server: ScriptedServer, run: Runner) -> None:
    """(regression) [1][tokens][dims] for one text → its tokens × dims matrix."""
    server.reply(Reply(200, json.dumps([TOKENS_A]).encode()))
    assert run(server, "feature_extraction", "Hello world !") == TOKENS_A


@BOTH
def test_pooled_embeddings_stay_one_row_per_text(server: ScriptedServer, run: Runner) -> None:
    server.reply(Reply(200, json.dumps([TOKENS_B[0], TOKENS_B[1]]).encode()))
    assert run(server, "feature_extraction", ["a", "b"]) == [[TOKENS_B[0]], [TOKENS_B[1]]]


@BOTH
def test_four_deep_with_several_rows_per_text_is_rejected(server: ScriptedServer, run: Runner) -> None:
    server.reply(Reply(200, json.dumps([[TOKENS_A, TOKENS_B]]).encode()))
    error = run(server, "feature_extraction", ["a"])
    assert isinstance(error, ti.ResponseValidationError)


def test_feature_extraction_returns_are_plain_lists() -> None:
    """jedi cannot see through a TypeAliasType: the methods' returns are spelt out, and the docstring states the
    shape rule."""
    from typed_inference._generated.async_methods import AsyncTaskMethods
    from typed_inference._generated.methods import TaskMethods

    for cls in (TaskMethods, AsyncTaskMethods):
        returns = [o.__annotations__["return"] for o in get_overloads(cls.feature_extraction)]
        assert returns == ["list[list[float]]", "list[list[list[float]]]"]
        doc = cls.feature_extraction.__doc__ or ""
        assert "1 × dimensions for a model that pools" in doc
        assert "tokens × dimensions for a model without pooling" in doc


# -- 6. text-generation with chat messages as inputs ------------------------------------------------------------------
GENERATED = b'[{"generated_text":"Paris is sunny today."}]'


@BOTH
def test_text_generation_takes_chat_messages_as_inputs(server: ScriptedServer, run: Runner) -> None:
    from typed_inference.types import ChatCompletionInputSystemMessage, TextGenerationOutput

    messages: list[Any] = [
        ChatCompletionInputSystemMessage(role="system", content="Be brief."),
        {"role": "user", "content": [{"type": "text", "text": "Weather in Paris?"}]},
    ]
    server.reply(Reply(200, GENERATED, {"Content-Type": "application/json"}))
    result = run(server, "text_generation", messages, max_new_tokens=20, return_full_text=False)
    assert isinstance(result, TextGenerationOutput) and result.generated_text == "Paris is sunny today."
    assert server.last.path == "/models/org/model"
    assert server.last.json() == {
        "inputs": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "Weather in Paris?"}]},
        ],
        "parameters": {"max_new_tokens": 20, "return_full_text": False},
    }


@BOTH
def test_text_generation_messages_are_validated_with_the_chat_models(server: ScriptedServer, run: Runner) -> None:
    error = run(server, "text_generation", [{"role": "user", "content": "hi"}, {"role": "user", "contnt": "x"}])
    assert isinstance(error, ti.RequestValidationError)
    assert "inputs[1]" in str(error)
    empty = run(server, "text_generation", [])
    assert isinstance(empty, ti.RequestValidationError) and "inputs" in str(empty)
    assert server.received == []


@BOTH
def test_text_generation_prompt_string_unchanged(server: ScriptedServer, run: Runner) -> None:
    """(regression) A string is still the prompt, sent as `inputs`."""
    server.reply(Reply(200, GENERATED))
    result = run(server, "text_generation", "Weather in Paris?")
    assert result.generated_text == "Paris is sunny today."
    assert server.last.json() == {"inputs": "Weather in Paris?"}
