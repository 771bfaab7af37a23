"""Bulk inference on Ray Data: `InferenceMapper` and `infer` against loopback servers, on one local Ray instance."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pyarrow")
pytest.importorskip("ray")

import pyarrow as pa

from tests.ray_local import FAKE_TOKEN, TOKEN_ENV, files_holding, start_ray, within
from tests.server import Received, Reply, ScriptedServer
from typed_inference import (
    BadRequestError,
    InferenceClient,
    InferenceError,
    RequestValidationError,
    UnprocessableEntityError,
)
from typed_inference.ray import InferenceMapper, UnsupportedOutputError, infer

TEXTS = [f"row {i}: " + ("poison " if i % 487 == 13 else "") + "word " * (i % 7) for i in range(2000)]
POISONED = {i for i, text in enumerate(TEXTS) if "poison" in text}
CLASSIFICATION = pa.list_(pa.struct([("label", pa.string()), ("score", pa.float64())]))


@pytest.fixture(scope="module")
def ray_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    yield from start_ray(tmp_path_factory.mktemp("hf-home"))


def embed(received: Received) -> Reply:
    """A scripted feature-extraction server: a vector made from each text, and 400 (echoing the Authorization
    header, as careless servers do) for a request holding a poisoned text."""
    try:
        texts = received.json()["inputs"]
    except (ValueError, KeyError):  # a request cut off by a stop
        return Reply(400, {"error": "unreadable body"})
    if any("poison" in text for text in texts):
        return Reply(400, {"error": f"poisoned input (sent with {received.headers.get('authorization')})"})
    return Reply(200, [[[float(len(text)), float(sum(map(ord, text)) % 97), 0.5]] for text in texts])


@pytest.fixture(scope="module")
def scripted() -> Iterator[ScriptedServer]:
    server = ScriptedServer()
    server.handler = embed
    server.start()
    yield server
    server.stop()


def dataset(texts: list[str]) -> Any:
    import ray.data

    return ray.data.from_items([{"id": i, "text": text} for i, text in enumerate(texts)])


def table_of(ds: Any, seconds: float = 180) -> Any:
    """The Dataset executed (within `seconds`), its rows sorted back into input order by `id`."""
    import ray

    table = within(seconds, lambda: pa.concat_tables(ray.get(ds.to_arrow_refs(), timeout=seconds)))
    return table.sort_by("id")


def test_output_schema_rule() -> None:
    def column(task: str) -> Any:
        from typed_inference._generated.registry import TASKS
        from typed_inference.ray import output_column

        return output_column(TASKS[task]).type

    assert column("feature-extraction") == pa.list_(pa.float32())
    assert column("text-classification") == CLASSIFICATION
    assert column("zero-shot-classification") == CLASSIFICATION
    assert column("summarization") == pa.string() and column("translation") == pa.string()
    assert column("text-generation") == pa.string()
    assert column("text-to-image") == pa.binary() and column("text-to-speech") == pa.binary()
    assert column("sentence-similarity") == pa.list_(pa.float64())
    assert column("object-detection").value_type.field("box").type == pa.struct(
        [(name, pa.int64()) for name in ("xmin", "ymin", "xmax", "ymax")]
    )


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"task": "tabular-classification"}, "tabular-classification"),
        ({"task": "feature-extractoin"}, "did you mean 'feature-extraction'"),
        ({"on_error": "ignore"}, "on_error"),
        ({"request_batch_size": 0}, "request_batch_size"),
        ({"requests_in_flight": "8"}, "requests_in_flight"),
        ({"output_column": "text"}, "must differ"),
        ({"input_column": ""}, "input_column"),
        ({"normalise": True}, "did you mean 'normalize'"),
        ({"stream": True}, "stream"),
    ],
)
def test_bad_settings_fail_at_construction_naming_the_field(kwargs: dict[str, Any], named: str) -> None:
    settings: dict[str, Any] = {
        "task": "feature-extraction",
        "model": "m",
        "input_column": "text",
        "output_column": "embedding",
        **kwargs,
    }
    with pytest.raises(RequestValidationError, match=named) as caught:
        InferenceMapper(**settings)
    assert not isinstance(caught.value, UnsupportedOutputError) or settings["task"] == "tabular-classification"
    with pytest.raises(RequestValidationError, match=named):
        infer(object(), **settings)  # checked in the driver, before the dataset is touched


def test_infer_checks_its_own_settings() -> None:
    base: dict[str, Any] = {
        "task": "feature-extraction",
        "model": "m",
        "input_column": "text",
        "output_column": "embedding",
    }
    with pytest.raises(RequestValidationError, match="actors"):
        infer(object(), **base, actors=0)
    with pytest.raises(RequestValidationError, match="actor_cpus"):
        infer(object(), **base, actor_cpus=0)


@pytest.mark.usefixtures("ray_session")
def test_mapper_batches_retries_and_counts(server: ScriptedServer) -> None:
    """In this process: request batches of 4, one retried 503, a poisoned text (its batch bisected down to it), a
    null row; the counters count every request."""
    seen = threading.Lock()
    calls: list[list[str]] = []

    def classify(received: Received) -> Reply:
        texts = received.json()["inputs"]
        with seen:
            calls.append(texts)
            first = len(calls) == 1
        if first:
            return Reply(503, {"error": "busy"}, {"Retry-After": "0"})
        if any("poison" in text for text in texts):
            return Reply(400, {"error": "poisoned"})
        return Reply(200, [[{"label": f"L{len(text)}", "score": 0.5}] for text in texts])

    server.handler = classify
    texts = ["a", "bb", "ccc", None, "poison", "e", "ff", "ggg", "h", "ii", "j"]
    mapper = InferenceMapper(
        task="text-classification",
        model="m",
        input_column="text",
        output_column="labels",
        request_batch_size=4,
        requests_in_flight=1,
        base_url=server.url,
        token_env=TOKEN_ENV,
    )
    out = mapper(pa.table({"text": texts}))
    assert out.schema == pa.schema([("text", pa.string()), ("labels", CLASSIFICATION), ("error", pa.string())])
    labels, errors = out.column("labels").to_pylist(), out.column("error").to_pylist()
    # the null row is left out of the requests: [a bb ccc poison] [e ff ggg h] [ii j]; only the poisoned row fails
    assert [e is not None for e in errors] == [False] * 3 + [True] * 2 + [False] * 6
    assert errors[3] == "RequestValidationError: input_column 'text' is null"
    assert errors[4] is not None and errors[4].startswith("BadRequestError: 400 from ")
    assert labels[2] == [{"label": "L3", "score": 0.5}] and labels[9] == [{"label": "L2", "score": 0.5}]
    # the first batch sent twice (503), then halved down to the poisoned text: [a bb] [ccc poison] [ccc] [poison]
    assert [len(c) for c in calls] == [4, 4, 2, 2, 1, 1, 4, 2]
    assert mapper.counts == {"requests": 7, "retries": 1, "errors": 2}


@pytest.mark.usefixtures("ray_session")
def test_a_result_that_does_not_fit_the_column_is_a_row_error(server: ScriptedServer) -> None:
    """A model without pooling answers a vector per token: not one embedding, so that row fails, alone."""
    server.handler = lambda received: Reply(
        200, [[[1.0, 2.0], [3.0, 4.0]] if text == "tokens" else [[1.0, 2.0]] for text in received.json()["inputs"]]
    )
    mapper = InferenceMapper(
        task="feature-extraction", model="m", input_column="text", output_column="vector", base_url=server.url
    )
    out = mapper(pa.table({"text": ["pooled", "tokens", "pooled too"]}))
    assert out.column("vector").to_pylist() == [[1.0, 2.0], None, [1.0, 2.0]]
    errors = out.column("error").to_pylist()
    assert errors[0] is None and errors[2] is None
    assert errors[1] == (
        "ResponseValidationError: feature-extraction: a result does not fit the column type list<item: float>: "
        "2 vectors for one input (a model without pooling): not one embedding"
    )
    assert mapper.counts == {"requests": 1, "retries": 0, "errors": 1}


@pytest.mark.usefixtures("ray_session")
def test_two_thousand_texts_through_ray_data(scripted: ScriptedServer) -> None:
    before = len(scripted.received)
    ds = infer(
        dataset(TEXTS),
        "feature-extraction",
        "m",
        input_column="text",
        output_column="embedding",
        request_batch_size=16,
        requests_in_flight=4,
        base_url=scripted.url,
        token_env=TOKEN_ENV,
        actors=2,
        batch_size=256,
    )
    table = table_of(ds)
    assert table.schema == pa.schema(
        [("id", pa.int64()), ("text", pa.string()), ("embedding", pa.list_(pa.float32())), ("error", pa.string())]
    )
    assert table.column("text").to_pylist() == TEXTS  # every row once, each with its own text
    embeddings, errors = table.column("embedding").to_pylist(), table.column("error").to_pylist()
    failed = {i for i, error in enumerate(errors) if error is not None}
    assert failed == POISONED  # a poisoned text fails alone: its request's batch is bisected down to it
    for i in failed:
        assert embeddings[i] is None
        assert (
            errors[i].startswith("BadRequestError: 400 from ") and "poisoned input (sent with Bearer ***)" in errors[i]
        )
    # every other row holds what client.map gives for its text (the scripted vectors are exact in float32)
    with InferenceClient("m", base_url=scripted.url, token=FAKE_TOKEN) as client:
        clean = [TEXTS[i] for i in range(len(TEXTS)) if i not in failed]
        expected = iter(client.map(client.feature_extraction, clean, batch_size=16))
        for i, vector in enumerate(embeddings):
            if i not in failed:
                assert [vector] == next(expected)
        poisoned = client.map(client.feature_extraction, [TEXTS[min(POISONED)]], batch_size=1)
        assert isinstance(poisoned[0], BadRequestError)
    # the token was read on the workers from token_env, sent, and is in no file of Ray's session
    sent = scripted.received[before:]
    assert sent and all(r.headers.get("authorization") == f"Bearer {FAKE_TOKEN}" for r in sent)
    assert all(len(r.json()["inputs"]) <= 16 for r in sent)
    assert files_holding(session_dir(), FAKE_TOKEN) == []


@pytest.mark.usefixtures("ray_session")
def test_on_error_raise_fails_the_job_with_the_typed_error(scripted: ScriptedServer) -> None:
    ds = infer(
        dataset(TEXTS[:200]),
        "feature-extraction",
        "m",
        input_column="text",
        output_column="embedding",
        base_url=scripted.url,
        token_env=TOKEN_ENV,
        on_error="raise",
    )
    with pytest.raises(BadRequestError) as caught:
        table_of(ds)
    assert caught.value.status_code == 400 and "poisoned input (sent with Bearer ***)" in caught.value.server_message
    assert all(FAKE_TOKEN not in str(exc) for exc in causes(caught.value))
    assert files_holding(session_dir(), FAKE_TOKEN) == []


@pytest.mark.usefixtures("ray_session")
def test_local_server_minilm_through_ray_data() -> None:
    """The same against the local server's embedded all-MiniLM-L6-v2: over-long texts are refused (422)."""
    pytest.importorskip("sentence_transformers")
    from tests.live import start_server
    from typed_inference.server.config import ServerConfig

    texts = [text if i not in POISONED else "long " * 600 for i, text in enumerate(TEXTS)]
    live = start_server(ServerConfig())
    try:
        model = "sentence-transformers/all-MiniLM-L6-v2"
        ds = infer(
            dataset(texts),
            "feature-extraction",
            model,
            input_column="text",
            output_column="embedding",
            request_batch_size=32,
            base_url=live.url,
            actors=2,
        )
        table = table_of(ds, 600)
        embeddings, errors = table.column("embedding").to_pylist(), table.column("error").to_pylist()
        failed = {i for i, error in enumerate(errors) if error is not None}
        assert failed >= POISONED and len(failed) <= 32 * len(POISONED)
        assert all(errors[i].startswith(f"{UnprocessableEntityError.__name__}: ") for i in failed)
        with InferenceClient(model, base_url=live.url) as client:
            clean = [texts[i] for i in range(len(texts)) if i not in failed]
            expected = client.map(client.feature_extraction, clean, batch_size=32, return_exceptions=False)
    finally:
        live.stop()
    got = [vector for i, vector in enumerate(embeddings) if i not in failed]
    assert len(got) == len(expected) and all(len(v) == 384 for v in got)
    for vector, want in zip(got, expected, strict=True):
        assert isinstance(want, list) and len(want) == 1
        assert max(abs(a - b) for a, b in zip(vector, want[0], strict=True)) < 1e-5  # float32, batch padding


