"""Answers real servers sent in 2025, as the JS client's own tests recorded them (issue 36): null fields in stream
deltas and whole answers, fal-ai transcript chunks, lists of texts; each fed to the sync and the async client."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import typed_inference as ti
from tests.media_fake import MP3, MediaFake
from tests.server import Reply, ScriptedServer
from tests.test_sse_framing import FRAMINGS, frame, split
from typed_inference import AsyncInferenceClient, InferenceClient, validate
from typed_inference.providers._mapping import MAPPINGS
from typed_inference.types import AutomaticSpeechRecognitionOutput

MESSAGES = [{"role": "user", "content": "Complete the equation one + one ="}]


def run_sync(server: ScriptedServer, method: str, *args: Any, client: dict[str, Any] | None = None, **kw: Any) -> Any:
    """The method's result (a list of events for a stream), or the InferenceError it raised."""
    with InferenceClient("org/model", base_url=server.url, token="hf_t", **(client or {})) as c:
        try:
            result = getattr(c, method)(*args, **kw)
            return list(result) if kw.get("stream") else result
        except ti.InferenceError as exc:
            return exc


def run_async(server: ScriptedServer, method: str, *args: Any, client: dict[str, Any] | None = None, **kw: Any) -> Any:
    async def go() -> Any:
        async with AsyncInferenceClient("org/model", base_url=server.url, token="hf_t", **(client or {})) as c:
            try:
                result = await getattr(c, method)(*args, **kw)
                return [e async for e in result] if kw.get("stream") else result
            except ti.InferenceError as exc:
                return exc

    return asyncio.run(go())


Runner = Callable[..., Any]
BOTH = pytest.mark.parametrize("run", [run_sync, run_async], ids=["sync", "async"])


# -- item 2: null in stream deltas and answers means absent (lenient) --------------------------------------------------
def nscale_chunk(content: str, *, role: str | None, finish: str | None = None) -> dict[str, Any]:
    """One nscale chat chunk as recorded: `role` null after the first, `usage` and `logprobs` null on every one."""
    return {
        "id": "chatcmpl-4f6d2b7e",
        "object": "chat.completion.chunk",
        "created": 1742300000,
        "model": "meta-llama/Llama-3.1-8B-Instruct",
        "choices": [
            {"index": 0, "delta": {"content": content, "role": role}, "logprobs": None, "finish_reason": finish}
        ],
        "usage": None,
    }


NSCALE = [
    nscale_chunk("It", role="assistant"),
    nscale_chunk(" is", role=None),
    nscale_chunk(" two.", role=None, finish="stop"),
]


@BOTH
@pytest.mark.parametrize("framing", sorted(FRAMINGS))
@pytest.mark.parametrize("how", ["bytewise", "sevens", "whole"])
@pytest.mark.parametrize("done", [True, False], ids=["done", "no-done"])
def test_nscale_null_role_in_deltas_reads_as_absent(
    server: ScriptedServer, run: Runner, framing: str, how: str, done: bool
) -> None:
    sep, tail = FRAMINGS[framing]
    events = [*NSCALE, b"[DONE]"] if done else NSCALE
    body = frame(events, sep, tail=tail, space=how != "sevens")
    server.reply(Reply(200, chunks=split(body, how), headers={"Content-Type": "text/event-stream"}))
    result = run(server, "chat_completion", MESSAGES, stream=True)
    assert isinstance(result, list), result
    assert [e.choices[0].delta.role for e in result] == ["assistant", None, None]
    assert "".join(e.choices[0].delta.content for e in result) == "It is two."
    assert all(e.usage is None and e.choices[0].logprobs is None for e in result)
    assert result[-1].choices[0].finish_reason == "stop"


TOKENCLS_NULL = [  # no aggregation: `entity` set, `entity_group` null
    {"entity_group": None, "entity": "B-PER", "score": 0.998, "word": "Wolfgang", "start": 11, "end": 19},
]


@BOTH
def test_null_in_an_optional_answer_field_reads_as_absent(server: ScriptedServer, run: Runner) -> None:
    server.reply(Reply(200, json.dumps(TOKENCLS_NULL).encode()))
    result = run(server, "token_classification", "My name is Wolfgang")
    assert not isinstance(result, Exception), result
    assert result[0].entity_group is None and result[0].entity == "B-PER"


@BOTH
def test_strict_response_validation_still_refuses_the_null(server: ScriptedServer, run: Runner) -> None:
    server.reply(Reply(200, json.dumps(TOKENCLS_NULL).encode()))
    error = run(server, "token_classification", "My name is Wolfgang", client={"response_validation": "strict"})
    assert isinstance(error, ti.ResponseValidationError)
    assert "null where the schema allows none: [0].entity_group" in str(error)


