"""Every task end to end through the client over a MockTransport: the exact request each typed method sends, the
typed result it returns, every declared wire variant, batches, per-call options, request validation and response
validation modes. (What the bytes look like on a real socket is tests/test_errors_and_retries.py's and
tests/test_reliability.py's business; the scripted replies here are the same `Reply`s.)
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

import typed_inference as ti
from tests.conftest import FakeClock
from tests.mock_server import MockServer
from tests.server import Reply, ScriptedServer
from tests.task_examples import CHAT_RESPONSE, EXAMPLES, MODEL, MP4, PNG, WAV, TaskExample, b64, method_name
from typed_inference import BinaryOutput, InferenceClient
from typed_inference._generated.registry import TASKS
from typed_inference._task import ValidationMode
from typed_inference.transport import RetryPolicy
from typed_inference.types.chat_completion import ChatCompletionOutput
from typed_inference.types.fill_mask import FillMaskOutputElement
from typed_inference.types.params import ChatCompletionInputMessageParam
from typed_inference.types.text_classification import TextClassificationOutputElement
from typed_inference.types.token_classification import TokenClassificationOutputElement
from typed_inference.types.zero_shot_classification import ZeroShotClassificationOutputElement

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"
TOKEN = "hf_test_secret_token"
MESSAGES: list[ChatCompletionInputMessageParam] = [{"role": "user", "content": "What is deep learning?"}]


# -- helpers ----------------------------------------------------------------------------------------------------------
@pytest.fixture
def server() -> MockServer:
    """This module's stand-in for the scripted server: the same script and records, over a MockTransport."""
    return MockServer()


@pytest.fixture
def client(server: MockServer, clock: FakeClock) -> Iterator[InferenceClient]:
    with make_client(server, clock, "lenient") as c:
        yield c


def make_client(server: MockServer, clock: FakeClock, mode: ValidationMode) -> InferenceClient:
    """A client on the mock server's transport with the given response validation mode."""
    policy = RetryPolicy(clock=clock, sleep=clock.sleep, jitter=lambda: 1.0)
    return InferenceClient(
        base_url=server.url, token=TOKEN, retry_policy=policy, response_validation=mode, transport=server.transport
    )


def serve(server: ScriptedServer | MockServer, response: Any, content_type: str = "application/json") -> None:
    """Scripts the next reply: raw bytes with their content type, or a JSON body."""
    if isinstance(response, bytes):
        server.reply(Reply(200, response, {"Content-Type": content_type}))
    else:
        server.json(response)


def dump(value: object) -> Any:
    """A typed result as JSON data: models by alias without unset fields, lists element-wise, the rest as is."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_unset=True)
    if isinstance(value, list):
        return [dump(item) for item in value]
    return value


def call(client: InferenceClient, task: str, example: TaskExample, **overrides: Any) -> Any:
    """Calls the task's typed method with the example's arguments (keywords overridable)."""
    method: Callable[..., Any] = getattr(client, method_name(task))
    return method(*example.args, **{**example.kwargs, **overrides})


def all_floats(values: object) -> bool:
    return isinstance(values, list) and all(isinstance(v, float) for v in values)


def float_matrix(value: object) -> bool:
    return isinstance(value, list) and all(all_floats(row) for row in value)


# Outputs that are plain JSON arrays (type aliases, no model class): how their typed result must look.
PLAIN_OUTPUTS: dict[str, Callable[[object], bool]] = {
    "feature-extraction": float_matrix,
    "sentence-similarity": all_floats,
    "tabular-regression": all_floats,
    "tabular-classification": lambda v: isinstance(v, list) and all(isinstance(x, (str, int, float)) for x in v),
}


def assert_typed(task: str, result: object, example: TaskExample) -> None:
    """The result has the task's generated type and holds exactly the canonical response."""
    spec = TASKS[task]
    if spec.output_kind == "binary":
        assert isinstance(result, BinaryOutput)
        assert result.content_type == example.response_content_type
        assert bytes(result) == example.response
        return
    if spec.element_model is not None:
        element = spec.lookup(spec.element_model)
        assert isinstance(result, list) and result
        assert all(type(item) is element for item in result), [type(item) for item in result]
    elif isinstance(spec.output, type) and issubclass(spec.output, BaseModel):
        assert type(result) is spec.output
    else:
        assert PLAIN_OUTPUTS[task](result), result
    assert dump(result) == example.response