def test_errors_pickle_as_the_same_typed_error() -> None:
    import pickle

    error = BadRequestError("400", status_code=400, server_message="no", headers={"x-request-id": "r1"}, body=b"{}")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is BadRequestError and isinstance(copy, InferenceError)
    assert (copy.message, copy.status_code, copy.request_id, copy.body) == ("400", 400, "r1", b"{}")


def session_dir() -> Path:
    import ray

    return Path(ray._private.worker._global_node.get_session_dir_path())


def causes(exc: BaseException | None) -> Iterator[BaseException]:
    """An exception and everything it was raised from or during."""
    seen: list[BaseException] = []
    while exc is not None and all(exc is not other for other in seen):
        seen.append(exc)
        yield exc
        exc = exc.__cause__ or exc.__context__


def test_mapper_on_a_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    """In this process: `provider=` through the router (HF_ROUTER_URL) after the Hub's mapping (HF_ENDPOINT)."""
    from tests.provider_fake import EMBEDDING, ProviderFake

    fake = ProviderFake().start()
    try:
        fake.map("org/model", ("together", "tg/embed", "feature-extraction"))
        monkeypatch.setenv("HF_ROUTER_URL", fake.router.url)
        monkeypatch.setenv("HF_ENDPOINT", fake.hub.url)
        monkeypatch.setenv("HF_TOKEN", "hf_ray_provider_token")
        mapper = InferenceMapper(
            task="feature-extraction",
            model="org/model",
            input_column="text",
            output_column="embedding",
            request_batch_size=2,
            requests_in_flight=1,
            provider="together",
        )
        out = mapper(pa.table({"text": ["a", "b", "c"]}))
    finally:
        fake.stop()
    assert out.column("embedding").to_pylist() == [EMBEDDING] * 3
    assert sorted(r.json()["input"] for r in fake.router.received) == [["a", "b"], ["c"]]
    assert {r.path for r in fake.router.received} == {"/together/v1/embeddings"}
    assert len(fake.hub.received) == 1  # one lookup: the mapping is cached for the actor's other requests


def test_the_embedding_column_fast_path_equals_pyarrows_own_conversion() -> None:
    from typed_inference.ray._arrow import float_rows

    rows = [[0.5, -1.25, 3.0], None, [1e-3, 2.0, 0.1], None]
    column = pa.list_(pa.float32())
    fast = float_rows(rows, column)
    assert fast is not None and fast.equals(pa.array(rows, column))
    assert float_rows([[1.0], [1.0, 2.0]], column) is None  # ragged rows: pyarrow's own path decides
    assert float_rows([["x"]], column) is None and float_rows([[1.0]], pa.list_(pa.string())) is None


def test_without_the_ray_extra_the_error_says_how_to_install_it() -> None:
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['pyarrow'] = None\n"
        "from typed_inference.ray import InferenceMapper\n"
        "InferenceMapper(task='feature-extraction', model='m', input_column='t', output_column='e')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert "ImportError: typed_inference.ray needs the ray extra: pip install 'typed-inference[ray]'" in result.stderr
