"""The classic InferenceApi: the guide's four examples against a test server answering with the recorded bodies."""

from __future__ import annotations

import pytest

import typed_inference as ti
from tests.server import Received, Reply, ScriptedServer
from typed_inference.inference_api import InferenceApi
from typed_inference.types import (
    FillMaskOutputElement,
    QuestionAnsweringOutputElement,
    ZeroShotClassificationOutputElement,
)

ZERO_SHOT_TEXT = (
    "Hi, I recently bought a device from your company but it is not working as advertised and I would like to get "
    "reimbursed!"
)


def hub_and_models(server: ScriptedServer, tags: dict[str, str | None], answers: dict[str, object]) -> None:
    """Answers hub metadata for `tags` (with the bert rename as a 307) and task calls from `answers`."""

    def handle(request: Received) -> Reply:
        if request.method == "GET" and request.path == "/api/models/bert-base-uncased":
            return Reply(307, {"error": "moved"}, {"Location": "/api/models/google-bert/bert-base-uncased"})
        if request.method == "GET" and request.path.startswith("/api/models/"):
            repo = request.path.removeprefix("/api/models/")
            if repo not in tags:
                return Reply(404, {"error": "Repository not found"})
            return Reply(200, {"id": repo, "pipeline_tag": tags[repo], "library_name": "transformers", "tags": []})
        return Reply(200, answers[request.path])

    server.handler = handle


def test_fill_mask_task_from_metadata_after_a_rename(server: ScriptedServer) -> None:
    body = [{"sequence": "the goal of life is life.", "score": 0.10933292657136917, "token": 2166, "token_str": "life"}]
    hub_and_models(server, {"google-bert/bert-base-uncased": "fill-mask"}, {"/models/bert-base-uncased": body})
    inference = InferenceApi(repo_id="bert-base-uncased", token="hf_api_token", hub_url=server.url, base_url=server.url)
    assert inference.task == "fill-mask"
    result = inference(inputs="The goal of life is [MASK].")
    assert result == [FillMaskOutputElement.model_validate(body[0])]
    assert result[0].score == 0.10933292657136917
    post = server.received[-1]
    assert post.json() == {"inputs": "The goal of life is [MASK]."}
    assert post.headers["authorization"] == "Bearer hf_api_token"
    assert [r.path for r in server.received] == [
        "/api/models/bert-base-uncased",
        "/api/models/google-bert/bert-base-uncased",
        "/models/bert-base-uncased",
    ]
    # the task is cached per process: a second InferenceApi asks the hub nothing
    InferenceApi(repo_id="bert-base-uncased", hub_url=server.url, base_url=server.url)
    assert len(server.received) == 3


def test_question_answering_single_object_becomes_a_list(server: ScriptedServer) -> None:
    body = {"score": 0.94622403383255, "start": 25, "end": 43, "answer": "Brooklyn, New York"}
    hub_and_models(
        server,
        {"deepset/roberta-base-squad2": "question-answering"},
        {"/models/deepset/roberta-base-squad2": body},
    )
    inference = InferenceApi(repo_id="deepset/roberta-base-squad2", hub_url=server.url, base_url=server.url)
    inputs = {
        "question": "Where is Hugging Face headquarters?",
        "context": "Hugging Face is based in Brooklyn, New York. There is also an office in Paris, France.",
    }
    result = inference(inputs)
    assert result == [QuestionAnsweringOutputElement.model_validate(body)]
    assert server.last.json() == {"inputs": inputs}


def test_zero_shot_legacy_shape_becomes_elements_in_order(server: ScriptedServer) -> None:
    body = {
        "sequence": ZERO_SHOT_TEXT,
        "labels": ["refund", "faq", "legal"],
        "scores": [0.9378499388694763, 0.04914155602455139, 0.013008488342165947],
    }
    repo = "typeform/distilbert-base-uncased-mnli"
    hub_and_models(server, {repo: "zero-shot-classification"}, {f"/models/{repo}": body})
    inference = InferenceApi(repo_id=repo, hub_url=server.url, base_url=server.url)
    result = inference(ZERO_SHOT_TEXT, {"candidate_labels": ["refund", "legal", "faq"]})
    assert result == [
        ZeroShotClassificationOutputElement(label="refund", score=0.9378499388694763),
        ZeroShotClassificationOutputElement(label="faq", score=0.04914155602455139),
        ZeroShotClassificationOutputElement(label="legal", score=0.013008488342165947),
    ]
    assert server.last.json() == {
        "inputs": ZERO_SHOT_TEXT,
        "parameters": {"candidate_labels": ["refund", "legal", "faq"]},
    }


