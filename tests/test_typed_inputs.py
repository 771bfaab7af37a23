"""Issue 35 at run time: None as "not given", the bounds real callers need, and the fields huggingface_hub has."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, cast

import pytest

from tests.provider_fake import ProviderFake
from typed_inference import InferenceClient, RequestValidationError
from typed_inference.testing import MockTransport, json_response
from typed_inference.transport import Request, RetryPolicy
from typed_inference.types.params import ChatCompletionInputMessageParam, ChatCompletionInputToolParam
from typed_inference.validate import validate

CHAT_ANSWER = {
    "id": "x",
    "created": 1,
    "model": "m",
    "system_fingerprint": "tgi",
    "object": "chat.completion",
    "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "Hi"}}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}
# what code built on the OpenAI types sends: `message.model_dump()` keeps every unset field as None
DUMPED_DICTS: list[dict[str, Any]] = [
    {"role": "system", "content": "Be brief.", "name": None},
    {"role": "user", "content": "Hi", "name": None},
    {
        "role": "assistant",
        "content": None,
        "name": None,
        "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
    },
    {"role": "tool", "content": "42", "tool_call_id": "c1"},
]
TOOLS_DICTS: list[dict[str, Any]] = [
    {"type": "function", "function": {"name": "f", "description": None, "parameters": {"default": None}}}
]

# dicts typed `dict[str, Any]` (model_dump output) reach the typed methods through the documented cast
DUMPED = cast("list[ChatCompletionInputMessageParam]", DUMPED_DICTS)
TOOLS = cast("list[ChatCompletionInputToolParam]", TOOLS_DICTS)


def recording(answer: Any) -> tuple[InferenceClient, list[Request]]:
    mock = MockTransport(lambda _request: json_response(answer))
    return InferenceClient("org/model", base_url="http://127.0.0.1:8080", transport=mock), mock.requests


def sent(requests: list[Request]) -> Any:
    assert len(requests) == 1
    return json.loads(requests[0].body or b"null")


@pytest.fixture
def fake() -> Iterator[ProviderFake]:
    fake = ProviderFake().start()
    yield fake
    fake.stop()


def test_none_fields_are_left_out_of_a_chat_body_on_hf_inference() -> None:
    client, requests = recording(CHAT_ANSWER)
    client.chat_completion(DUMPED, tools=TOOLS, tool_choice=None, seed=None)
    body = sent(requests)
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {
            "role": "assistant",
            "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
        },
        {"role": "tool", "content": "42", "tool_call_id": "c1"},
    ]
    # a tool's parameters are a JSON Schema of the caller's: free-form, sent as given
    assert body["tools"] == [{"type": "function", "function": {"name": "f", "parameters": {"default": None}}}]
    assert "tool_choice" not in body and "seed" not in body


def test_none_fields_are_left_out_of_a_chat_body_on_a_provider(fake: ProviderFake) -> None:
    fake.map("org/model", ("groq", "llama-groq", "conversational"))
    policy = RetryPolicy(sleep=lambda _s: None, max_retries=0)
    with InferenceClient(token="hf_x", provider="groq", retry_policy=policy, **fake.client_kwargs()) as client:
        client.chat_completion(DUMPED[:2], model="org/model")
    body = fake.router.received[0].json()
    assert body["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]


def test_extra_body_values_are_sent_as_given() -> None:
    client, requests = recording(CHAT_ANSWER)
    client.chat_completion([{"role": "user", "content": "Hi"}], extra_body={"user": None})
    assert sent(requests)["user"] is None


def test_none_in_nested_parameters_is_left_out() -> None:
    client, requests = recording([{"label": "a", "score": 0.5}])
    client.text_classification("great", extra_body=None, top_k=None)
    assert sent(requests) == {"inputs": "great"}


def test_a_required_field_given_none_is_still_refused() -> None:
    client, requests = recording(CHAT_ANSWER)
    with pytest.raises(RequestValidationError, match="content"):
        client.chat_completion([{"role": "user", "content": None}])  # type: ignore[list-item]
    with pytest.raises(RequestValidationError, match="role"):
        client.chat_completion([{"role": None, "content": "Hi"}])  # type: ignore[list-item]
    assert requests == []


def test_validate_and_the_exported_schema_take_none_as_not_given() -> None:
    from importlib import resources

    from jsonschema import Draft202012Validator

    payload = {"messages": DUMPED, "seed": None, "tools": TOOLS}
    assert validate("chat-completion", payload).valid
    assert not validate("chat-completion", {"messages": [{"role": "user", "content": None}]}).valid
    schema = json.loads((resources.files("typed_inference") / "schemas" / "chat-completion.json").read_text())
    checker = Draft202012Validator({**schema, "$ref": "#/$defs/ChatCompletionInput"})
    assert checker.is_valid(payload)
    assert not checker.is_valid({"messages": [{"role": "user", "content": None}]})


def test_seed_minus_one_is_sent() -> None:
    client, requests = recording(CHAT_ANSWER)
    client.chat_completion([{"role": "user", "content": "Hi"}], seed=-1)
    assert sent(requests)["seed"] == -1
    mock = MockTransport(lambda _request: json_response({}, content_type="image/png"))
    with InferenceClient("org/model", base_url="http://127.0.0.1:8080", transport=mock) as images:
        images.text_to_image("a cat", seed=-1)
    assert json.loads(mock.requests[0].body or b"null") == {"inputs": "a cat", "parameters": {"seed": -1}}


def test_every_provider_keyword_is_the_generated_alias_of_known_names() -> None:
    import inspect
    import typing

    from typed_inference import AsyncInferenceClient, ProviderName
    from typed_inference.providers import PROVIDERS
    from typed_inference.ray._config import MapperConfig, make_config
    from typed_inference.ray._infer import infer

    (known, rest) = typing.get_args(ProviderName)
    assert set(typing.get_args(known)) == {"auto", *PROVIDERS} and rest is str
    owners: list[Any] = [InferenceClient.chat_completion, AsyncInferenceClient.text_to_image, InferenceClient.__init__]
    owners += [AsyncInferenceClient.__init__, MapperConfig, make_config, infer]
    for owner in owners:
        assert str(inspect.signature(owner).parameters["provider"].annotation) == "ProviderName | None", owner


def test_reasoning_is_read_from_a_tgi_answer_and_stream() -> None:
    from typed_inference.transport import Response

    answer = json.loads(json.dumps(CHAT_ANSWER))
    answer["choices"][0]["message"]["reasoning"] = "The user greets me."
    client, _ = recording(answer)
    assert client.chat_completion([{"role": "user", "content": "Hi"}]).choices[0].message.reasoning == (
        "The user greets me."
    )
    events = [
        {"id": "x", "created": 1, "model": "m", "system_fingerprint": "tgi", "object": "chat.completion.chunk",
         "choices": [{"index": 0, "finish_reason": None, "delta": {"role": "assistant", **delta}}]}
        for delta in ({"reasoning": "Think"}, {"reasoning": "ing."}, {"content": "Hi"})
    ]  # fmt: skip
    body = b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events) + b"data: [DONE]\n\n"
    mock = MockTransport(lambda _r: Response(200, {"content-type": "text/event-stream"}, body))
    with InferenceClient("org/model", base_url="http://127.0.0.1:8080", transport=mock) as streaming:
        deltas = [
            e.choices[0].delta for e in streaming.chat_completion([{"role": "user", "content": "Hi"}], stream=True)
        ]
    assert [d.reasoning for d in deltas] == ["Think", "ing.", None]