@BOTH
def test_strict_whole_chat_answer_refuses_a_null_object_lenient_takes_it(server: ScriptedServer, run: Runner) -> None:
    answer = {
        "id": "chatcmpl-1",
        "object": None,
        "created": 1742300000,
        "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "2"}, "finish_reason": "stop"}],
    }
    server.reply(Reply(200, json.dumps(answer).encode()))
    assert run(server, "chat_completion", MESSAGES).object is None
    server.reply(Reply(200, json.dumps(answer).encode()))
    error = run(server, "chat_completion", MESSAGES, client={"response_validation": "strict"})
    assert isinstance(error, ti.ResponseValidationError) and "object" in str(error)


def test_validate_reads_null_as_absent_unless_strict() -> None:
    chunk = json.dumps(NSCALE[1])
    assert validate("chat-completion", chunk, "stream-output").valid
    strict = validate("chat-completion", chunk, "stream-output", strict=True)
    assert not strict.valid
    assert [(p.path, p.found) for p in strict.errors] == [("choices[0].delta.role", "null")]
    assert strict.errors[0].column is not None  # placed at its key in the text
    assert validate("token-classification", TOKENCLS_NULL, "output").valid


# -- item 3: fal-ai whisper's transcript chunks ------------------------------------------------------------------------
FAL_WHISPER = {
    "text": "My name is Wolfgang and I live in Berlin.",
    "chunks": [
        {"timestamp": [0, 9.9], "text": "My name is Wolfgang", "speaker": None},
        {"timestamp": [9.9, 12.5], "text": " and I live in Berlin.", "speaker": None},
    ],
    "inferred_languages": ["en"],
    "diarization_segments": [],
}


@pytest.fixture
def fake() -> Iterator[MediaFake]:
    fake = MediaFake()
    fake.start()
    MAPPINGS.clear()  # the process's mapping cache would keep an earlier test's mapping of the model
    yield fake
    fake.stop()
    MAPPINGS.clear()


def transcribe(fake: MediaFake, kind: str) -> Any:
    """fal-ai's whisper answer through the router, to the sync or the async client."""
    fake.map("org/model", ("fal-ai", "fal-ai/whisper", "automatic-speech-recognition"))
    fake.script("/fal-ai/fal-ai/whisper", Reply(200, FAL_WHISPER))
    if kind == "sync":
        with InferenceClient(token="hf_t", **fake.client_kwargs()) as client:
            return client.automatic_speech_recognition(MP3, model="org/model", provider="fal-ai")

    async def go() -> Any:
        async with AsyncInferenceClient(token="hf_t", **fake.client_kwargs()) as client:
            return await client.automatic_speech_recognition(MP3, model="org/model", provider="fal-ai")

    return asyncio.run(go())


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_fal_whisper_chunks_become_the_task_chunks(fake: MediaFake, kind: str) -> None:
    result = transcribe(fake, kind)
    assert isinstance(result, AutomaticSpeechRecognitionOutput)
    assert result.text == FAL_WHISPER["text"]
    assert result.chunks is not None
    assert [(c.text, c.timestamp) for c in result.chunks] == [
        ("My name is Wolfgang", [0.0, 9.9]),
        (" and I live in Berlin.", [9.9, 12.5]),
    ]
    assert all(c.model_extra == {"speaker": None} for c in result.chunks)  # kept as an extra
    assert result.model_extra == {"inferred_languages": ["en"], "diarization_segments": []}
    assert fake.router.received[0].json()["audio_url"].startswith("data:audio/mpeg;base64,")


# -- item 1: a list of texts for translation, zero-shot-classification and summarization -----------------------------
TEXTS = ["My name is Wolfgang and I live in Berlin", "I work as programmer"]
TRANSLATIONS = [
    {"translation_text": "Mein Name ist Wolfgang und ich lebe in Berlin"},
    {"translation_text": "Ich arbeite als Programmierer"},
]
LABELS = ["refund", "legal", "faq"]
ZERO_SHOT = [
    {"sequence": TEXTS[0], "labels": ["faq", "legal", "refund"], "scores": [0.8778, 0.1052, 0.0170]},
    {"sequence": TEXTS[1], "labels": ["faq", "refund", "legal"], "scores": [0.7014, 0.2011, 0.0975]},
]


def rows(answer: dict[str, Any]) -> list[tuple[str, float]]:
    return list(zip(answer["labels"], answer["scores"], strict=True))


@BOTH
@pytest.mark.parametrize("container", [list, tuple], ids=["list", "tuple"])
def test_translation_of_a_list_answers_one_translation_per_text(
    server: ScriptedServer, run: Runner, container: Callable[[list[str]], Any]
) -> None:
    server.reply(Reply(200, json.dumps(TRANSLATIONS).encode()))
    result = run(server, "translation", container(TEXTS))
    assert isinstance(result, list), result
    assert [r.translation_text for r in result] == [t["translation_text"] for t in TRANSLATIONS]
    assert server.last.json() == {"inputs": TEXTS}


