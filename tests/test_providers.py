"""Inference Providers over a loopback fake of the router, the Hub and the providers' hosts (tests/provider_fake.py):
exact requests per provider × task, auto selection, the mapping and its cache, tokens, bill-to and every refusal."""

from __future__ import annotations

import asyncio
import json
import re
import warnings
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import pytest

from tests.provider_fake import EMBEDDING, ProviderFake
from tests.server import Reply
from typed_inference import (
    AsyncInferenceClient,
    BadRequestError,
    InferenceClient,
    ModelNotFoundError,
    ModelNotSupportedError,
    RequestValidationError,
)
from typed_inference.providers import PROVIDERS
from typed_inference.providers._mapping import MAPPINGS
from typed_inference.providers._route import hub_task
from typed_inference.transport import RetryPolicy
from typed_inference.types import ChatCompletionOutput, TextGenerationOutput
from typed_inference.types.params import (
    ChatCompletionInputMessageParam,
    ChatCompletionInputResponseFormatJsonSchemaParam,
    ChatCompletionInputToolParam,
)

HF = "hf_test_router_token"
MODEL = "org/model"
MESSAGES: list[ChatCompletionInputMessageParam] = [{"role": "user", "content": "Hi"}]
# chat, completions and embeddings; the media tasks are tests/test_provider_media.py's
PAIRS = sorted(
    (name, task)
    for name, spec in PROVIDERS.items()
    for task, entry in (spec.tasks or {}).items()
    if entry.answer is None
)


@pytest.fixture
def fake() -> Iterator[ProviderFake]:
    fake = ProviderFake().start()
    yield fake
    fake.stop()


def make(fake: ProviderFake, **kwargs: Any) -> InferenceClient:
    kwargs.setdefault("token", HF)
    policy = RetryPolicy(sleep=lambda _s: None, max_retries=0)
    return InferenceClient(retry_policy=policy, **fake.client_kwargs(), **kwargs)


def make_async(fake: ProviderFake, **kwargs: Any) -> AsyncInferenceClient:
    kwargs.setdefault("token", HF)
    policy = RetryPolicy(sleep=lambda _s: None, max_retries=0)
    return AsyncInferenceClient(retry_policy=policy, **fake.client_kwargs(), **kwargs)


def call(client: InferenceClient | AsyncInferenceClient, task: str, **kwargs: Any) -> Any:
    """One call of `task` with a typical input, sync or async."""
    method = {"chat-completion": "chat_completion", "text-generation": "text_generation"}.get(
        task, "feature_extraction"
    )
    primary = {"chat-completion": MESSAGES, "text-generation": "Hello"}.get(task, "Hi there")
    if isinstance(client, AsyncInferenceClient):

        async def once() -> Any:
            async with client:
                return await getattr(client, method)(primary, **kwargs)

        return asyncio.run(once())
    with client:
        return getattr(client, method)(primary, **kwargs)


def expected_body(provider: str, task: str, provider_id: str) -> dict[str, Any]:
    if task == "chat-completion":
        return {"model": provider_id, "messages": MESSAGES, "max_tokens": 5}
    if task == "text-generation":
        key = PROVIDERS[provider].tasks["text-generation"].rename.get("max_new_tokens", "max_new_tokens")  # type: ignore[index]
        return {"prompt": "Hello", key: 5, "model": provider_id}
    return {"input": "Hi there", "normalize": True, "model": provider_id}


def options(task: str) -> dict[str, Any]:
    if task == "feature-extraction":
        return {"normalize": True}
    return {"max_tokens": 5} if task == "chat-completion" else {"max_new_tokens": 5}


def check_result(task: str, result: Any) -> None:
    if task == "chat-completion":
        assert isinstance(result, ChatCompletionOutput) and result.choices[0].message.content == "Hello"
    elif task == "text-generation":
        assert isinstance(result, TextGenerationOutput) and result.generated_text == " world"
    else:
        assert result == [EMBEDDING]