def test_task_override_uses_the_pipeline_route(server: ScriptedServer) -> None:
    repo = "paraphrase-xlm-r-multilingual-v1"
    embedding = [[0.1, -0.2, 0.3]]
    hub_and_models(server, {repo: "sentence-similarity"}, {f"/models/{repo}/pipeline/feature-extraction": embedding})
    inference = InferenceApi(repo_id=repo, task="feature-extraction", hub_url=server.url, base_url=server.url)
    assert inference("Hello world") == embedding
    assert [r.path for r in server.received] == [f"/models/{repo}/pipeline/feature-extraction"]


def test_legacy_host_uses_the_legacy_pipeline_route() -> None:
    from typed_inference._generated.registry import TASKS

    client = ti.InferenceClient(base_url="https://api-inference.huggingface.co")
    url = client.url_for(TASKS["feature-extraction"], "paraphrase-xlm-r-multilingual-v1")
    assert url == "https://api-inference.huggingface.co/pipeline/feature-extraction/paraphrase-xlm-r-multilingual-v1"


def test_model_without_a_task_is_a_clear_error(server: ScriptedServer) -> None:
    hub_and_models(server, {"org/no-task": None}, {})
    with pytest.raises(ValueError, match="declares no task: pass task="):
        InferenceApi(repo_id="org/no-task", hub_url=server.url, base_url=server.url)


def test_unknown_task_suggests_one(server: ScriptedServer) -> None:
    with pytest.raises(ValueError, match="did you mean 'fill-mask'"):
        InferenceApi(repo_id="x", task="fill_mask", hub_url=server.url, base_url=server.url)


def test_unknown_model_is_model_not_found(server: ScriptedServer) -> None:
    hub_and_models(server, {}, {})
    with pytest.raises(ti.ModelNotFoundError):
        InferenceApi(repo_id="org/missing", hub_url=server.url, base_url=server.url)


def test_misspelt_parameter_is_named(server: ScriptedServer) -> None:
    inference = InferenceApi(repo_id="m", task="fill-mask", hub_url=server.url, base_url=server.url)
    with pytest.raises(ti.RequestValidationError, match="'topk' \\(did you mean 'top_k'\\?\\)"):
        inference("a [MASK]", {"topk": 3})
    assert server.received == []


def test_binary_data_is_sent_raw(server: ScriptedServer) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 16
    server.json([{"label": "cat", "score": 0.9}])
    inference = InferenceApi(repo_id="m", task="image-classification", hub_url=server.url, base_url=server.url)
    result = inference(data=png)
    assert result[0].label == "cat"
    assert server.last.body == png
    assert server.last.headers["content-type"] == "image/png"


def test_metadata_comes_from_a_loopback_base_url_unless_a_hub_is_named(
    server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.json({"pipeline_tag": "fill-mask"})
    assert InferenceApi(repo_id="org/local", base_url=server.url).task == "fill-mask"
    assert server.last.path == "/api/models/org/local"
    # a hub named by HF_ENDPOINT (or hub_url=) wins; a remote base_url keeps reading the hub
    other = ScriptedServer().start()
    try:
        other.json({"pipeline_tag": "text-classification"})
        monkeypatch.setenv("HF_ENDPOINT", other.url)
        assert InferenceApi(repo_id="org/hubbed", base_url=server.url).task == "text-classification"
        assert other.last.path == "/api/models/org/hubbed" and len(server.received) == 1
    finally:
        other.stop()
    monkeypatch.delenv("HF_ENDPOINT")
    remote = InferenceApi(repo_id="org/remote", task="fill-mask", base_url="https://my-endpoint.example.com")
    assert remote.metadata_url == "https://huggingface.co"
    assert InferenceApi(repo_id="org/l", task="fill-mask", base_url="http://localhost:8080").metadata_url == (
        "http://localhost:8080"
    )
