"""Other people's clients against the local server: huggingface_hub's InferenceClient and the openai SDK, sync and
async, every task the server serves (streams included), each asserting the peer client's own typed result.

The server promises that programs written against the hosted service run unchanged; these clients were written for
the hosted wire (docs: ../shared/wire-notes.md), so they fail on any answer in our own client's canonical shape.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("transformers")
pytest.importorskip("sentence_transformers")
pytest.importorskip("huggingface_hub")
pytest.importorskip("openai")

import huggingface_hub as hub
import openai

from tests.live import LiveServer
from typed_inference.server.resolve import EMBEDDED_ID
from typed_inference.server.samples import sample_png, sample_wav

MINILM = EMBEDDED_ID
MESSAGES: Any = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]
CONTEXT = "Hugging Face is based in Brooklyn, New York. It was founded in 2016."


@dataclass(frozen=True)
class Case:
    """One call of huggingface_hub's client: a method, its arguments, the route it posts to, and the check of its
    typed result. `route` is what the hosted service's URL for the model would be, on the local server."""

    name: str
    method: str
    route: str
    check: Callable[[Any], None]
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    stream: bool = False


def _that(predicate: Callable[[Any], Any]) -> Callable[[Any], None]:
    """A check asserting `predicate` of the result."""

    def check(out: Any) -> None:
        assert predicate(out), repr(out)

    return check


def _all(kind: type, items: Any) -> bool:
    return isinstance(items, list) and bool(items) and all(isinstance(i, kind) for i in items)


def _check_fill_mask(out: Any) -> None:
    assert _all(hub.FillMaskOutputElement, out) and len(out) == 3
    assert out[0].sequence.startswith("the goal of life is")


def _check_text_classification(out: Any) -> None:
    assert _all(hub.TextClassificationOutputElement, out)
    assert {c.label for c in out} == {"POSITIVE", "NEGATIVE"}


def _check_qa_one(out: Any) -> None:
    assert isinstance(out, hub.QuestionAnsweringOutputElement)
    assert CONTEXT[out.start : out.end] == out.answer


def _check_qa_many(out: Any) -> None:
    assert _all(hub.QuestionAnsweringOutputElement, out) and len(out) <= 3


def _check_generated_details(out: Any) -> None:
    assert isinstance(out, hub.TextGenerationOutput) and out.details is not None
    assert out.details.generated_tokens == len(out.details.tokens) <= 5
    assert all(isinstance(t.logprob, float) and t.logprob <= 0 for t in out.details.tokens)


def _check_text_stream(events: list[Any]) -> None:
    assert len(events) == 5 and all(isinstance(e, str) for e in events)


def _check_text_stream_details(events: list[Any]) -> None:
    assert len(events) == 5 and all(isinstance(e, hub.TextGenerationStreamOutput) for e in events)
    assert all(isinstance(e.token.logprob, float) and e.token.logprob <= 0 for e in events)
    assert events[-1].generated_text == "".join(e.token.text for e in events)


def _check_chat(out: Any) -> None:
    assert isinstance(out, hub.ChatCompletionOutput) and out.choices[0].message.role == "assistant"
    assert out.usage.completion_tokens <= 5


def _check_chat_stream(chunks: list[Any]) -> None:
    assert chunks and all(isinstance(c, hub.ChatCompletionStreamOutput) for c in chunks)
    assert all(c.choices[0].delta.role == "assistant" for c in chunks)
    assert chunks[-1].choices[0].finish_reason in ("length", "stop")


def _check_embeddings(rows: int) -> Callable[[Any], None]:
    def check(out: Any) -> None:
        assert out.shape == (rows, 384)

    return check


def _sorted_scores(out: Any) -> None:
    assert isinstance(out, list) and len(out) == 3 and out[0] > out[1] > out[2]