def load_variants() -> list[Any]:
    """Every wire variant of every task, read from schemas/<task>/task.json."""
    params = []
    for path in sorted(SCHEMAS.glob("*/task.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for variant in data.get("wire_variants", []):
            params.append(pytest.param(data["task"], variant, id=f"{data['task']}:{variant['name']}"))
    return params


VARIANTS = load_variants()


# -- the examples themselves ------------------------------------------------------------------------------------------
def test_examples_cover_every_task_of_the_registry() -> None:
    assert len(TASKS) == 35
    assert sorted(EXAMPLES) == sorted(TASKS)
    raw_types = {ex.expected_content_type for ex in EXAMPLES.values() if isinstance(ex.expected_body, bytes)}
    assert {"image/png", "audio/wav"} <= raw_types  # raw-bytes bodies (binary input, no parameters)
    base64_json = [
        task
        for task, ex in EXAMPLES.items()
        if TASKS[task].input_kind == "binary" and ex.expected_content_type == "application/json"
    ]
    assert len(base64_json) >= 10  # base64 `inputs` inside JSON (binary input with parameters)


@pytest.mark.parametrize("task", sorted(EXAMPLES))
def test_example_uses_a_parameter_and_a_valid_body(task: str) -> None:
    spec, example = TASKS[task], EXAMPLES[task]
    assert example.kwargs["model"] == MODEL
    if spec.parameter_fields:
        assert set(example.kwargs) & set(spec.parameter_fields), f"{task}: pass at least one parameter"
    if not isinstance(example.expected_body, bytes):
        spec.input.model_validate(example.expected_body)  # the expected body is itself a valid request


def test_registry_variants_match_the_schema_folders() -> None:
    from_schemas: dict[str, list[str]] = {}
    for param in VARIANTS:
        task, variant = param.values
        from_schemas.setdefault(task, []).append(variant["name"])
    from_registry = {t: [v.name for v in s.wire_variants] for t, s in TASKS.items() if s.wire_variants}
    assert from_schemas == from_registry


# -- every task end to end --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("task", sorted(EXAMPLES))
def test_task_request_and_typed_result(server: MockServer, client: InferenceClient, task: str) -> None:
    example = EXAMPLES[task]
    serve(server, example.response, example.response_content_type)

    result = call(client, task, example)

    assert len(server.received) == 1
    request = server.last
    assert request.method == "POST"
    assert request.path == example.expected_path
    assert request.headers["content-type"] == example.expected_content_type
    if isinstance(example.expected_body, bytes):
        assert request.body == example.expected_body
    else:
        assert request.json() == example.expected_body
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["user-agent"].startswith("typed-inference/")
    assert_typed(task, result, example)


# -- wire variants ----------------------------------------------------------------------------------------------------
def check_per_mask(server: MockServer, client: InferenceClient, variant: dict[str, Any]) -> None:
    example = variant["example"]
    text = "[MASK] is the capital of [MASK]."

    server.json(example)
    per_mask = client.fill_mask(text, model=MODEL, multiple_masks=True)
    assert server.last.json() == {"inputs": text}  # the flag shapes the result, it is not sent
    assert len(per_mask) == len(example) == 2
    assert all(isinstance(c, FillMaskOutputElement) for candidates in per_mask for c in candidates)
    assert dump(per_mask) == example

    server.json(example)
    with pytest.raises(ti.ResponseValidationError) as err:
        client.fill_mask(text, model=MODEL)
    assert "multiple_masks" in str(err.value)
    assert err.value.status_code == 200

    server.json(example[0])  # one mask only: still one list per mask when the flag is set
    single = client.fill_mask("Paris is the capital of [MASK].", model=MODEL, multiple_masks=True)
    assert dump(single) == [example[0]]

    server.json([example, [example[0]]])  # a batch: per input, one list per mask
    batch = client.fill_mask([text, "Paris is the capital of [MASK]."], model=MODEL, multiple_masks=True)
    assert server.last.json() == {"inputs": [text, "Paris is the capital of [MASK]."]}
    assert dump(batch) == [example, [example[0]]]
    assert isinstance(batch[1][0][0], FillMaskOutputElement)

    server.json([example[0], example[1]])  # a batch of single-mask texts answers one list per text
    batch = client.fill_mask(["[MASK] one.", "[MASK] two."], model=MODEL, multiple_masks=True)
    assert dump(batch) == [[example[0]], [example[1]]]
    server.json([example[0], example[1]])
    raw = client.with_raw_response.fill_mask(["[MASK] one.", "[MASK] two."], model=MODEL, multiple_masks=True)
    assert raw.status_code == 200 and dump(raw.parsed) == [[example[0]], [example[1]]]


def check_embedding_depth(server: MockServer, client: InferenceClient, variant: dict[str, Any]) -> None:
    pooled: list[float] = variant["example"]
    half = len(pooled) // 2
    token_a, token_b = pooled[:half], pooled[half:]

    server.json(pooled)  # 1-D: one pooled embedding of the single input
    one_row = client.feature_extraction("Hello world", model=MODEL)
    assert one_row == [pooled]
    assert float_matrix(one_row)

    server.json([[token_a, token_b]])  # 3-D for a single input: its token matrix
    tokens = client.feature_extraction("Hello world", model=MODEL)
    assert tokens == [token_a, token_b]

    server.json([token_a, token_b])  # 2-D for a batch: one pooled row per input, each a one-row matrix
    batch = client.feature_extraction(["Hello", "world"], model=MODEL)
    assert server.last.json() == {"inputs": ["Hello", "world"]}
    assert batch == [[token_a], [token_b]]

    server.json([[token_a, token_b], [token_b]])  # 3-D for a batch: one token matrix per input
    batch_tokens = client.feature_extraction(["Hello world", "world"], model=MODEL)
    assert batch_tokens == [[token_a, token_b], [token_b]]
    assert all(float_matrix(matrix) for matrix in batch_tokens)


@pytest.mark.parametrize(("task", "variant"), VARIANTS)
def test_wire_variant_becomes_canonical(
    server: MockServer, client: InferenceClient, task: str, variant: dict[str, Any]
) -> None:
    op = variant["transform"]["op"]
    if op == "per_mask":
        check_per_mask(server, client, variant)
        return
    if op == "embedding_depth":
        check_embedding_depth(server, client, variant)
        return
    if op != "accepted":
        assert variant["example"] != variant["canonical"]  # the variant really is another shape
    example = EXAMPLES[task]
    server.json(variant["example"])

    result = call(client, task, example)

    spec = TASKS[task]
    if spec.element_model is not None:
        assert isinstance(result, list)
        assert all(type(item) is spec.lookup(spec.element_model) for item in result)
    else:
        assert type(result) is spec.output
    assert dump(result) == variant["canonical"]


# -- batches ----------------------------------------------------------------------------------------------------------
BATCHES: dict[str, tuple[list[str], list[Any], type | None]] = {
    "text-classification": (
        ["I love this film.", "The plot made no sense."],
        [
            [{"label": "POSITIVE", "score": 0.9991}, {"label": "NEGATIVE", "score": 0.0009}],
            [{"label": "NEGATIVE", "score": 0.9874}, {"label": "POSITIVE", "score": 0.0126}],
        ],
        TextClassificationOutputElement,
    ),
    "token-classification": (
        ["Ada Lovelace was born in London.", "Nothing to see here."],
        [
            [
                {"entity_group": "PER", "score": 0.9987, "word": "Ada Lovelace", "start": 0, "end": 12},
                {"entity_group": "LOC", "score": 0.9995, "word": "London", "start": 25, "end": 31},
            ],
            [],
        ],
        TokenClassificationOutputElement,
    ),
    "fill-mask": (
        ["Paris is the [MASK] of France.", "The cat sat on the [MASK]."],
        [
            [{"sequence": "paris is the capital of france.", "score": 0.997, "token": 3007, "token_str": "capital"}],
            [
                {"sequence": "the cat sat on the mat.", "score": 0.41, "token": 13523, "token_str": "mat"},
                {"sequence": "the cat sat on the floor.", "score": 0.12, "token": 2723, "token_str": "floor"},
            ],
        ],
        FillMaskOutputElement,
    ),
    "feature-extraction": (
        ["first text", "second text", "third text"],
        [[[0.125, -0.5, 0.25]], [[0.75, 0.0625, -0.375]], [[-0.25, 0.5, 0.875]]],
        None,
    ),
}


@pytest.mark.parametrize("task", sorted(BATCHES))
def test_batch_input_returns_one_result_per_input_in_order(
    server: MockServer, client: InferenceClient, task: str
) -> None:
    texts, per_input, element = BATCHES[task]
    assert TASKS[task].batch
    server.json(per_input)

    result: Any = getattr(client, method_name(task))(texts, model=MODEL)

    assert server.last.json()["inputs"] == texts
    assert isinstance(result, list)
    assert len(result) == len(texts)
    for got, expected in zip(result, per_input, strict=True):
        assert isinstance(got, list)
        if element is not None:
            assert all(type(item) is element for item in got)
        else:
            assert float_matrix(got)
        assert dump(got) == expected


def test_feature_extraction_batch_of_pooled_rows(server: MockServer, client: InferenceClient) -> None:
    server.json([[0.5, 0.25], [0.125, 1.0]])  # what a TEI server answers: one pooled row per input
    result = client.feature_extraction(["a", "b"], model=MODEL)
    assert result == [[[0.5, 0.25]], [[0.125, 1.0]]]


def test_text_classification_batch_of_one_keeps_its_nesting(server: MockServer, client: InferenceClient) -> None:
    server.json([[{"label": "POSITIVE", "score": 0.75}]])
    result = client.text_classification(["only text"], model=MODEL)
    assert len(result) == 1
    assert dump(result) == [[{"label": "POSITIVE", "score": 0.75}]]


# -- per-call options -------------------------------------------------------------------------------------------------
TC_RESPONSE = [{"label": "POSITIVE", "score": 0.9}]


@pytest.mark.parametrize(
    ("wait_for_model", "use_cache", "expected"),
    [
        (True, False, {"x-wait-for-model": "true", "x-use-cache": "false"}),
        (False, True, {"x-wait-for-model": "false", "x-use-cache": "true"}),
    ],
)
def test_wait_for_model_and_use_cache_become_headers(
    server: MockServer,
    client: InferenceClient,
    wait_for_model: bool,
    use_cache: bool,
    expected: dict[str, str],
) -> None:
    server.json(TC_RESPONSE)
    client.text_classification("good", model=MODEL, wait_for_model=wait_for_model, use_cache=use_cache)
    headers = server.last.headers
    assert {k: headers.get(k) for k in expected} == expected
    assert server.last.json() == {"inputs": "good"}  # no legacy options object in the body


def test_no_option_headers_and_no_parameters_by_default(server: MockServer, client: InferenceClient) -> None:
    server.json(TC_RESPONSE)
    client.text_classification("good", model=MODEL, top_k=None)
    assert "x-wait-for-model" not in server.last.headers
    assert "x-use-cache" not in server.last.headers
    assert server.last.json() == {"inputs": "good"}  # None is not sent; no empty parameters object


def test_option_headers_on_a_raw_binary_body(server: MockServer, client: InferenceClient) -> None:
    serve(server, EXAMPLES["depth-estimation"].response)
    client.depth_estimation(PNG, model=MODEL, wait_for_model=True)
    assert server.last.headers["x-wait-for-model"] == "true"
    assert server.last.headers["content-type"] == "image/png"
    assert server.last.body == PNG


def test_extra_headers_are_sent(server: MockServer, client: InferenceClient) -> None:
    server.json(TC_RESPONSE)
    client.text_classification("good", model=MODEL, extra_headers={"X-Trace-Id": "trace-123", "X-Priority": "low"})
    assert server.last.headers["x-trace-id"] == "trace-123"
    assert server.last.headers["x-priority"] == "low"
    assert server.last.headers["authorization"] == f"Bearer {TOKEN}"


def test_extra_body_is_merged_unvalidated(server: MockServer, client: InferenceClient) -> None:
    server.json(TC_RESPONSE)
    client.text_classification(
        "good",
        model=MODEL,
        top_k=2,
        extra_body={"options": {"priority": "high"}, "truncation": "only_first", "stream": "maybe"},
    )
    # none of these would pass the input schema: they are sent as given, beside the validated body
    assert server.last.json() == {
        "inputs": "good",
        "parameters": {"top_k": 2},
        "options": {"priority": "high"},
        "truncation": "only_first",
        "stream": "maybe",
    }


def test_extra_body_beside_flat_options(server: MockServer, client: InferenceClient) -> None:
    server.json([[0.5, 0.25]])
    client.feature_extraction("hello", model=MODEL, normalize=False, extra_body={"dimensions": 256})
    assert server.last.path == "/models/org/model/pipeline/feature-extraction"
    assert server.last.json() == {"inputs": "hello", "normalize": False, "dimensions": 256}


def test_extra_body_turns_a_binary_input_into_base64_json(server: MockServer, client: InferenceClient) -> None:
    serve(server, EXAMPLES["depth-estimation"].response)
    client.depth_estimation(PNG, model=MODEL, extra_body={"parameters": {"resolution": 384}})
    assert server.last.headers["content-type"] == "application/json"
    assert server.last.json() == {"inputs": b64(PNG), "parameters": {"resolution": 384}}


def test_extra_body_parameters_are_added_to_the_validated_ones(server: MockServer, client: InferenceClient) -> None:
    server.json(TC_RESPONSE)
    client.text_classification("good", model=MODEL, top_k=2, extra_body={"parameters": {"truncation": True}})
    assert server.last.json() == {"inputs": "good", "parameters": {"top_k": 2, "truncation": True}}


def test_full_url_as_model_posts_to_that_url(server: MockServer, client: InferenceClient) -> None:
    server.json(TC_RESPONSE)
    result = client.text_classification("good", model=server.url + "/my-endpoint", top_k=1)
    assert server.last.path == "/my-endpoint"
    assert server.last.json() == {"inputs": "good", "parameters": {"top_k": 1}}
    assert server.last.headers["authorization"] == f"Bearer {TOKEN}"
    assert dump(result) == TC_RESPONSE


def test_full_url_for_a_pipeline_task_posts_to_the_url_itself(server: MockServer, client: InferenceClient) -> None:
    server.json([[0.5, 0.25]])
    client.feature_extraction("hello", model=server.url + "/tei/")
    assert server.last.path == "/tei"


def test_full_url_for_chat_adds_the_chat_route(server: MockServer, client: InferenceClient) -> None:
    server.json(CHAT_RESPONSE)
    client.chat_completion(MESSAGES, model=server.url + "/my-endpoint")
    assert server.last.path == "/my-endpoint/v1/chat/completions"
    assert server.last.json()["messages"] == MESSAGES


def test_chat_with_a_model_id_puts_the_model_in_path_and_body(server: MockServer, client: InferenceClient) -> None:
    server.json(CHAT_RESPONSE)
    result = client.chat_completion(MESSAGES, model="org/model", seed=3)
    assert server.last.path == "/models/org/model/v1/chat/completions"
    body = server.last.json()
    assert body["model"] == "org/model"
    assert body == {"model": "org/model", "messages": MESSAGES, "seed": 3}
    assert isinstance(result, ChatCompletionOutput)


def test_model_id_without_org(server: MockServer, client: InferenceClient) -> None:
    server.json(TC_RESPONSE)
    client.text_classification("good", model="distilbert-base-uncased")
    assert server.last.path == "/models/distilbert-base-uncased"


def test_raw_video_body_gets_its_sniffed_type(server: MockServer, client: InferenceClient) -> None:
    server.json([{"label": "juggling", "score": 0.8}])
    client.video_classification(MP4, model=MODEL)
    assert server.last.headers["content-type"] == "video/mp4"
    assert server.last.body == MP4


# -- request validation -----------------------------------------------------------------------------------------------
INVALID_REQUESTS = [
    pytest.param("fill_mask", ("a [MASK].",), {"top_k": "5"}, "parameters.top_k", id="str-for-int"),
    pytest.param("fill_mask", ("a [MASK].",), {"top_k": True}, "parameters.top_k", id="bool-for-int"),
    pytest.param("fill_mask", ("a [MASK].",), {"top_k": 0}, "parameters.top_k", id="below-minimum"),
    pytest.param("text_generation", ("Hi",), {"max_new_tokens": 20.0}, "parameters.max_new_tokens", id="float-for-int"),
    pytest.param("chat_completion", (MESSAGES,), {"max_tokens": "64"}, "max_tokens", id="chat-top-level"),
    pytest.param("feature_extraction", ("hi",), {"normalize": "yes"}, "normalize", id="flat-option"),
    pytest.param("image_classification", (PNG,), {"top_k": "2"}, "parameters.top_k", id="binary-input-parameter"),
    pytest.param(
        "automatic_speech_recognition",
        (WAV,),
        {"generation_parameters": {"max_new_token": 5}},
        "parameters.generation_parameters.max_new_token",
        id="misspelt-nested-field",
    ),
    pytest.param(
        "image_to_image",
        (PNG,),
        {"target_size": {"widht": 512, "height": 512}},
        "parameters.target_size.widht",
        id="misspelt-target-size",
    ),
    pytest.param(
        "question_answering", (), {"question": "Where?", "context": 42}, "inputs.context", id="object-input-field"
    ),
    pytest.param(
        "table_question_answering",
        (),
        {"query": "How many?", "table": {"Stars": [36542]}},
        "inputs.table.Stars[0]",
        id="table-cell-not-a-string",
    ),
    pytest.param(
        "zero_shot_classification", ("text",), {"candidate_labels": []}, "parameters.candidate_labels", id="empty-list"
    ),
]


@pytest.mark.parametrize(("method", "args", "kwargs", "path"), INVALID_REQUESTS)
def test_invalid_request_is_rejected_before_sending(
    server: MockServer,
    client: InferenceClient,
    method: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    path: str,
) -> None:
    with pytest.raises(ti.RequestValidationError) as err:
        getattr(client, method)(*args, model=MODEL, **kwargs)
    assert f"{path}:" in str(err.value)
    assert err.value.errors  # the pydantic errors are kept for programs
    assert len(server.received) == 0


def test_misspelt_parameter_suggests_the_right_name(server: MockServer, client: InferenceClient) -> None:
    with pytest.raises(ti.RequestValidationError) as err:
        client.text_to_speech("Hello", model=MODEL, generation_parameters={"temprature": 0.7})  # type: ignore[arg-type]
    assert "parameters.generation_parameters.temprature: unknown field 'temprature'" in str(err.value)
    assert "did you mean 'temperature'?" in str(err.value)
    assert len(server.received) == 0


def test_misspelt_keyword_is_refused_by_the_method(server: MockServer, client: InferenceClient) -> None:
    method: Callable[..., Any] = client.fill_mask
    with pytest.raises(TypeError, match="top_kk"):
        method("a [MASK].", model=MODEL, top_kk=5)
    assert len(server.received) == 0


def test_missing_model_is_a_request_validation_error(server: MockServer, client: InferenceClient) -> None:
    assert client.model is None
    with pytest.raises(ti.RequestValidationError) as err:
        client.fill_mask("a [MASK].")
    assert "model" in str(err.value)
    assert "fill-mask" in str(err.value)
    assert len(server.received) == 0


@pytest.mark.parametrize(
    ("method", "args", "kwargs", "path"),
    [
        pytest.param("text_generation", ("Hi",), {"temperature": math.nan}, "parameters.temperature", id="tgi"),
        pytest.param("chat_completion", (MESSAGES,), {"temperature": math.nan}, "temperature", id="chat"),
        pytest.param("chat_completion", (MESSAGES,), {"top_p": math.inf}, "top_p", id="chat-inf"),
        pytest.param("chat_completion", (MESSAGES,), {"logit_bias": {"1234": math.nan}}, "logit_bias", id="bias"),
        pytest.param("image_segmentation", (PNG,), {"threshold": math.nan}, "parameters.threshold", id="binary"),
        pytest.param("text_to_image", ("a cat",), {"guidance_scale": math.nan}, "parameters.guidance_scale", id="t2i"),
        pytest.param(
            "text_to_audio",
            ("drums",),
            {"generation_parameters": {"temperature": math.nan}},
            "parameters.generation_parameters.temperature",
            id="nested",
        ),
    ],
)
def test_nan_float_parameter_is_rejected_before_sending(
    server: MockServer,
    client: InferenceClient,
    method: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    path: str,
) -> None:
    with pytest.raises(ti.RequestValidationError) as err:
        getattr(client, method)(*args, model=MODEL, **kwargs)
    assert path in str(err.value)
    assert "finite" in str(err.value)
    assert len(server.received) == 0


def test_nan_in_a_free_form_parameter_is_not_sent(server: MockServer, client: InferenceClient) -> None:
    with pytest.raises(ti.RequestValidationError) as err:
        client.summarization("Some long text.", model=MODEL, generate_parameters={"temperature": math.nan})
    assert "JSON" in str(err.value)
    assert len(server.received) == 0


@pytest.mark.parametrize(
    ("method", "args", "path", "tag"),
    [
        pytest.param("tabular_regression", ({"Height": [math.nan]},), "inputs.data.Height[0]:", ".str", id="cell"),
        pytest.param(
            "chat_completion",
            ([{"role": "usr", "content": "hi"}],),
            "messages[0].role:",
            "ChatCompletionInputUserMessage",
            id="message",
        ),
    ],
)
def test_union_errors_name_a_plain_json_path(
    server: MockServer, client: InferenceClient, method: str, args: tuple[Any, ...], path: str, tag: str
) -> None:
    with pytest.raises(ti.RequestValidationError) as err:
        getattr(client, method)(*args, model=MODEL)
    assert len(server.received) == 0
    assert tag not in str(err.value)
    assert path in str(err.value)


# -- response validation modes ----------------------------------------------------------------------------------------
FILL_MASK_EXTRA = [{"sequence": "a b.", "score": 0.5, "token": 1, "token_str": "b", "rank": 1}]


def test_strict_rejects_an_unknown_field(server: MockServer, clock: FakeClock) -> None:
    server.json(FILL_MASK_EXTRA)
    with make_client(server, clock, "strict") as strict, pytest.raises(ti.ResponseValidationError) as err:
        strict.fill_mask("a [MASK].", model=MODEL)
    assert "[0].rank" in str(err.value)
    assert err.value.status_code == 200
    assert json.loads(err.value.body) == FILL_MASK_EXTRA


def test_strict_names_a_nested_unknown_field(server: MockServer, clock: FakeClock) -> None:
    response = json.loads(json.dumps(CHAT_RESPONSE))
    response["choices"][0]["message"]["reasoning_content"] = "Let me think."
    server.json(response)
    with make_client(server, clock, "strict") as strict, pytest.raises(ti.ResponseValidationError) as err:
        strict.chat_completion(MESSAGES, model=MODEL)
    assert "choices[0].message.reasoning_content" in str(err.value)


@pytest.mark.parametrize("task", sorted(EXAMPLES))
def test_strict_accepts_every_canonical_example(server: MockServer, clock: FakeClock, task: str) -> None:
    example = EXAMPLES[task]
    serve(server, example.response, example.response_content_type)
    with make_client(server, clock, "strict") as strict:
        result = call(strict, task, example)
    assert_typed(task, result, example)


def strict_variant_params() -> list[Any]:
    """The variants with a fixed canonical shape; a documented canonical shape must pass strict validation too."""
    params = []
    for param in VARIANTS:
        task, variant = param.values
        if "canonical" not in variant:
            continue
        params.append(pytest.param(task, variant, id=param.id))
    return params


@pytest.mark.parametrize(("task", "variant"), strict_variant_params())
def test_strict_accepts_every_documented_wire_variant(
    server: MockServer, clock: FakeClock, task: str, variant: dict[str, Any]
) -> None:
    server.json(variant["example"])
    with make_client(server, clock, "strict") as strict:
        result = call(strict, task, EXAMPLES[task])
    assert dump(result) == variant["canonical"]


def test_lenient_keeps_an_unknown_field(server: MockServer, client: InferenceClient) -> None:
    assert client.response_validation == "lenient"
    server.json(FILL_MASK_EXTRA)
    result = client.fill_mask("a [MASK].", model=MODEL)
    assert type(result[0]) is FillMaskOutputElement
    assert result[0].model_extra == {"rank": 1}
    assert dump(result) == FILL_MASK_EXTRA


def test_lenient_still_rejects_a_wrong_type(server: MockServer, client: InferenceClient) -> None:
    server.json([{"sequence": "a b.", "score": "high", "token": 1, "token_str": "b"}])
    with pytest.raises(ti.ResponseValidationError) as err:
        client.fill_mask("a [MASK].", model=MODEL)
    assert "[0].score" in str(err.value)


def test_off_returns_the_same_types_without_validating(server: MockServer, clock: FakeClock) -> None:
    unchecked = [{"sequence": "a b.", "score": "high", "token": 1, "token_str": "b", "rank": 1}]
    server.json(unchecked)
    with make_client(server, clock, "off") as off:
        result = off.fill_mask("a [MASK].", model=MODEL)
    assert isinstance(result, list)
    assert type(result[0]) is FillMaskOutputElement
    assert result[0].token_str == "b"
    assert result[0].score == "high"  # type: ignore[comparison-overlap]  # not validated: kept as sent
    assert result[0].model_extra == {"rank": 1}


def test_off_still_normalises_wire_variants(server: MockServer, clock: FakeClock) -> None:
    server.json({"sequence": "text", "labels": ["technology", "travel"], "scores": [0.875, 0.125]})
    with make_client(server, clock, "off") as off:
        result = off.zero_shot_classification("text", candidate_labels=["technology", "travel"], model=MODEL)
    assert all(type(item) is ZeroShotClassificationOutputElement for item in result)
    assert dump(result) == [{"label": "technology", "score": 0.875}, {"label": "travel", "score": 0.125}]


@pytest.mark.parametrize("task", sorted(EXAMPLES))
def test_off_gives_the_same_typed_result_for_every_example(server: MockServer, clock: FakeClock, task: str) -> None:
    example = EXAMPLES[task]
    serve(server, example.response, example.response_content_type)
    with make_client(server, clock, "off") as off:
        result = call(off, task, example)
    assert_typed(task, result, example)


def test_binary_task_rejects_a_json_answer(server: MockServer, client: InferenceClient) -> None:
    server.json({"generated_image": "not bytes"})
    with pytest.raises(ti.ResponseValidationError) as err:
        client.text_to_image("a cat", model=MODEL)
    assert "binary" in str(err.value)