# -- one test per provider × task, sync and async -------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize(("provider", "task"), PAIRS, ids=[f"{p}-{t}" for p, t in PAIRS])
def test_provider_task_routed(fake: ProviderFake, provider: str, task: str, kind: str) -> None:
    spec = PROVIDERS[provider]
    route = spec.tasks[task].route  # type: ignore[index]
    as_given = spec.model_ids == "as-given"
    fake.map(MODEL, (provider, "prov/model-1", hub_task(task)))
    if spec.routing == "direct":  # openai: its own key, its own host, the model id as given
        client: Any = (make if kind == "sync" else make_async)(fake, token="sk-openai-key", provider=provider)
    else:
        client = (make if kind == "sync" else make_async)(fake, provider=provider)
    result = call(client, task, model=MODEL, **options(task))
    check_result(task, result)
    sent = fake.direct.received if spec.routing == "direct" else fake.router.received
    assert len(sent) == 1
    request = sent[0]
    assert request.path == f"/{provider}{route}"
    assert request.json() == expected_body(provider, task, MODEL if as_given else "prov/model-1")
    assert next(iter(request.json())) == "model" or task != "chat-completion"
    if spec.routing == "direct":
        assert request.headers["authorization"] == "Bearer sk-openai-key"
        assert fake.hub.received == [] and fake.router.received == []
    else:
        assert request.headers["authorization"] == f"Bearer {HF}"
        assert [unquote(r.path) for r in fake.hub.received] == [
            f"/api/models/{MODEL}?expand[]=inferenceProviderMapping"
        ]
        assert fake.hub.received[0].headers["authorization"] == f"Bearer {HF}"
    for name, value in spec.headers.items():
        assert request.headers[name.lower()] == value


def test_hf_inference_makes_no_lookup_and_sends_the_hub_id(fake: ProviderFake) -> None:
    with make(fake, provider="hf-inference") as client:
        result = client.text_classification("great", model=MODEL)
    assert result[0].label == "POSITIVE"
    assert [r.path for r in fake.received] == [f"/hf-inference/models/{MODEL}"]


def test_hf_inference_needs_no_token(fake: ProviderFake) -> None:
    with make(fake, token=None, provider="hf-inference") as client:
        client.text_classification("great", model=MODEL)
    assert "authorization" not in fake.router.received[0].headers


# -- streaming --------------------------------------------------------------------------------------------------------
def test_chat_stream_on_a_provider(fake: ProviderFake) -> None:
    fake.map(MODEL, ("groq", "llama-groq", "conversational"))
    with make(fake, provider="groq") as client:
        parts = [e.choices[0].delta.content for e in client.chat_completion(MESSAGES, model=MODEL, stream=True)]
    assert "".join(p for p in parts if p) == "Hello"
    body = fake.router.received[0].json()
    assert body["stream"] is True and body["model"] == "llama-groq"


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_text_generation_stream_on_a_completions_provider(fake: ProviderFake, kind: str) -> None:
    fake.map(MODEL, ("together", "tg/model", "text-generation"))
    if kind == "sync":
        with make(fake, provider="together") as client:
            events = list(client.text_generation("Hello", model=MODEL, stream=True))
    else:

        async def run() -> list[Any]:
            async with make_async(fake, provider="together") as client:
                return [e async for e in await client.text_generation("Hello", model=MODEL, stream=True)]

        events = asyncio.run(run())
    assert [e.token.text for e in events] == [" wor", "ld"]
    assert events[0].token.id is None and events[0].token.logprob is None  # absent, never made up
    assert events[-1].generated_text == " world"
    assert events[-1].details is not None and events[-1].details.finish_reason == "length"
    assert events[-1].details.generated_tokens == 2
    assert fake.router.received[0].json() == {"prompt": "Hello", "model": "tg/model", "stream": True}


# -- auto -------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("model", [MODEL, f"{MODEL}:fastest", f"{MODEL}:cheapest", f"{MODEL}:groq"])
def test_auto_chat_goes_to_the_auto_router_with_the_model_as_given(fake: ProviderFake, model: str) -> None:
    with make(fake) as client:
        client.chat_completion(MESSAGES, model=model)
    assert fake.hub.received == []
    (request,) = fake.router.received
    assert request.path == "/v1/chat/completions"
    assert request.json()["model"] == model and next(iter(request.json())) == "model"
    assert request.headers["authorization"] == f"Bearer {HF}"