HUB_CASES = [
    Case(
        "fill_mask",
        "fill_mask",
        "demo/fill-mask",
        _check_fill_mask,
        ("the goal of life is [MASK].",),
        {"top_k": 3},
    ),
    Case("text_classification", "text_classification", "demo/text-classification", _check_text_classification, ("hi",)),
    Case(
        "text_classification_top_k",
        "text_classification",
        "demo/text-classification",
        _that(lambda out: _all(hub.TextClassificationOutputElement, out) and len(out) == 1),
        ("hi",),
        {"top_k": 1},
    ),
    Case(
        "token_classification",
        "token_classification",
        "demo/token-classification",
        _that(
            lambda out: isinstance(out, list) and all(isinstance(e, hub.TokenClassificationOutputElement) for e in out)
        ),
        ("my name is sarah and i live in london",),
    ),
    Case(
        "question_answering",
        "question_answering",
        "demo/question-answering",
        _check_qa_one,
        kwargs={"question": "Where is it based?", "context": CONTEXT},
    ),
    Case(
        "question_answering_top_k",
        "question_answering",
        "demo/question-answering",
        _check_qa_many,
        kwargs={"question": "Where is it based?", "context": CONTEXT, "top_k": 3},
    ),
    Case(
        "zero_shot_classification",
        "zero_shot_classification",
        "demo/zero-shot-classification",
        _that(
            lambda out: (
                _all(hub.ZeroShotClassificationOutputElement, out)
                and sorted(c.label for c in out) == ["cooking", "sports"]
            )
        ),
        ("the match ended in a draw",),
        {"candidate_labels": ["sports", "cooking"]},
    ),
    Case(
        "text_generation",
        "text_generation",
        "demo/text-generation",
        _that(lambda out: isinstance(out, str)),
        ("hello",),
        {"max_new_tokens": 5},
    ),
    Case(
        "text_generation_details",
        "text_generation",
        "demo/text-generation",
        _check_generated_details,
        ("hello",),
        {"max_new_tokens": 5, "details": True},
    ),
    Case(
        "text_generation_stream",
        "text_generation",
        "demo/text-generation",
        _check_text_stream,
        ("hello",),
        {"max_new_tokens": 5, "stream": True},
        stream=True,
    ),
    Case(
        "text_generation_stream_details",
        "text_generation",
        "demo/text-generation",
        _check_text_stream_details,
        ("hello",),
        {"max_new_tokens": 5, "stream": True, "details": True},
        stream=True,
    ),
    Case("chat_completion", "chat_completion", "demo/text-generation", _check_chat, (MESSAGES,), {"max_tokens": 5}),
    Case(
        "chat_completion_stream",
        "chat_completion",
        "demo/text-generation",
        _check_chat_stream,
        (MESSAGES,),
        {"max_tokens": 5, "stream": True},
        stream=True,
    ),
    Case(
        "summarization",
        "summarization",
        "demo/summarization",
        _that(lambda out: isinstance(out, hub.SummarizationOutput) and out.summary_text),
        ("the committee met on tuesday and agreed on a budget.",),
    ),
    Case(
        "translation",
        "translation",
        "demo/translation",
        _that(lambda out: isinstance(out, hub.TranslationOutput) and out.translation_text),
        ("the house is wonderful.",),
    ),
    Case(
        "image_classification",
        "image_classification",
        "demo/image-classification",
        _that(
            lambda out: (
                _all(hub.ImageClassificationOutputElement, out) and {c.label for c in out} == {"cat", "dog", "bird"}
            )
        ),
        (sample_png(),),
    ),
    Case(
        "object_detection",
        "object_detection",
        "demo/object-detection",
        _that(lambda out: _all(hub.ObjectDetectionOutputElement, out)),
        (sample_png(),),
        {"threshold": 0.0},
    ),
    Case(
        "automatic_speech_recognition",
        "automatic_speech_recognition",
        "demo/speech-recognition",
        _that(lambda out: isinstance(out, hub.AutomaticSpeechRecognitionOutput) and isinstance(out.text, str)),
        (sample_wav(),),
    ),
    Case(
        "audio_classification",
        "audio_classification",
        "demo/audio-classification",
        _that(lambda out: _all(hub.AudioClassificationOutputElement, out) and len(out) == 2),
        (sample_wav(),),
        {"top_k": 2},
    ),
    Case(
        "feature_extraction",
        "feature_extraction",
        f"{MINILM}/pipeline/feature-extraction",
        _check_embeddings(1),
        ("Hello world",),
    ),
    Case(
        "feature_extraction_batch",
        "feature_extraction",
        f"{MINILM}/pipeline/feature-extraction",
        _check_embeddings(2),
        (["Hello world", "Goodbye"],),
    ),
    Case(
        "sentence_similarity",
        "sentence_similarity",
        f"{MINILM}/pipeline/sentence-similarity",
        _sorted_scores,
        ("A man is eating food.",),
        {
            "other_sentences": [
                "A man is eating a piece of bread.",
                "A man is riding a horse.",
                "The girl is carrying a baby.",
            ]
        },
    ),
]


def _model(live: LiveServer, case: Case) -> str:
    """The model argument of a call: the model's URL on the local server, as for an Inference Endpoint."""
    return f"{live.url}/models/{case.route}"


@pytest.mark.parametrize("case", HUB_CASES, ids=[c.name for c in HUB_CASES])
def test_huggingface_hub_sync(live: LiveServer, case: Case) -> None:
    client = hub.InferenceClient(timeout=60)
    out = getattr(client, case.method)(*case.args, **case.kwargs, model=_model(live, case))
    case.check(list(out) if case.stream else out)


@pytest.mark.parametrize("case", HUB_CASES, ids=[c.name for c in HUB_CASES])
def test_huggingface_hub_async(live: LiveServer, case: Case) -> None:
    async def call() -> Any:
        async with hub.AsyncInferenceClient(timeout=60) as client:
            out = await getattr(client, case.method)(*case.args, **case.kwargs, model=_model(live, case))
            return [item async for item in out] if case.stream else out

    case.check(asyncio.run(call()))


def test_huggingface_hub_chat_on_the_servers_url(live: LiveServer) -> None:
    """A TGI-style base URL: `/v1/chat/completions` without a model in the path goes to the first LM."""
    out = hub.InferenceClient(base_url=live.url, timeout=60).chat_completion(MESSAGES, max_tokens=5)
    _check_chat(out)


