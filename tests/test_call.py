"""`client.call(task, primary, **params)`: a task called by name sends what its typed method sends and answers the
same typed result; wrong names are refused before anything is sent."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

import typed_inference as ti
from tests.server import ScriptedServer
from tests.task_examples import EXAMPLES, method_name
from tests.test_tasks import dump, serve
from typed_inference import AsyncInferenceClient, InferenceClient
from typed_inference._generated.registry import TASKS
from typed_inference.server.backends import REGISTRY, SERVABLE_TASKS, backend_class, served_tasks
from typed_inference.server.resolve import ModelSource
from typed_inference.types import FillMaskOutputElement

FILL = [{"sequence": "a b.", "score": 0.5, "token": 1, "token_str": "b"}]


@pytest.mark.parametrize("task", sorted(EXAMPLES))
def test_call_by_name_matches_the_typed_method(server: ScriptedServer, task: str) -> None:
    example = EXAMPLES[task]
    for _ in range(2):
        serve(server, example.response, example.response_content_type)
    with InferenceClient(base_url=server.url, token="hf_t") as client:
        expected = getattr(client, method_name(task))(*example.args, **example.kwargs)
        result = client.call(task, *example.args, **example.kwargs)
    assert type(result) is type(expected)
    assert dump(result) == dump(expected)
    by_method, by_name = server.received
    assert (by_name.path, by_name.body) == (by_method.path, by_method.body)
    assert by_name.headers["content-type"] == by_method.headers["content-type"]


def test_call_sorts_keywords_and_takes_either_spelling(server: ScriptedServer) -> None:
    server.json(FILL)
    server.json([FILL, FILL])
    with InferenceClient("m", base_url=server.url) as client:
        one = client.call("fill_mask", "a [MASK].", top_k=1, wait_for_model=True, extra_body={"x": 1})
        per_mask = client.call("fill-mask", "[MASK] b [MASK].", multiple_masks=True)
    assert isinstance(one[0], FillMaskOutputElement) and one[0].token_str == "b"
    assert [len(group) for group in per_mask] == [1, 1]
    first, _ = server.received
    assert first.json() == {"inputs": "a [MASK].", "parameters": {"top_k": 1}, "x": 1}
    assert first.headers["x-wait-for-model"] == "true"


def test_object_inputs_as_a_mapping_or_as_keywords(server: ScriptedServer) -> None:
    answer = {"answer": "Paris", "score": 0.9, "start": 0, "end": 5}
    server.json(answer)
    server.json(answer)
    fields = {"question": "Capital?", "context": "Paris is the capital."}
    with InferenceClient("m", base_url=server.url) as client:
        mapped = client.call("question-answering", fields, top_k=1)
        keywords = client.call("question-answering", **fields, top_k=1)
    assert dump(mapped) == dump(keywords) == [answer]
    assert server.received[0].json() == server.received[1].json() == {"inputs": fields, "parameters": {"top_k": 1}}


def test_wrong_names_are_refused_before_sending(server: ScriptedServer) -> None:
    with InferenceClient("m", base_url=server.url) as client:
        with pytest.raises(ti.RequestValidationError, match=r"'top_kk' \(did you mean 'top_k'\?\)"):
            client.call("fill-mask", "a [MASK].", top_kk=2)
        with pytest.raises(ti.RequestValidationError, match="unknown task 'fill-mask2'; did you mean 'fill-mask'"):
            client.call("fill-mask2", "a [MASK].")
        with pytest.raises(ti.RequestValidationError, match=r"'stream'"):
            client.call("fill-mask", "a [MASK].", stream=True)  # fill-mask does not stream
        with pytest.raises(ti.RequestValidationError, match="takes an object input"):
            client.call("question-answering", "not an object")
        with pytest.raises(ti.RequestValidationError, match="nothing to send"):
            client.call("fill-mask")
        with pytest.raises(ti.RequestValidationError, match="invalid request"):
            client.call("fill-mask", "a [MASK].", top_k=0)  # a known name with a bad value: the schema's verdict
    assert server.received == []


def test_async_call_matches_the_sync_one(server: ScriptedServer) -> None:
    server.json(FILL)
    server.json(FILL)
    with InferenceClient("m", base_url=server.url) as client:
        expected = client.call("fill-mask", "a [MASK].", top_k=1)

    async def go() -> Any:
        async with AsyncInferenceClient("m", base_url=server.url) as client:
            return await client.call("fill-mask", "a [MASK].", top_k=1)

    assert dump(asyncio.run(go())) == dump(expected)
    assert server.received[0].body == server.received[1].body


def test_map_runs_task_methods_only(server: ScriptedServer) -> None:
    with InferenceClient("m", base_url=server.url) as client, pytest.raises(ti.RequestValidationError, match="map"):
        client.map(lambda text: text, ["a"])
    assert server.received == []


# -- the server's task → backend registry ---------------------------------------------------------------------------


def test_every_servable_task_has_a_backend_declaring_what_it_can_do() -> None:
    assert set(REGISTRY) == SERVABLE_TASKS
    for task, choices in REGISTRY.items():
        assert any(task in choice.backend.serves for choice in choices), task
        for choice in choices:
            batching = [t for t, serving in choice.backend.serves.items() if serving.batching is not None]
            assert len(batching) <= 1, choice  # the server keeps one micro-batcher per model
            for served, serving in choice.backend.serves.items():
                spec = TASKS[served]
                assert (serving.stream is not None) == (spec.stream_model is not None), served
                assert serving.batching is None or spec.batch, served


def test_a_model_serves_every_task_of_its_backend() -> None:
    def source(task: str, library: str = "transformers") -> ModelSource:
        return ModelSource("m", Path("."), task, library)

    assert served_tasks(source("text-generation")) == ("text-generation", "chat-completion")
    assert served_tasks(source("feature-extraction", "sentence-transformers")) == (
        "feature-extraction",
        "sentence-similarity",
    )
    assert served_tasks(source("feature-extraction")) == ("feature-extraction",)
    assert served_tasks(source("fill-mask")) == ("fill-mask",)
    assert backend_class(source("text-to-image")) is None
    assert served_tasks(source("text-to-image")) == ("text-to-image",)