def test_auto_takes_the_first_usable_entry_in_the_hubs_order(fake: ProviderFake) -> None:
    fake.mappings[MODEL] = {
        "inferenceProviderMapping": [
            {"provider": "scaleway", "providerId": "sc", "task": "feature-extraction", "status": "staging"},
            {"provider": "groq", "providerId": "gq", "task": "conversational", "status": "live"},
            {"provider": "newcomer", "providerId": "nc", "task": "feature-extraction", "status": "live"},
            {"provider": "deepinfra", "providerId": "di", "task": "feature-extraction", "status": "live", "x": 1},
            {"provider": "together", "providerId": "tg", "task": "feature-extraction", "status": "live"},
        ]
    }
    with make(fake) as client:
        assert client.feature_extraction("Hi there", model=MODEL) == [EMBEDDING]
    assert fake.router.received[0].path == "/deepinfra/v1/openai/embeddings"
    assert fake.router.received[0].json()["model"] == "di"


@pytest.mark.parametrize("answer", [{}, {"inferenceProviderMapping": {}}, {"inferenceProviderMapping": []},
                                    {"inferenceProviderMapping": None}])  # fmt: skip
def test_auto_with_no_mapping_is_model_not_supported(fake: ProviderFake, answer: Any) -> None:
    fake.mappings[MODEL] = answer
    with make(fake) as client, pytest.raises(ModelNotSupportedError, match=f"feature-extraction.*{MODEL}"):
        client.feature_extraction("Hi", model=MODEL)
    assert fake.router.received == []


def test_auto_names_each_skipped_entry(fake: ProviderFake) -> None:
    fake.map(MODEL, ("scaleway", "sc", "feature-extraction", "error"), ("groq", "gq", "conversational"))
    with make(fake) as client, pytest.raises(ModelNotSupportedError) as caught:
        client.feature_extraction("Hi", model=MODEL)
    text = str(caught.value)
    assert "scaleway: status 'error'" in text and "groq: mapped for task 'conversational'" in text
    assert isinstance(caught.value, RequestValidationError)
    assert fake.router.received == []


def test_an_explicit_staging_provider_proceeds_with_a_warning(fake: ProviderFake) -> None:
    fake.map(MODEL, ("scaleway", "sc", "feature-extraction", "staging"))
    with make(fake, provider="scaleway") as client, pytest.warns(UserWarning, match="staging"):
        client.feature_extraction("Hi", model=MODEL)
    assert fake.router.received[0].path == "/scaleway/v1/embeddings"


# -- errors before any request ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "mapping", "match"),
    [
        ({"provider": "groq"}, None, "provider 'groq' does not serve task 'feature-extraction'"),
        ({"provider": "nobody"}, None, "unknown provider 'nobody'.*known: auto, baseten"),
        ({"provider": "../v1"}, None, "invalid provider name '../v1'"),
        ({"provider": "together"}, ("scaleway", "sc", "feature-extraction"), "not served by provider 'together'"),
        ({"provider": "together"}, ("together", "tg", "text-generation"), "for task text-generation, not"),
        ({"provider": "together", "token": None}, ("together", "tg", "feature-extraction"), "token=.*HF_TOKEN"),
        ({"provider": "hf-inference", "token": "sk-other"}, None, "router only"),
        ({"token": "sk-other"}, None, 'provider "auto" goes through the Hugging Face router'),
    ],
)
def test_refused_before_any_router_request(
    fake: ProviderFake, kwargs: dict[str, Any], mapping: Any, match: str
) -> None:
    if mapping:
        fake.map(MODEL, mapping)
    with make(fake, **kwargs) as client, pytest.raises(RequestValidationError, match=match):
        client.feature_extraction("Hi", model=MODEL)
    assert fake.router.received == [] and fake.direct.received == []


def test_openai_is_direct_only(fake: ProviderFake) -> None:
    with make(fake, provider="openai") as client, pytest.raises(RequestValidationError, match="directly, with its own"):
        client.chat_completion(MESSAGES, model="gpt-5")
    assert fake.received == []


