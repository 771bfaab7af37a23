"""End-to-end: the real client against the local server on 127.0.0.1, with real (tiny or embedded) models."""

from __future__ import annotations

import io
import json
import logging
import math
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("transformers")
pytest.importorskip("sentence_transformers")

import requests

from tests.live import LiveServer, start_server
from typed_inference import (
    BadRequestError,
    InferenceClient,
    ModelLoadingError,
    ModelNotFoundError,
    RateLimitError,
    UnprocessableEntityError,
)
from typed_inference._errors import InternalServerError
from typed_inference.inference_api import InferenceApi
from typed_inference.server.config import ServerConfig
from typed_inference.server.demo import read_manifest
from typed_inference.server.resolve import EMBEDDED_ID, ModelSource
from typed_inference.server.samples import sample_png, sample_wav
from typed_inference.types import (
    AudioClassificationOutputElement,
    AutomaticSpeechRecognitionOutput,
    ChatCompletionOutput,
    FillMaskOutputElement,
    ImageClassificationOutputElement,
    ObjectDetectionOutputElement,
    QuestionAnsweringOutputElement,
    SummarizationOutput,
    TextClassificationOutputElement,
    TextGenerationOutput,
    TokenClassificationOutputElement,
    TranslationOutput,
    ZeroShotClassificationOutputElement,
)
from typed_inference.types.params import ChatCompletionInputMessageParam

MINILM = EMBEDDED_ID


@pytest.fixture
def client(live: LiveServer) -> Iterator[InferenceClient]:
    with InferenceClient(base_url=live.url, hub_url=live.url, max_retries=0, timeout=60) as c:
        yield c


# -- every task, typed ------------------------------------------------------------------------------------------
def test_fill_mask(client: InferenceClient) -> None:
    found = client.fill_mask("the goal of life is [MASK].", model="demo/fill-mask", top_k=3)
    assert len(found) == 3 and all(isinstance(c, FillMaskOutputElement) for c in found)
    assert found[0].score >= found[1].score and found[0].sequence.startswith("the goal of life is")
    per_mask = client.fill_mask("the [MASK] of [MASK].", model="demo/fill-mask", top_k=2, multiple_masks=True)
    assert len(per_mask) == 2 and all(len(c) == 2 for c in per_mask)
    batch = client.fill_mask(["a [MASK].", "b [MASK]."], model="demo/fill-mask", top_k=1)
    assert len(batch) == 2 and isinstance(batch[1][0], FillMaskOutputElement)


def test_text_classification(client: InferenceClient) -> None:
    found = client.text_classification("i love this movie", model="demo/text-classification")
    assert {c.label for c in found} == {"POSITIVE", "NEGATIVE"} and isinstance(
        found[0], TextClassificationOutputElement
    )
    assert math.isclose(sum(c.score for c in found), 1.0, rel_tol=1e-5)
    batch = client.text_classification(["good", "bad"], model="demo/text-classification", top_k=1)
    assert [len(b) for b in batch] == [1, 1]


def test_token_classification(client: InferenceClient) -> None:
    text = "my name is sarah and i live in london"
    grouped = client.token_classification(text, model="demo/token-classification", ignore_labels=[])
    assert grouped and all(isinstance(e, TokenClassificationOutputElement) and e.entity_group for e in grouped)
    for entity in grouped:
        assert entity.start is not None and entity.end is not None
        assert text[entity.start : entity.end] == entity.word
    tokens = client.token_classification(text, model="demo/token-classification", aggregation_strategy="none")
    assert all(t.entity is not None and t.entity_group is None for t in tokens)


def test_question_answering(client: InferenceClient) -> None:
    context = "Hugging Face is based in Brooklyn, New York. It was founded in 2016."
    answers = client.question_answering(
        question="Where is it based?", context=context, model="demo/question-answering", top_k=3
    )
    assert 1 <= len(answers) <= 3 and all(isinstance(a, QuestionAnsweringOutputElement) for a in answers)
    for answer in answers:
        assert context[answer.start : answer.end] == answer.answer and 0 < answer.score <= 1
    assert answers == sorted(answers, key=lambda a: a.score, reverse=True)


def test_zero_shot_classification(client: InferenceClient) -> None:
    labels = ["sports", "politics", "cooking"]
    found = client.zero_shot_classification(
        "the match ended in a draw", candidate_labels=labels, model="demo/zero-shot-classification"
    )
    assert sorted(c.label for c in found) == sorted(labels)
    assert isinstance(found[0], ZeroShotClassificationOutputElement)
    assert math.isclose(sum(c.score for c in found), 1.0, rel_tol=1e-5)
    multi = client.zero_shot_classification(
        "x", candidate_labels=labels, multi_label=True, model="demo/zero-shot-classification"
    )
    assert all(0 <= c.score <= 1 for c in multi)


def test_text_generation(client: InferenceClient) -> None:
    out = client.text_generation("hello there", model="demo/text-generation", max_new_tokens=6, details=True)
    assert isinstance(out, TextGenerationOutput) and out.details is not None
    assert out.details.generated_tokens == len(out.details.tokens) <= 6
    assert out.details.finish_reason in ("length", "eos_token")
    assert all(t.logprob is not None and t.logprob <= 0 for t in out.details.tokens)
    again = client.text_generation("hello there", model="demo/text-generation", max_new_tokens=6)
    assert again.generated_text == out.generated_text  # greedy decoding is deterministic
    full = client.text_generation("hello there", model="demo/text-generation", max_new_tokens=3, return_full_text=True)
    assert full.generated_text.startswith("hello there")
    events = list(client.text_generation("hello", model="demo/text-generation", max_new_tokens=5, stream=True))
    assert len(events) == 5 and events[-1].generated_text is not None
    assert (
        "".join(e.token.text for e in events)
        == client.text_generation("hello", model="demo/text-generation", max_new_tokens=5).generated_text
    )


