"""User code checked by `mypy --strict` (part of `make typecheck`): return types are exact, per method and overload."""

from __future__ import annotations

from typing import Any

from typing_extensions import assert_type

from typed_inference import AsyncInferenceClient, AsyncStream, BinaryOutput, InferenceClient, RawResponse, Stream
from typed_inference.types import (
    ChatCompletionInputUserMessage,
    ChatCompletionOutput,
    FillMaskOutputElement,
    QuestionAnsweringOutputElement,
    SummarizationOutput,
    TextClassificationOutputElement,
    TextGenerationOutput,
    TextGenerationStreamOutput,
    TokenClassificationOutputElement,
    TranslationOutput,
    ZeroShotClassificationOutputElement,
)


def check(client: InferenceClient, image: bytes) -> None:
    assert_type(client.fill_mask("a [MASK]."), list[FillMaskOutputElement])
    assert_type(client.fill_mask("[MASK] and [MASK].", multiple_masks=True), list[list[FillMaskOutputElement]])
    assert_type(client.fill_mask(["a [MASK].", "b [MASK]."]), list[list[FillMaskOutputElement]])
    texts = ["a [MASK] [MASK].", "b [MASK]."]
    assert_type(client.fill_mask(texts, multiple_masks=True), list[list[list[FillMaskOutputElement]]])
    assert_type(client.fill_mask(texts, multiple_masks=False), list[list[FillMaskOutputElement]])
    assert_type(client.text_classification("good"), list[TextClassificationOutputElement])
    assert_type(client.text_classification(["good", "bad"]), list[list[TextClassificationOutputElement]])
    assert_type(client.token_classification("Ada in London"), list[TokenClassificationOutputElement])
    assert_type(client.feature_extraction("hello"), list[list[float]])
    assert_type(client.feature_extraction(["a", "b"]), list[list[list[float]]])
    assert_type(client.question_answering(question="q", context="c"), list[QuestionAnsweringOutputElement])
    assert_type(client.sentence_similarity(source_sentence="a", sentences=["b"]), list[float])
    assert_type(client.summarization("long text"), SummarizationOutput)
    assert_type(client.text_to_image("a cat"), BinaryOutput)
    assert_type(client.image_classification(image, top_k=2)[0].score, float)
    assert_type(client.chat_completion([{"role": "user", "content": "hi"}]), ChatCompletionOutput)
    assert_type(client.text_generation([{"role": "user", "content": "hi"}]), TextGenerationOutput)
    messages = [ChatCompletionInputUserMessage(role="user", content="hi")]
    assert_type(client.text_generation(messages, max_new_tokens=5), TextGenerationOutput)
    client.chat_completion(messages, tool_choice="get_current_weather", tool_prompt="Tools:")
    raw = client.with_raw_response.fill_mask("a [MASK].")
    assert_type(raw, RawResponse[list[FillMaskOutputElement]])
    extra: dict[str, Any] = {"new_param": 1}
    client.fill_mask("a [MASK].", top_k=3, extra_body=extra, wait_for_model=True, timeout=5.0)
    # providers: per call, the same return types whatever the route
    assert_type(client.chat_completion(messages, model="org/m", provider="together"), ChatCompletionOutput)
    assert_type(client.feature_extraction("hello", provider="scaleway"), list[list[float]])
    routed = InferenceClient("org/m", provider="auto", bill_to="my-org", router_url="http://127.0.0.1:9")
    assert_type(routed.text_generation("Once", provider="together", stream=True), Stream[TextGenerationStreamOutput])
    InferenceClient(provider="together", token="tg-key", provider_urls={"together": "http://127.0.0.1:9000"})


def check_raw(client: InferenceClient) -> None:
    raw = client.with_raw_response
    assert_type(raw.fill_mask("a [MASK]."), RawResponse[list[FillMaskOutputElement]])
    assert_type(raw.fill_mask("[MASK] [MASK].", multiple_masks=True), RawResponse[list[list[FillMaskOutputElement]]])
    assert_type(raw.fill_mask(["a [MASK].", "b [MASK]."]), RawResponse[list[list[FillMaskOutputElement]]])
    assert_type(raw.fill_mask(["a [MASK]."], multiple_masks=True), RawResponse[list[list[list[FillMaskOutputElement]]]])
    assert_type(raw.text_generation("Once", stream=True), RawResponse[Stream[TextGenerationStreamOutput]])
    assert_type(raw.feature_extraction(["a", "b"]), RawResponse[list[list[list[float]]]])
    assert_type(raw.fill_mask("a [MASK].").parsed[0].score, float)


async def check_async_raw(client: AsyncInferenceClient) -> None:
    raw = client.with_raw_response
    assert_type(await raw.fill_mask("a [MASK]."), RawResponse[list[FillMaskOutputElement]])
    assert_type(
        await raw.fill_mask("[MASK] [MASK].", multiple_masks=True), RawResponse[list[list[FillMaskOutputElement]]]
    )
    assert_type(await raw.fill_mask(["a [MASK].", "b [MASK]."]), RawResponse[list[list[FillMaskOutputElement]]])
    assert_type(
        await raw.fill_mask(["a [MASK]."], multiple_masks=True), RawResponse[list[list[list[FillMaskOutputElement]]]]
    )
    assert_type(await raw.text_generation("Once", stream=True), RawResponse[AsyncStream[TextGenerationStreamOutput]])
    assert_type(await raw.feature_extraction(["a", "b"]), RawResponse[list[list[list[float]]]])


def check_text_lists(client: InferenceClient) -> None:
    """Issue 36: a str gives one result, a list or a tuple of texts one result per text."""
    assert_type(client.translation("hello"), TranslationOutput)
    assert_type(client.translation(["hello", "bye"]), list[TranslationOutput])
    assert_type(client.translation(("hello", "bye")), list[TranslationOutput])
    assert_type(client.zero_shot_classification("t", candidate_labels=["a"]), list[ZeroShotClassificationOutputElement])
    assert_type(
        client.zero_shot_classification(["t", "u"], candidate_labels=["a"]),
        list[list[ZeroShotClassificationOutputElement]],
    )
    assert_type(client.summarization(["a", "b"]), list[SummarizationOutput])
    assert_type(client.text_classification(("good", "bad")), list[list[TextClassificationOutputElement]])
    assert_type(client.feature_extraction(("a", "b")), list[list[list[float]]])
    assert_type(client.with_raw_response.translation(["a"]), RawResponse[list[TranslationOutput]])


async def check_async_text_lists(client: AsyncInferenceClient) -> None:
    assert_type(await client.translation("hello"), TranslationOutput)
    assert_type(await client.translation(("hello", "bye")), list[TranslationOutput])
    assert_type(
        await client.zero_shot_classification(["t"], candidate_labels=["a"]),
        list[list[ZeroShotClassificationOutputElement]],
    )
    assert_type(await client.summarization("a"), SummarizationOutput)
    assert_type(await client.with_raw_response.summarization(["a"]), RawResponse[list[SummarizationOutput]])