def test_an_unknown_provider_with_chat_goes_to_its_router_route(fake: ProviderFake) -> None:
    fake.script("/newcomer/v1/chat/completions", Reply(400, {"error": "Model not supported by provider newcomer"}))
    with make(fake, provider="newcomer") as client, pytest.raises(BadRequestError) as caught:
        client.chat_completion(MESSAGES, model=MODEL)
    assert caught.value.server_message == "Model not supported by provider newcomer"
    (request,) = fake.router.received
    assert request.path == "/newcomer/v1/chat/completions" and request.json()["model"] == MODEL
    assert fake.hub.received == []


def test_details_and_messages_are_refused_on_completions_providers(fake: ProviderFake) -> None:
    fake.map(MODEL, ("together", "tg", "text-generation"))
    with make(fake, provider="together") as client:
        with pytest.raises(RequestValidationError, match="details=True"):
            client.text_generation("Hello", model=MODEL, details=True)
        with pytest.raises(RequestValidationError, match="message list"):
            client.text_generation(MESSAGES, model=MODEL)
    assert fake.router.received == []


def test_base_url_with_provider_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="base_url= and provider='together'"):
        InferenceClient(base_url="http://127.0.0.1:9", provider="together")
    client = InferenceClient(base_url="http://127.0.0.1:9")
    with pytest.raises(RequestValidationError, match="provider='together' on a client with base_url"):
        client.feature_extraction("Hi", model=MODEL, provider="together")