def test_huggingface_hub_reads_errors(live: LiveServer) -> None:
    client = hub.InferenceClient(timeout=60)
    with pytest.raises(hub.errors.HfHubHTTPError) as caught:
        client.fill_mask("a [MASK].", model=f"{live.url}/models/nobody/nothing")
    assert caught.value.response.status_code == 404
    assert "demo/fill-mask" in str(caught.value) and "--model ID=PATH[@TASK]" in str(caught.value)
    with pytest.raises(hub.errors.HfHubHTTPError, match="serves fill-mask: No mask_token"):
        client.fill_mask("no mask here", model=f"{live.url}/models/demo/fill-mask")


# -- the openai SDK: chat completions and the model list on /v1 -------------------------------------------------
def _check_openai_chat(out: Any) -> None:
    assert isinstance(out, openai.types.chat.ChatCompletion) and out.model == "demo/text-generation"
    assert out.choices[0].message.role == "assistant" and out.usage is not None
    assert out.usage.completion_tokens <= 5


def _check_openai_stream(chunks: list[Any]) -> None:
    assert chunks and all(isinstance(c, openai.types.chat.ChatCompletionChunk) for c in chunks)
    with_choices = [c for c in chunks if c.choices]
    assert with_choices and all(c.choices[0].delta.role == "assistant" for c in with_choices)
    assert with_choices[-1].choices[0].finish_reason in ("length", "stop")
    usage = chunks[-1].usage
    assert usage is not None and usage.completion_tokens == len(with_choices) - 2  # the role chunk, the finish chunk


def _check_openai_models(page: Any) -> None:
    ids = {m.id for m in page.data}
    assert {"demo/text-generation", "demo/fill-mask", MINILM} <= ids
    assert all(isinstance(m, openai.types.Model) and m.object == "model" for m in page.data)
    by_id = {m.id: m for m in page.data}
    assert by_id["demo/fill-mask"].model_extra["task"] == "fill-mask"
    assert by_id["broken/model"].model_extra["state"] == "failed"


OPENAI_CASES: list[tuple[str, Callable[[Any], Any], Callable[[Any], None], bool]] = [
    (
        "chat_max_tokens",
        lambda c: c.chat.completions.create(model="demo/text-generation", messages=MESSAGES, max_tokens=5),
        _check_openai_chat,
        False,
    ),
    (
        "chat_max_completion_tokens",
        lambda c: c.chat.completions.create(model="demo/text-generation", messages=MESSAGES, max_completion_tokens=5),
        _check_openai_chat,
        False,
    ),
    (
        "chat_stream",
        lambda c: c.chat.completions.create(
            model="demo/text-generation",
            messages=MESSAGES,
            max_completion_tokens=5,
            stream=True,
            stream_options={"include_usage": True},
        ),
        _check_openai_stream,
        True,
    ),
    ("models", lambda c: c.models.list(), _check_openai_models, False),
]


@pytest.mark.parametrize(("name", "call", "check", "stream"), OPENAI_CASES, ids=[c[0] for c in OPENAI_CASES])
def test_openai_sync(
    live: LiveServer, name: str, call: Callable[[Any], Any], check: Callable[[Any], None], stream: bool
) -> None:
    del name
    with openai.OpenAI(base_url=f"{live.url}/v1", api_key="unused", max_retries=0, timeout=60) as client:
        out = call(client)
        check(list(out) if stream else out)


@pytest.mark.parametrize(("name", "call", "check", "stream"), OPENAI_CASES, ids=[c[0] for c in OPENAI_CASES])
def test_openai_async(
    live: LiveServer, name: str, call: Callable[[Any], Any], check: Callable[[Any], None], stream: bool
) -> None:
    del name

    async def run() -> Any:
        async with openai.AsyncOpenAI(base_url=f"{live.url}/v1", api_key="unused", max_retries=0, timeout=60) as c:
            out = await call(c)
            return [chunk async for chunk in out] if stream else out

    check(asyncio.run(run()))


def test_openai_errors(live: LiveServer) -> None:
    with openai.OpenAI(base_url=f"{live.url}/v1", api_key="unused", max_retries=0, timeout=60) as client:
        with pytest.raises(openai.UnprocessableEntityError) as too_long:
            client.chat.completions.create(model="demo/text-generation", messages=MESSAGES, max_tokens=1000)
        assert too_long.value.code == "unprocessable_entity" and too_long.value.type == "invalid_request_error"
        assert "max_tokens" in too_long.value.message
        with pytest.raises(openai.BadRequestError) as bad:
            client.chat.completions.create(
                model="demo/text-generation", messages=MESSAGES, extra_body={"temperature": "hot"}
            )
        assert bad.value.code == "bad_request" and "temperature" in bad.value.message
    with openai.OpenAI(
        base_url=f"{live.url}/models/nobody/nothing/v1", api_key="unused", max_retries=0, timeout=60
    ) as client:
        with pytest.raises(openai.NotFoundError) as missing:
            client.chat.completions.create(model="nobody/nothing", messages=MESSAGES)
        assert missing.value.code == "not_found" and "demo/text-generation" in missing.value.message