@BOTH
def test_translation_of_a_list_of_one_stays_a_list(server: ScriptedServer, run: Runner) -> None:
    server.reply(Reply(200, json.dumps(TRANSLATIONS[:1]).encode()))
    result = run(server, "translation", TEXTS[:1])
    assert isinstance(result, list) and len(result) == 1
    assert result[0].translation_text == TRANSLATIONS[0]["translation_text"]


@BOTH
def test_translation_of_one_text_is_one_result_as_before(server: ScriptedServer, run: Runner) -> None:
    server.reply(Reply(200, json.dumps(TRANSLATIONS[:1]).encode()))  # hf-inference wraps it in a list of one
    result = run(server, "translation", TEXTS[0])
    assert result.translation_text == TRANSLATIONS[0]["translation_text"]
    assert server.last.json() == {"inputs": TEXTS[0]}


@BOTH
@pytest.mark.parametrize("count", [1, 2])
def test_zero_shot_of_a_list_answers_one_result_per_text(server: ScriptedServer, run: Runner, count: int) -> None:
    server.reply(Reply(200, json.dumps(ZERO_SHOT[:count]).encode()))
    result = run(server, "zero_shot_classification", TEXTS[:count], candidate_labels=LABELS)
    assert isinstance(result, list) and len(result) == count, result
    for got, sent in zip(result, ZERO_SHOT, strict=False):
        assert [(e.label, e.score) for e in got] == rows(sent)
    assert server.last.json() == {"inputs": TEXTS[:count], "parameters": {"candidate_labels": LABELS}}


@BOTH
def test_zero_shot_of_one_text_is_one_result_as_before(server: ScriptedServer, run: Runner) -> None:
    server.reply(Reply(200, json.dumps(ZERO_SHOT[0]).encode()))
    result = run(server, "zero_shot_classification", TEXTS[0], candidate_labels=LABELS)
    assert [(e.label, e.score) for e in result] == rows(ZERO_SHOT[0])


@BOTH
def test_summarization_of_a_list_answers_one_summary_per_text(server: ScriptedServer, run: Runner) -> None:
    server.reply(Reply(200, json.dumps([{"summary_text": "Wolfgang lives in Berlin."}, {"summary_text": "A coder."}])))
    result = run(server, "summarization", TEXTS)
    assert [r.summary_text for r in result] == ["Wolfgang lives in Berlin.", "A coder."]


def test_an_empty_list_is_refused_before_sending(server: ScriptedServer) -> None:
    error = run_sync(server, "translation", [])
    assert isinstance(error, ti.RequestValidationError) and "inputs" in str(error)
    assert server.received == []


def test_call_by_name_and_map_batch_by_the_same_declaration(server: ScriptedServer) -> None:
    server.reply(Reply(200, json.dumps(TRANSLATIONS).encode()))
    with InferenceClient("org/model", base_url=server.url, token="hf_t") as client:
        by_name = client.call("translation", tuple(TEXTS))
        assert [r.translation_text for r in by_name] == [t["translation_text"] for t in TRANSLATIONS]
        server.reply(Reply(200, json.dumps(ZERO_SHOT).encode()))
        mapped = client.map(client.zero_shot_classification, TEXTS, batch_size=2, candidate_labels=LABELS)
    assert [[(e.label, e.score) for e in r] for r in mapped] == [rows(z) for z in ZERO_SHOT]  # type: ignore[union-attr]
    assert server.last.json()["inputs"] == TEXTS  # one request for both


def test_cli_call_takes_a_json_array_of_texts(server: ScriptedServer, capsys: pytest.CaptureFixture[str]) -> None:
    from typed_inference.cli import main

    server.reply(Reply(200, json.dumps(TRANSLATIONS).encode()))
    code = main(["call", "translation", "--model", "org/model", "--input", json.dumps(TEXTS), "--base-url", server.url])
    assert code == 0
    assert json.loads(capsys.readouterr().out) == TRANSLATIONS
    assert server.last.json() == {"inputs": TEXTS}
    server.reply(Reply(200, json.dumps(TRANSLATIONS[:1]).encode()))
    assert main(["call", "translation", "--model", "m", "--input", "[not json", "--base-url", server.url]) == 0
    assert server.last.json() == {"inputs": "[not json"}  # not an array of texts: one text


def test_validate_takes_the_list_body_and_the_per_text_answer() -> None:
    body = {"inputs": TEXTS, "parameters": {"candidate_labels": LABELS}}
    assert validate("zero-shot-classification", body).valid
    assert validate("translation", {"inputs": TEXTS}).valid
    assert not validate("translation", {"inputs": []}).valid
    report = validate("zero-shot-classification", ZERO_SHOT, "output")
    assert report.valid and report.variant is not None and "labels and scores columns" in report.variant
    assert validate("translation", TRANSLATIONS, "output").valid