def test_an_explicit_provider_wins_over_hf_inference_endpoint(
    fake: ProviderFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_INFERENCE_ENDPOINT", f"{fake.direct.url}/endpoint")
    fake.map(MODEL, ("together", "tg", "feature-extraction"))
    with make(fake) as client:
        client.feature_extraction("Hi", model=MODEL)  # no provider: the environment's endpoint, as before
        client.feature_extraction("Hi", model=MODEL, provider="together")
    assert fake.direct.received[0].path == f"/endpoint/models/{MODEL}/pipeline/feature-extraction"
    assert fake.router.received[0].path == "/together/v1/embeddings"


# -- direct keys, bill-to and the token rules -----------------------------------------------------------------------
def test_a_provider_key_calls_the_provider_directly(fake: ProviderFake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_ambient_token")
    fake.map(MODEL, ("together", "tg", "conversational"))
    client = make(fake, token="tg-key", provider="together", bill_to="my-org")
    with client, pytest.warns(UserWarning, match="bill_to='my-org' is not sent on a direct call"):
        client.chat_completion(MESSAGES, model=MODEL)
    (request,) = fake.direct.received
    assert request.path == "/together/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer tg-key" and "x-hf-bill-to" not in request.headers
    assert fake.router.received == []
    # the mapping lookup used the ambient HF token (the provider key is never sent to the Hub)
    assert fake.hub.received[0].headers["authorization"] == "Bearer hf_ambient_token"


def test_bill_to_goes_on_routed_calls(fake: ProviderFake) -> None:
    fake.map(MODEL, ("together", "tg", "conversational"))
    with make(fake, provider="together", bill_to="my-org") as client:
        client.chat_completion(MESSAGES, model=MODEL)
        client.chat_completion(MESSAGES, model=MODEL, provider="auto")
    assert [r.headers.get("x-hf-bill-to") for r in fake.router.received] == ["my-org", "my-org"]
    assert "x-hf-bill-to" not in fake.hub.received[0].headers


def test_the_ambient_token_goes_to_the_router_and_the_hub_only(
    fake: ProviderFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_ambient_token")
    fake.map(MODEL, ("scaleway", "sc", "feature-extraction"))
    with make(fake, token=None, provider="scaleway") as client:
        client.feature_extraction("Hi", model=MODEL)
    assert fake.router.received[0].headers["authorization"] == "Bearer hf_ambient_token"
    assert fake.hub.received[0].headers["authorization"] == "Bearer hf_ambient_token"
    assert fake.direct.received == []


def test_no_hf_token_reaches_a_provider_host_on_a_redirect(fake: ProviderFake) -> None:
    fake.map(MODEL, ("together", "tg", "feature-extraction"))
    target = f"{fake.direct.url}/together/v1/embeddings"
    fake.script("/together/v1/embeddings", Reply(307, b"", {"location": target}))
    with make(fake, provider="together") as client:
        client.feature_extraction("Hi", model=MODEL)
    (followed,) = fake.direct.received
    assert "authorization" not in followed.headers


# -- the Hub mapping ------------------------------------------------------------------------------------------------
def test_the_mapping_is_cached_per_token_and_errors_are_not(fake: ProviderFake) -> None:
    fake.map(MODEL, ("together", "tg", "feature-extraction"))
    fake.script(f"/api/models/{MODEL}", Reply(503, {"error": "Hub hiccup"}))
    with make(fake, provider="together") as client:
        with pytest.raises(Exception, match="Hub hiccup"):
            client.feature_extraction("Hi", model=MODEL)
        client.feature_extraction("Hi", model=MODEL)
        client.feature_extraction("Hi", model=MODEL)
    with make(fake, provider="together", token="hf_another_token") as other:
        other.feature_extraction("Hi", model=MODEL)
    assert len(fake.hub.received) == 3  # the error, one for the first token, one for the second
    assert len(fake.router.received) == 3


def test_the_mapping_expires(fake: ProviderFake) -> None:
    now = [0.0]
    MAPPINGS.clock = lambda: now[0]
    try:
        fake.map(MODEL, ("together", "tg", "feature-extraction"))
        with make(fake, provider="together") as client:
            client.feature_extraction("Hi", model=MODEL)
            now[0] = 299.0
            client.feature_extraction("Hi", model=MODEL)
            now[0] = 301.0
            client.feature_extraction("Hi", model=MODEL)
    finally:
        import time

        MAPPINGS.clock = time.monotonic
    assert len(fake.hub.received) == 2


def test_the_mapping_follows_a_rename(fake: ProviderFake) -> None:
    fake.map("org/new-name", ("together", "tg", "feature-extraction"))
    location = "/api/models/org/new-name?expand[]=inferenceProviderMapping"
    fake.script(f"/api/models/{MODEL}", Reply(307, b"", {"location": location}))
    with make(fake, provider="together") as client:
        client.feature_extraction("Hi", model=MODEL)
    assert [r.path.split("?")[0] for r in fake.hub.received] == [f"/api/models/{MODEL}", "/api/models/org/new-name"]


def test_a_hub_error_is_typed_and_names_the_hub(fake: ProviderFake) -> None:
    with make(fake, provider="together") as client, pytest.raises(ModelNotFoundError) as caught:
        client.feature_extraction("Hi", model=MODEL)
    assert fake.hub.url in str(caught.value) and MODEL in str(caught.value)
    where = f"looking up the inference providers of {MODEL!r} on the Hub ({fake.hub.url}): "
    assert str(caught.value).startswith(where)
    assert caught.value.args == (str(caught.value),)
    assert fake.router.received == []


@pytest.mark.parametrize(
    ("answer", "path"),
    [
        ([], r"\$: expected an object"),
        ({"inferenceProviderMapping": "x"}, r"\$\.inferenceProviderMapping: expected an object or an array"),
        ({"inferenceProviderMapping": {"together": {"status": "live"}}}, "together.providerId: expected a string"),
        ({"inferenceProviderMapping": [1]}, r"\[0\]: expected an object, found a int"),
    ],
)
def test_a_malformed_mapping_is_a_typed_error(fake: ProviderFake, answer: Any, path: str) -> None:
    from typed_inference import ResponseValidationError

    fake.mappings[MODEL] = answer
    with make(fake, provider="together") as client, pytest.raises(ResponseValidationError, match=path):
        client.feature_extraction("Hi", model=MODEL)


def test_unknown_mapping_fields_are_kept(fake: ProviderFake) -> None:
    fake.mappings[MODEL] = {"inferenceProviderMapping": {"together": {
        "providerId": "tg", "status": "live", "task": "feature-extraction", "isModelAuthor": False,
        "adapter": "lora", "adapterWeightsPath": "w.safetensors", "type": "single-model"}}}  # fmt: skip
    with make(fake) as client:
        (entry,) = client.provider_mapping(MODEL)
    assert entry.extra == {"isModelAuthor": False} and entry.adapter_weights_path == "w.safetensors"


# -- body rewrites, extra_body and provider errors ------------------------------------------------------------------
def test_chat_rewrites_on_provider_routes(fake: ProviderFake) -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    rf: ChatCompletionInputResponseFormatJsonSchemaParam = {
        "type": "json_schema",
        "json_schema": {"name": "A", "schema": schema},
    }
    tools: list[ChatCompletionInputToolParam] = [
        {"type": "function", "function": {"name": "get_weather", "parameters": {}}}
    ]
    fake.map(MODEL, ("cohere", "co", "conversational"), ("together", "tg", "conversational"))
    with make(fake) as client:
        for provider in ("cohere", "together"):
            client.chat_completion(
                MESSAGES, model=MODEL, provider=provider, response_format=rf, tool_choice="get_weather",
                tools=tools,
                extra_body={"reasoning_effort": "low"},
            )  # fmt: skip
    cohere, together = (r.json() for r in fake.router.received)
    assert cohere["response_format"] == {"type": "json_object", "schema": schema}
    assert together["response_format"] == {"type": "json_schema", "schema": schema}
    for body in (cohere, together):
        assert body["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
        assert body["reasoning_effort"] == "low"


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (Reply(422, {"error": {"message": "bad temperature"}}), "bad temperature"),
        (Reply(422, {"detail": "no such model"}), "no such model"),
        (Reply(422, {"message": "quota"}), "quota"),
        (Reply(422, b"", {"x-error-message": "from the router"}), "from the router"),
    ],
)
def test_provider_error_bodies_become_the_server_message(fake: ProviderFake, reply: Reply, message: str) -> None:
    fake.map(MODEL, ("together", "tg", "conversational"))
    fake.script("/together/v1/chat/completions", reply)
    with make(fake, provider="together") as client, pytest.raises(Exception) as caught:
        client.chat_completion(MESSAGES, model=MODEL)
    assert getattr(caught.value, "server_message", None) == message


def test_a_malformed_provider_answer_is_a_typed_error(fake: ProviderFake) -> None:
    from typed_inference import ResponseValidationError

    fake.map(MODEL, ("together", "tg", "feature-extraction"))
    fake.script("/together/v1/embeddings", Reply(200, {"data": [{"embedding": "nope"}]}))
    with make(fake, provider="together") as client, pytest.raises(ResponseValidationError, match=r"data\[\*\]"):
        client.feature_extraction("Hi", model=MODEL)


def test_batch_embeddings_on_a_provider(fake: ProviderFake) -> None:
    fake.map(MODEL, ("scaleway", "sc", "feature-extraction"))
    with make(fake, provider="scaleway") as client:
        assert client.feature_extraction(["a", "b"], model=MODEL) == [[EMBEDDING], [EMBEDDING]]
    assert fake.router.received[0].json() == {"input": ["a", "b"], "model": "sc"}


def test_the_classic_inference_api_still_talks_to_hf_inference(fake: ProviderFake) -> None:
    from typed_inference import InferenceApi

    fake.hub.handler = lambda _r: Reply(200, {"pipeline_tag": "text-classification"})
    client = InferenceClient(MODEL, token=HF, router_url=fake.router.url, hub_url=fake.hub.url)
    api = InferenceApi(MODEL, client=client)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = api("great")
    assert json.loads(json.dumps(result, default=lambda o: o.model_dump()))[0]["label"] == "POSITIVE"
    assert fake.router.received[0].path == f"/hf-inference/models/{MODEL}"


@pytest.mark.parametrize(
    ("kwargs", "what"),
    [
        ({"hub_url": "nope"}, "hub_url"),
        ({"router_url": "ftp://x"}, "router_url"),
        ({"base_url": "localhost:8080"}, "base_url"),
        ({"provider_urls": {"together": "//x"}}, "provider_urls['together']"),
    ],
)
def test_base_urls_are_checked_at_construction(kwargs: dict[str, Any], what: str) -> None:
    with pytest.raises(ValueError, match=re.escape(what) + " must be an http:// or https:// URL with a host"):
        InferenceClient(**kwargs)


def test_an_environment_url_is_checked_and_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ROUTER_URL", "router.example")
    with pytest.raises(ValueError, match="HF_ROUTER_URL must be"):
        InferenceClient()
