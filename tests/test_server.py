"""End-to-end: the real client against the local server on 127.0.0.1, with real (tiny or embedded) models."""

from __future__ import annotations

import io
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("transformers")
pytest.importorskip("sentence_transformers")

import requests

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
from typed_inference.server.demo import build_demo_models, read_manifest
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

MINILM = EMBEDDED_ID


@dataclass
class LiveServer:
    """A server app running under uvicorn on a thread of the test process, on a free port of 127.0.0.1."""

    url: str
    app: Any
    uvicorn: Any
    thread: threading.Thread

    @property
    def state(self) -> Any:
        return self.app.state.server

    def stop(self) -> None:
        self.uvicorn.should_exit = True
        self.thread.join(timeout=20)


def start_server(config: ServerConfig, *, wait_ready: bool = True) -> LiveServer:
    """Starts the app in-process (torch is imported once per test session) and waits for its models."""
    import uvicorn

    from typed_inference.server.app import create_app

    app = create_app(config)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    live = LiveServer(f"http://127.0.0.1:{port}", app, server, thread)
    if wait_ready:
        wait_until_loaded(live.url)
    return live


def wait_until_loaded(url: str, timeout: float = 180) -> dict[str, Any]:
    """Polls /health until no model is queued or loading."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            health: dict[str, Any] = requests.get(f"{url}/health", timeout=5).json()
            if health["status"] == "ok":
                return health
        except requests.ConnectionError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"models still loading after {timeout} s")
        time.sleep(0.1)


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every demo model, built once per session (a few seconds)."""
    directory = tmp_path_factory.mktemp("demo-models")
    build_demo_models(directory)
    return directory


@pytest.fixture(scope="session")
def hf_cache(tmp_path_factory: pytest.TempPathFactory, demo_dir: Path) -> Path:
    """A Hugging Face cache folder holding two demo models in the hub's layout (loaded on first request)."""
    cache = tmp_path_factory.mktemp("hf-cache")
    for name in ("cached-a", "cached-b"):
        repo = cache / f"models--local--{name}"
        shutil.copytree(demo_dir / "text-classification", repo / "snapshots" / "0123abcd")
        (repo / "refs").mkdir()
        (repo / "refs" / "main").write_text("0123abcd")
    return cache


@pytest.fixture(scope="session")
def live(demo_dir: Path, hf_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The server with every demo model, the embedded MiniLM, the test cache and one model that cannot load."""
    broken = tmp_path_factory.mktemp("broken-model")
    sources = [ModelSource(model_id, path, task) for model_id, (path, task) in read_manifest(demo_dir).items()]
    sources.append(ModelSource("broken/model", broken, "fill-mask"))
    server = start_server(ServerConfig(models=sources, hf_cache=hf_cache))
    yield server
    server.stop()


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
    messages = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]
    out = client.text_generation(messages, model="demo/text-generation", max_new_tokens=5, details=True)
    assert isinstance(out, TextGenerationOutput) and out.details is not None
    chat = client.chat_completion(messages, model="demo/text-generation", max_tokens=5)
    assert chat.usage is not None and out.details.generated_tokens == chat.usage.completion_tokens
    assert out.generated_text == chat.choices[0].message.content


def test_chat_completion(client: InferenceClient, live: LiveServer) -> None:
    messages = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]
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