def test_text_generation_with_chat_messages(client: InferenceClient) -> None:
    """hf-inference's pipeline takes a conversation as `inputs` and applies the chat template, as chat does."""
    messages: list[ChatCompletionInputMessageParam] = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hi"},
    ]
    out = client.text_generation(messages, model="demo/text-generation", max_new_tokens=5, details=True)
    assert isinstance(out, TextGenerationOutput) and out.details is not None
    chat = client.chat_completion(messages, model="demo/text-generation", max_tokens=5)
    assert chat.usage is not None and out.details.generated_tokens == chat.usage.completion_tokens
    assert out.generated_text == chat.choices[0].message.content


def test_chat_completion(client: InferenceClient, live: LiveServer) -> None:
    messages: list[ChatCompletionInputMessageParam] = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hi"},
    ]
    out = client.chat_completion(messages, model="demo/text-generation", max_tokens=5)
    assert isinstance(out, ChatCompletionOutput) and out.model == "demo/text-generation"
    assert out.choices[0].message.role == "assistant" and out.usage is not None
    assert (
        out.usage.completion_tokens <= 5
        and out.usage.total_tokens == out.usage.prompt_tokens + out.usage.completion_tokens
    )
    chunks = list(client.chat_completion(messages, model="demo/text-generation", max_tokens=5, stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == out.choices[0].message.content
    # the OpenAI-style route without a model in the path (a TGI server's URL as the model)
    direct = client.chat_completion(messages, model=live.url, max_tokens=5)
    assert direct.choices[0].message.content == out.choices[0].message.content


def test_summarization_and_translation(client: InferenceClient) -> None:
    summary = client.summarization("the committee met on tuesday and agreed on a budget.", model="demo/summarization")
    assert isinstance(summary, SummarizationOutput) and summary.summary_text
    translated = client.translation("the house is wonderful.", model="demo/translation")
    assert isinstance(translated, TranslationOutput) and translated.translation_text
    with pytest.raises(BadRequestError, match="model_kwargs"):
        client.summarization("x", model="demo/summarization", generate_parameters={"no_such_option": 1})


def test_lists_of_texts_answer_one_result_per_text(client: InferenceClient) -> None:
    """Issue 36: a list of texts, as hf-inference takes it, for translation, summarization and zero-shot."""
    texts = ["the house is wonderful.", "the cat sleeps."]
    translated = client.translation(texts, model="demo/translation")
    assert [t.translation_text for t in translated] == [
        client.translation(text, model="demo/translation").translation_text for text in texts
    ]
    summaries = client.summarization(texts[:1], model="demo/summarization")
    assert len(summaries) == 1 and isinstance(summaries[0], SummarizationOutput)
    labels = ["sports", "cooking"]
    found = client.zero_shot_classification(texts, candidate_labels=labels, model="demo/zero-shot-classification")
    assert len(found) == 2 and all(sorted(c.label for c in one) == sorted(labels) for one in found)
    one = client.zero_shot_classification(texts[1], candidate_labels=labels, model="demo/zero-shot-classification")
    assert found[1] == one


def test_image_tasks(client: InferenceClient) -> None:
    classes = client.image_classification(sample_png(), model="demo/image-classification")
    assert {c.label for c in classes} == {"cat", "dog", "bird"}
    assert isinstance(classes[0], ImageClassificationOutputElement)
    top = client.image_classification(sample_png(), model="demo/image-classification", top_k=1)  # JSON + base64
    assert len(top) == 1
    boxes = client.object_detection(sample_png(), model="demo/object-detection", threshold=0.0)
    assert boxes and all(isinstance(b, ObjectDetectionOutputElement) for b in boxes)
    assert all(0 <= b.box.xmin <= b.box.xmax and 0 <= b.box.ymin <= b.box.ymax for b in boxes)
    assert client.object_detection(sample_png(), model="demo/object-detection", threshold=1.0) == []


def test_audio_tasks(client: InferenceClient) -> None:
    import numpy as np
    import soundfile  # type: ignore[import-untyped, import-not-found, unused-ignore]

    out = client.automatic_speech_recognition(sample_wav(), model="demo/speech-recognition", return_timestamps=True)
    assert isinstance(out, AutomaticSpeechRecognitionOutput) and out.chunks is not None
    for chunk in out.chunks:
        start, end = chunk.timestamp
        assert start is not None and (end is None or start <= end)
    flac = io.BytesIO()  # FLAC at 8 kHz, stereo: decoded by soundfile and resampled, no ffmpeg
    soundfile.write(flac, np.zeros((8000, 2), dtype=np.float32), 8000, format="FLAC")
    assert isinstance(client.automatic_speech_recognition(flac.getvalue(), model="demo/speech-recognition").text, str)
    classes = client.audio_classification(sample_wav(), model="demo/audio-classification", top_k=2)
    assert len(classes) == 2 and isinstance(classes[0], AudioClassificationOutputElement)


# -- the embedded MiniLM: real, meaningful embeddings -----------------------------------------------------------
def test_minilm_ranks_sentences_by_meaning(client: InferenceClient) -> None:
    scores = client.sentence_similarity(
        source_sentence="A man is eating food.",
        sentences=["A man is eating a piece of bread.", "A man is riding a horse.", "The girl is carrying a baby."],
        model=MINILM,
    )
    assert scores[0] > 0.6 and scores[0] > scores[1] > scores[2]


def test_minilm_feature_extraction(client: InferenceClient) -> None:
    (vector,) = client.feature_extraction("Hello world", model=MINILM)
    assert len(vector) == 384 and math.isclose(sum(v * v for v in vector), 1.0, rel_tol=1e-4)
    raw = client.feature_extraction("Hello world", model=MINILM, normalize=False)[0]
    assert not math.isclose(sum(v * v for v in raw), 1.0, rel_tol=1e-3)
    batch = client.feature_extraction(["Hello world", "Goodbye"], model=MINILM)
    assert [len(item) for item in batch] == [1, 1]
    assert batch[0][0] == pytest.approx(vector, abs=1e-5)
    long_text = "word " * 400
    with pytest.raises(UnprocessableEntityError, match="truncate"):
        client.feature_extraction(long_text, model=MINILM)
    assert len(client.feature_extraction(long_text, model=MINILM, truncate=True)[0]) == 384


def test_concurrent_clients_are_micro_batched(live: LiveServer) -> None:
    texts = [f"sentence number {i} about topic {i % 3}" for i in range(8)]
    with InferenceClient(base_url=live.url, max_retries=0) as single:
        expected = {t: single.feature_extraction(t, model=MINILM)[0] for t in texts}
    batcher = live.state.batchers[MINILM]
    before_batches, before_items = batcher.batches, batcher.items
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def worker(text: str) -> None:
        with InferenceClient(base_url=live.url, max_retries=0) as c:
            start.wait()
            for _ in range(6):
                try:
                    got = c.feature_extraction(text, model=MINILM)[0]
                    assert got == pytest.approx(expected[text], abs=1e-4)
                except BaseException as exc:
                    errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    items, batches = batcher.items - before_items, batcher.batches - before_batches
    assert items == 48 and batches < items  # several requests shared a forward pass


# -- behaving like the real service -----------------------------------------------------------------------------
def test_errors_are_json_with_status_and_request_id(live: LiveServer) -> None:
    bad = requests.post(f"{live.url}/models/demo/fill-mask", json={"inputs": "a [MASK]", "parameters": {"top_k": "5"}})
    assert bad.status_code == 400 and "parameters.top_k" in bad.json()["error"] and bad.headers["x-request-id"]
    missing = requests.post(f"{live.url}/models/demo/question-answering", json={"inputs": {"question": "q"}})
    assert missing.status_code == 400 and "inputs.context" in missing.json()["error"]
    unknown_field = requests.post(f"{live.url}/models/demo/fill-mask", json={"inputs": "a [MASK]", "parametres": {}})
    assert unknown_field.status_code == 400 and "parameters" in unknown_field.json()["error"]
    not_json = requests.post(
        f"{live.url}/models/demo/fill-mask", data=b"{oops", headers={"content-type": "application/json"}
    )
    assert not_json.status_code == 400 and "error" in not_json.json()
    route = requests.get(f"{live.url}/no/such/route")
    assert route.status_code == 404 and set(route.json()) == {"error"}
    method = requests.get(f"{live.url}/models/demo/fill-mask")
    assert method.status_code == 405 and "error" in method.json()
    image = requests.post(f"{live.url}/models/demo/image-classification", data=b"not an image")
    assert image.status_code == 400 and "image" in image.json()["error"]


def test_over_long_input_is_a_422_naming_the_models_limit(live: LiveServer) -> None:
    """A text past the model's positions: 422 with the limit and how to cut it, not torch's 500 (issue 32.4)."""
    long = "word " * 300
    fill = requests.post(f"{live.url}/models/demo/fill-mask", json={"inputs": long + "[MASK]."})
    assert fill.status_code == 422, fill.text
    assert re.fullmatch(
        r"Input validation error: `inputs` has \d+ tokens, more than the 128 model demo/fill-mask takes; fill-mask"
        r" has no truncation: shorten the text",
        fill.json()["error"],
    )
    tokens = requests.post(f"{live.url}/models/demo/token-classification", json={"inputs": long})
    assert tokens.status_code == 422 and tokens.json()["error"].endswith(
        "pass stride to read it in overlapping windows"
    )
    windows = {"inputs": long, "parameters": {"stride": 16, "aggregation_strategy": "simple"}}
    assert requests.post(f"{live.url}/models/demo/token-classification", json=windows).status_code == 200
    classes = requests.post(f"{live.url}/models/demo/text-classification", json={"inputs": long})
    assert classes.status_code == 200  # text-classification truncates, as the hosted service does
    short = requests.post(f"{live.url}/models/demo/fill-mask", json={"inputs": "a word [MASK]."})
    assert short.status_code == 200


def test_typed_errors(client: InferenceClient) -> None:
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        client.fill_mask("a [MASK]", model="nobody/nothing")
    with pytest.raises(BadRequestError, match="mask_token"):
        client.fill_mask("no mask here", model="demo/fill-mask")
    with pytest.raises(UnprocessableEntityError, match="must be <= 128") as caught:
        client.text_generation("hello", model="demo/text-generation", max_new_tokens=500)
    assert caught.value.request_id
    with pytest.raises(UnprocessableEntityError, match="must be <= 128"):  # checked before the stream starts
        client.text_generation("hello", model="demo/text-generation", max_new_tokens=500, stream=True)
    with pytest.raises(UnprocessableEntityError, match="grammar not supported"):
        client.text_generation("hello", model="demo/text-generation", grammar={"type": "regex", "value": "a+"})
    with pytest.raises(UnprocessableEntityError, match="max_tokens"):
        client.chat_completion([{"role": "user", "content": "hi"}], model="demo/text-generation", max_tokens=1000)
    with pytest.raises(BadRequestError, match="serves fill-mask"):
        client.feature_extraction("x", model="demo/fill-mask")
    with pytest.raises(InternalServerError, match="failed to load"):
        client.fill_mask("a [MASK]", model="broken/model")


def test_headers(client: InferenceClient) -> None:
    raw = client.with_raw_response.fill_mask("a [MASK].", model="demo/fill-mask", extra_headers={"x-request-id": "abc"})
    assert raw.request_id == "abc" and raw.compute_type == "cpu"
    assert raw.compute_time is not None and float(raw.compute_time) >= 0
    assert client.with_raw_response.fill_mask("a [MASK].", model="demo/fill-mask").request_id


def test_loading_model_answers_503_then_serves(live: LiveServer) -> None:
    with InferenceClient(base_url=live.url, max_retries=0) as impatient:
        with pytest.raises(ModelLoadingError) as caught:
            impatient.text_classification("hi", model="local/cached-a")
        assert caught.value.estimated_time is not None and caught.value.estimated_time > 0
        assert "currently loading" in caught.value.server_message
        assert impatient.text_classification("hi", model="local/cached-a", wait_for_model=True)
    with InferenceClient(base_url=live.url, max_retries=4) as patient:  # retried at once with X-Wait-For-Model
        assert patient.text_classification("hi", model="local/cached-b")


def test_bounded_queue_answers_429(demo_dir: Path) -> None:
    path, task = read_manifest(demo_dir)["demo/text-generation"]
    server = start_server(
        ServerConfig(models=[ModelSource("demo/text-generation", path, task)], embedded=False, max_queue=1)
    )
    outcomes: list[str] = []
    start = threading.Barrier(12)

    def worker() -> None:
        with InferenceClient(base_url=server.url, max_retries=0) as c:
            start.wait()
            try:
                c.text_generation("hello", model="demo/text-generation", max_new_tokens=100)
                outcomes.append("ok")
            except RateLimitError as exc:
                assert exc.error_type == "overloaded"
                outcomes.append("429")

    try:
        threads = [threading.Thread(target=worker) for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        server.stop()
    assert "ok" in outcomes and "429" in outcomes and len(outcomes) == 12


def test_inference_api_reads_each_models_task(live: LiveServer, demo_dir: Path) -> None:
    for model_id, (_, task) in read_manifest(demo_dir).items():
        assert InferenceApi(model_id, base_url=live.url, hub_url=live.url).task == task
    api = InferenceApi("demo/fill-mask", base_url=live.url, hub_url=live.url)
    assert isinstance(api(inputs="the goal of life is [MASK].")[0], FillMaskOutputElement)
    minilm = InferenceApi(MINILM, base_url=live.url, hub_url=live.url)
    assert minilm.task == "sentence-similarity"
    scores = minilm(inputs={"source_sentence": "a cat", "sentences": ["a kitten", "a tax form"]})
    assert scores[0] > scores[1]
    meta = requests.get(f"{live.url}/api/models/{MINILM}").json()
    assert meta["library_name"] == "sentence-transformers" and meta["pipeline_tag"] == "sentence-similarity"
    assert requests.get(f"{live.url}/api/models/nobody/nothing").status_code == 404


def test_legacy_routes_health_and_openapi(live: LiveServer) -> None:
    legacy = requests.post(f"{live.url}/pipeline/feature-extraction/{MINILM}", json={"inputs": "hi"})
    assert legacy.status_code == 200 and len(legacy.json()[0]) == 384
    health = requests.get(f"{live.url}/health").json()
    states = {m["id"]: m["state"] for m in health["models"]}
    assert states[MINILM] == "ready" and states["broken/model"] == "failed"
    doc = requests.get(f"{live.url}/openapi.json").json()
    assert "/models/{model_id}" in doc["paths"] and "/health" in doc["paths"]
    assert "FillMaskInput" in doc["components"]["schemas"]
    body = doc["paths"]["/models/{model_id}"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert {"$ref": "#/components/schemas/FillMaskInput"} in body["anyOf"]


# -- the hosted wire (issue 17): what the hosted service sends, which other clients read -------------------------
def _sse(response: requests.Response) -> list[Any]:
    """The JSON events of a server-sent events answer (`[DONE]` left out)."""
    lines = [line.removeprefix("data:").strip() for line in response.text.splitlines() if line.startswith("data:")]
    return [json.loads(line) for line in lines if line != "[DONE]"]


def test_answers_in_the_hosted_shapes(live: LiveServer) -> None:
    post = partial(_post, live)
    one = post("demo/text-classification", {"inputs": "i love this"})
    assert len(one) == 1 and {c["label"] for c in one[0]} == {"POSITIVE", "NEGATIVE"}  # [[{label, score}, ...]]
    assert [len(b) for b in post("demo/text-classification", {"inputs": ["a", "b"]})] == [2, 2]
    question = {"question": "Where is it based?", "context": "It is based in Brooklyn, New York."}
    best = post("demo/question-answering", {"inputs": question})
    assert isinstance(best, dict) and set(best) == {"answer", "score", "start", "end"}  # one object without top_k
    several = post("demo/question-answering", {"inputs": question, "parameters": {"top_k": 3}})
    assert isinstance(several, list) and all(isinstance(a, dict) for a in several)
    summary = post("demo/summarization", {"inputs": "the committee met on tuesday."})
    assert isinstance(summary, list) and len(summary) == 1 and set(summary[0]) == {"summary_text"}
    translated = post("demo/translation", {"inputs": "the house is wonderful."})
    assert isinstance(translated, list) and len(translated) == 1 and set(translated[0]) == {"translation_text"}
    rows = post(f"{MINILM}/pipeline/feature-extraction", {"inputs": ["Hello world", "Goodbye", "Bye"]})
    assert [len(row) for row in rows] == [384, 384, 384] and isinstance(rows[0][0], float)  # n rows, not n×1×384
    (row,) = post(f"{MINILM}/pipeline/feature-extraction", {"inputs": "Hello world"})
    assert len(row) == 384


def _post(live: LiveServer, route: str, body: Any) -> Any:
    response = requests.post(f"{live.url}/models/{route}", json=body, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def test_streams_carry_logprobs_and_the_role(live: LiveServer) -> None:
    body = {"inputs": "hello", "parameters": {"max_new_tokens": 4}, "stream": True}
    events = _sse(requests.post(f"{live.url}/models/demo/text-generation", json=body, timeout=60))
    assert len(events) == 4 and all(isinstance(e["token"]["logprob"], float) for e in events)
    assert all(e["token"]["logprob"] <= 0 for e in events)
    details = _post(
        live, "demo/text-generation", {**body, "stream": False, "parameters": {"max_new_tokens": 4, "details": True}}
    )
    streamed = [e["token"]["logprob"] for e in events]
    assert streamed == pytest.approx([t["logprob"] for t in details["details"]["tokens"]], abs=1e-4)
    chat = {"model": "demo/text-generation", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}
    chunks = _sse(requests.post(f"{live.url}/v1/chat/completions", json={**chat, "stream": True}, timeout=60))
    assert len(chunks) == 6  # the opening chunk, one per token, the finish chunk
    assert all(c["choices"][0]["delta"]["role"] == "assistant" for c in chunks)


def test_openai_routes_take_max_completion_tokens_and_answer_openai_errors(live: LiveServer) -> None:
    chat = {"model": "demo/text-generation", "messages": [{"role": "user", "content": "hi"}]}
    for route in ("/v1/chat/completions", "/models/demo/text-generation/v1/chat/completions"):
        out = requests.post(f"{live.url}{route}", json={**chat, "max_completion_tokens": 3}, timeout=60)
        assert out.status_code == 200 and out.json()["usage"]["completion_tokens"] <= 3
        both = requests.post(f"{live.url}{route}", json={**chat, "max_tokens": 2, "max_completion_tokens": 3})
        assert both.status_code == 400
        error = both.json()["error"]
        assert set(error) == {"message", "type", "code"} and error["type"] == "invalid_request_error"
        assert "max_completion_tokens" in error["message"]
    too_long = requests.post(f"{live.url}/v1/chat/completions", json={**chat, "max_completion_tokens": 1000})
    assert too_long.status_code == 422 and too_long.json()["error"]["code"] == "unprocessable_entity"
    assert too_long.json()["error_type"] == "validation"  # beside `error`, where the Inference API's clients read it
    no_route = requests.get(f"{live.url}/v1/nothing")
    assert no_route.status_code == 404 and no_route.json()["error"]["type"] == "invalid_request_error"
    not_json = requests.post(
        f"{live.url}/v1/chat/completions", data=b"{oops", headers={"content-type": "application/json"}
    )
    assert not_json.status_code == 400 and isinstance(not_json.json()["error"]["message"], str)
    # the Inference API's routes keep {"error": "..."}
    api = requests.post(f"{live.url}/models/demo/text-generation", json={"inputs": "hi", "max_tokens": 1})
    assert api.status_code == 400 and isinstance(api.json()["error"], str)
    assert isinstance(requests.get(f"{live.url}/no/such/route").json()["error"], str)


def test_unknown_model_lists_what_is_served(live: LiveServer) -> None:
    missing = requests.post(f"{live.url}/models/nobody/nothing", json={"inputs": "x"})
    message = missing.json()["error"]
    assert missing.status_code == 404 and "--model ID=PATH[@TASK]" in message
    assert all(model_id in message for model_id in ("demo/fill-mask", "demo/text-generation", MINILM))
    models = {m["id"]: m for m in requests.get(f"{live.url}/models").json()}
    assert models["demo/fill-mask"]["task"] == "fill-mask" and models["demo/fill-mask"]["state"] == "ready"
    assert models[MINILM]["tasks"] == ["feature-extraction", "sentence-similarity"]
    assert models["broken/model"]["state"] == "failed"
    listed = requests.get(f"{live.url}/v1/models").json()
    assert listed["object"] == "list" and {m["id"] for m in listed["data"]} == set(models)
    first = listed["data"][0]
    assert first["object"] == "model" and isinstance(first["created"], int) and first["owned_by"]
    assert {"task", "state"} <= set(first)


def test_a_failed_load_is_degraded_and_explained(live: LiveServer) -> None:
    health = requests.get(f"{live.url}/health").json()
    assert health["status"] == "degraded"
    failed = {f["id"]: f["error"] for f in health["failed"]}
    assert set(failed) == {"broken/model", "broken/task"}
    assert failed["broken/model"].startswith("cannot load ") and "as a fill-mask model" in failed["broken/model"]
    assert "cannot serve task 'fillmask'" in failed["broken/task"]
    for model_id in failed:
        answer = requests.post(f"{live.url}/models/{model_id}", json={"inputs": "a [MASK]"})
        assert answer.status_code == 500
        assert answer.json() == {"error": f"Model {model_id} failed to load: {failed[model_id]}"}
    assert "KeyError" not in json.dumps(health)


def test_a_400_names_the_task_the_model_serves(live: LiveServer) -> None:
    wrong_method = requests.post(f"{live.url}/models/demo/fill-mask", json={"inputs": "i love this movie"})
    assert wrong_method.status_code == 400
    assert wrong_method.json()["error"].startswith("Model demo/fill-mask serves fill-mask: No mask_token")
    for route in ("/pipeline/feature-extraction/demo/fill-mask", "/models/demo/fill-mask/pipeline/feature-extraction"):
        other = requests.post(f"{live.url}{route}", json={"inputs": "x"})
        assert other.status_code == 400
        assert other.json()["error"] == "Model demo/fill-mask serves fill-mask, not feature-extraction"


def test_a_body_the_models_task_refuses_names_that_task(live: LiveServer) -> None:
    """A summarization call on a fill-mask model (its parameters refused by fill-mask's schema) says what it serves."""
    wrong = requests.post(
        f"{live.url}/models/demo/fill-mask", json={"inputs": "a long text", "parameters": {"max_length": 5}}
    )
    assert wrong.status_code == 400
    assert wrong.json()["error"].startswith("Model demo/fill-mask serves fill-mask: ")


def test_one_access_log_line_per_request_without_the_token(live: LiveServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="typed_inference.server.access")
    headers = {"authorization": "Bearer hf_very_secret_token"}
    requests.post(
        f"{live.url}/models/demo/fill-mask?token=hf_query_secret", json={"inputs": "a [MASK]."}, headers=headers
    )
    requests.post(f"{live.url}/models/nobody/nothing", json={"inputs": "x"}, headers=headers)
    lines = [r.getMessage() for r in caplog.records if r.name == "typed_inference.server.access"]
    assert len(lines) == 2, lines
    assert re.fullmatch(r"POST fill-mask model=demo/fill-mask status=200 [\d.]+ ms", lines[0])  # the task it ran
    assert re.fullmatch(r"POST /models/\{model_id:path\} model=nobody/nothing status=404 [\d.]+ ms", lines[1])
    assert not any("secret" in line for line in lines)


# -- the command line -------------------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_cli_builds_and_serves(tmp_path: Path) -> None:
    cli = [sys.executable, "-m", "typed_inference.cli"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    built = subprocess.run(
        [*cli, "demo-models", str(tmp_path), "--task", "fill-mask"], capture_output=True, text=True, env=env
    )
    assert built.returncode == 0, built.stderr
    assert "random" in built.stdout.lower() and json.loads((tmp_path / "typed-inference-models.json").read_text())
    port = _free_port()
    args = [*cli, "serve", "--port", str(port), "--no-embedded", "--model", f"mine={tmp_path / 'fill-mask'}"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                requests.get(f"{url}/health", timeout=2)
                break
            except requests.ConnectionError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline
                time.sleep(0.2)
        with InferenceClient(base_url=url, max_retries=0) as c:
            found = c.fill_mask("a [MASK].", model="mine", wait_for_model=True)
        assert isinstance(found[0], FillMaskOutputElement)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    bad = subprocess.run([*cli, "serve", "--model", "nonsense"], capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and "ID=PATH" in bad.stderr


def test_serve_checks_each_model_at_start_up(tmp_path: Path, demo_dir: Path) -> None:
    """An unknown @TASK or an unreadable folder stops `serve` before it listens (exit 2), saying why."""
    cli = [sys.executable, "-m", "typed_inference.cli", "serve", "--no-embedded", "--port", str(_free_port())]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    typo = subprocess.run(
        [*cli, "--model", f"foo={demo_dir / 'fill-mask'}@fillmask"], capture_output=True, text=True, env=env
    )
    assert typo.returncode == 2 and "unknown task 'fillmask'; did you mean 'fill-mask'?" in typo.stderr
    empty = subprocess.run([*cli, "--model", f"foo={tmp_path}@fill-mask"], capture_output=True, text=True, env=env)
    assert empty.returncode == 2 and f"cannot read {tmp_path / 'config.json'}" in empty.stderr
    (tmp_path / "config.json").write_text("{not json")
    garbled = subprocess.run([*cli, "--model", f"foo={tmp_path}@fill-mask"], capture_output=True, text=True, env=env)
    assert garbled.returncode == 2 and "config.json is not valid JSON" in garbled.stderr


def test_start_up_failures_are_one_line_and_exit_2(demo_dir: Path) -> None:
    """A busy port, a port out of range and a model that cannot serve its @TASK: one line, exit 2, nothing loaded."""
    import socket

    cli = [sys.executable, "-m", "typed_inference.cli", "serve", "--no-embedded"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = subprocess.run([*cli, "--port", str(port), "--model", f"m={demo_dir / 'fill-mask'}"],
                              capture_output=True, text=True, env=env)  # fmt: skip
    assert busy.returncode == 2
    assert (
        busy.stderr
        == f"typed-inference serve: 127.0.0.1:{port} is already in use (another server? pick another --port)\n"
    )
    out_of_range = subprocess.run([*cli, "--port", "99999"], capture_output=True, text=True, env=env)
    assert out_of_range.returncode == 2
    assert out_of_range.stderr == "typed-inference serve: --port 99999 is not a TCP port (0 to 65535)\n"
    wrong = subprocess.run(
        [*cli, "--port", str(_free_port()), "--model", f"foo={demo_dir / 'fill-mask'}@summarization"],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert wrong.returncode == 2 and len(wrong.stderr.splitlines()) == 1, wrong.stderr
    assert "--model foo: " in wrong.stderr and "BertForMaskedLM model, which cannot serve summarization" in wrong.stderr
    assert "it can serve fill-mask" in wrong.stderr


def test_inference_api_reads_a_loopback_servers_metadata(live: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """No hub_url: the task comes from the local server's `/api/models/{id}` (base_url, or HF_INFERENCE_ENDPOINT)."""
    assert InferenceApi("demo/question-answering", base_url=live.url).task == "question-answering"
    monkeypatch.setenv("HF_INFERENCE_ENDPOINT", live.url)
    api = InferenceApi("demo/fill-mask")
    assert api.task == "fill-mask" and isinstance(api(inputs="a [MASK].")[0], FillMaskOutputElement)


# -- issue 18: bounded bodies and audio, no drive-by requests from web pages -------------------------------------
def _raw(live: LiveServer, head: str, body: bytes = b"") -> tuple[int, Any]:
    """Sends a request head (and `body`, maybe less than it declares) on a raw socket; the answer's status and
    JSON body. A raw socket, so the test sends only part of a large body and sees the server answer before it."""
    port = int(live.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer.split(b"\r\n\r\n", 1)[1]) < _length(answer):
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    status = int(answer.split(b" ", 2)[1])
    return status, json.loads(answer.split(b"\r\n\r\n", 1)[1] or b"null")


def _length(answer: bytes) -> int:
    found = re.search(rb"(?i)content-length: *(\d+)", answer.split(b"\r\n\r\n", 1)[0])
    return int(found.group(1)) if found else 1 << 30


def _chunked(size: int, piece: int = 64 * 1024) -> bytes:
    """`size` bytes in chunked transfer encoding, without the last chunk (the body is still arriving)."""
    return b"".join(f"{len(c):x}\r\n".encode() + c + b"\r\n" for c in [b"x" * piece] * (size // piece))


@pytest.fixture(scope="module")
def small_limits(demo_dir: Path) -> Iterator[LiveServer]:
    """A server with a 1 MiB body limit, a text-classification model and a text-generation model."""
    manifest = read_manifest(demo_dir)
    sources = [ModelSource(m, *manifest[m]) for m in ("demo/text-classification", "demo/text-generation")]
    server = start_server(ServerConfig(models=sources, embedded=False, max_body_bytes=1 << 20))
    yield server
    server.stop()


def test_a_large_body_is_413_and_an_unknown_models_body_is_not_read(small_limits: LiveServer) -> None:
    state = small_limits.state
    runs, read = state.scheduler.runs, state.body_bytes_read
    host = f"Host: 127.0.0.1:{small_limits.url.rsplit(':', 1)[1]}"
    eight_mib = f"Content-Length: {8 << 20}"
    # an unknown model: 404 from the path alone, with 8 MiB declared and none of it sent
    status, body = _raw(small_limits, f"POST /models/no/such-model HTTP/1.1\n{host}\n{eight_mib}\n")
    assert status == 404 and "no/such-model" in body["error"]
    # a known model, 8 MiB declared: 413 with the usual error body, before reading
    status, body = _raw(small_limits, f"POST /models/demo/text-classification HTTP/1.1\n{host}\n{eight_mib}\n")
    assert status == 413 and "--max-body-bytes" in body["error"]
    assert state.body_bytes_read == read
    # no length declared: read chunk by chunk, refused once past the limit (1 MiB), not after the whole body
    chunked = f"{host}\nTransfer-Encoding: chunked\nContent-Type: application/json\n"
    status, body = _raw(small_limits, f"POST /models/demo/text-classification HTTP/1.1\n{chunked}", _chunked(2 << 20))
    assert status == 413 and "--max-body-bytes" in body["error"]
    assert (1 << 20) < state.body_bytes_read - read <= (2 << 20)
    status, body = _raw(small_limits, f"POST /v1/chat/completions HTTP/1.1\n{chunked}", _chunked(2 << 20))
    assert status == 413 and body["error"]["code"] == "payload_too_large"
    assert state.scheduler.runs == runs and state.scheduler.in_flight == 0
    # a body within the limit is still served
    answer = requests.post(f"{small_limits.url}/models/demo/text-classification", json={"inputs": "fine"}, timeout=30)
    assert answer.status_code == 200 and state.scheduler.runs == runs + 1


def test_requests_a_web_page_could_send_are_refused(live: LiveServer) -> None:
    url = f"{live.url}/models/demo/text-classification"
    runs = live.state.scheduler.runs
    # fetch() with a Blob body, or sendBeacon: no Content-Type, no CORS preflight
    refused = requests.post(url, data=b"I love you", headers={"Origin": "https://evil.example"}, timeout=30)
    assert refused.status_code == 403 and "evil.example" in refused.json()["error"]
    site = requests.post(url, json={"inputs": "x"}, headers={"Sec-Fetch-Site": "cross-site"}, timeout=30)
    assert site.status_code == 403
    plain = requests.post(url, data=b'{"inputs": "x"}', headers={"Content-Type": "text/plain"}, timeout=30)
    assert plain.status_code == 403 and "text/plain" in plain.json()["error"]
    form = requests.post(url, data={"inputs": "x"}, timeout=30)  # application/x-www-form-urlencoded
    assert form.status_code == 403
    openai = requests.post(f"{live.url}/v1/chat/completions", json={}, headers={"Origin": "null"}, timeout=30)
    assert openai.status_code == 403 and openai.json()["error"]["code"] == "forbidden"
    rebound = requests.post(url, json={"inputs": "x"}, headers={"Host": "evil.example"}, timeout=30)
    assert rebound.status_code == 421 and "--allow-host" in rebound.json()["error"]
    assert live.state.scheduler.runs == runs  # the model never ran
    port = live.url.rsplit(":", 1)[1]
    for host in (f"localhost:{port}", f"[::1]:{port}", "127.0.0.1"):
        assert requests.get(f"{live.url}/health", headers={"Host": host}, timeout=30).status_code == 200
    same = {"Origin": live.url, "Sec-Fetch-Site": "same-origin"}  # a page the server itself served
    assert requests.post(url, json={"inputs": "I love you"}, headers=same, timeout=30).status_code == 200


def test_which_hosts_a_bind_answers() -> None:
    from typed_inference.server.app import allowed_hosts

    assert allowed_hosts(ServerConfig()) == frozenset({"localhost", "127.0.0.1", "::1"})
    assert allowed_hosts(ServerConfig(host="192.168.1.5", allow_hosts=["box.lan"])) == frozenset(
        {"192.168.1.5", "box.lan"}
    )
    assert allowed_hosts(ServerConfig(host="0.0.0.0", allow_hosts=["box.lan:8080"])) == frozenset({"box.lan"})
    assert allowed_hosts(ServerConfig(host="0.0.0.0", allow_hosts=["*"])) is None


def test_a_wildcard_bind_needs_allow_host() -> None:
    cli = [sys.executable, "-m", "typed_inference.cli", "serve", "--no-embedded", "--port", str(_free_port())]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    wild = subprocess.run([*cli, "--host", "0.0.0.0"], capture_output=True, text=True, env=env)
    assert wild.returncode == 2 and "--allow-host" in wild.stderr


def _wav(rate: int, frames: int) -> bytes:
    import wave

    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(b"\0\0" * frames)
    return out.getvalue()


def test_audio_and_image_bombs_are_400(live: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"{live.url}/models/demo/speech-recognition"
    runs = live.state.scheduler.runs
    bomb = requests.post(url, data=_wav(1, 2000), timeout=30)  # 4 KB declaring 1 Hz: 2,000 s
    assert bomb.status_code == 400 and "--max-audio-seconds" in bomb.json()["error"]
    low = requests.post(url, data=_wav(100, 100), timeout=30)  # one second, but 160x upsampling
    assert low.status_code == 400 and "sample rate" in low.json()["error"]
    assert requests.post(url, data=_wav(16000, 1600), timeout=30).status_code == 200
    assert live.state.scheduler.runs == runs + 3  # refused while decoding, on a worker
    from PIL import Image

    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 16)  # the in-process server's Pillow: sample_png is a bomb now
    big = requests.post(f"{live.url}/models/demo/image-classification", data=sample_png(), timeout=30)
    assert big.status_code == 400 and "too large" in big.json()["error"]


def test_a_manifest_cannot_name_a_folder_outside_its_own(tmp_path: Path) -> None:
    (tmp_path / "inside").mkdir()
    manifest = {
        "models": {"ok": {"path": "inside", "task": "fill-mask"}, "bad": {"path": "../..", "task": "fill-mask"}}
    }
    (tmp_path / "typed-inference-models.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="outside"):
        read_manifest(tmp_path)
    del manifest["models"]["bad"]
    (tmp_path / "typed-inference-models.json").write_text(json.dumps(manifest))
    assert read_manifest(tmp_path) == {"ok": ((tmp_path / "inside").resolve(), "fill-mask")}


def test_cache_models_past_max_loaded_models_are_unloaded(hf_cache: Path) -> None:
    server = start_server(ServerConfig(embedded=False, hf_cache=hf_cache, max_loaded_models=1))

    def states() -> dict[str, str]:
        return {m["id"]: m["state"] for m in requests.get(f"{server.url}/models", timeout=30).json()}

    try:
        for model in ("local/cached-a", "local/cached-b", "local/cached-a"):
            answer = requests.post(
                f"{server.url}/models/{model}", json={"inputs": "hi"}, headers={"X-Wait-For-Model": "true"}, timeout=60
            )
            assert answer.status_code == 200
            other = "local/cached-b" if model == "local/cached-a" else "local/cached-a"
            assert states()[model] == "ready" and states().get(other, "idle") == "idle"
    finally:
        server.stop()
