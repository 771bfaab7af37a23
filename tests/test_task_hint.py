"""An answer of another task's shape says so: "does the model serve text-classification rather than fill-mask?"."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

import typed_inference as ti
from typed_inference import InferenceClient
from typed_inference.testing import MockTransport
from typed_inference.transport import Response

CLASSES = [[{"label": "POSITIVE", "score": 0.9}, {"label": "NEGATIVE", "score": 0.1}]]
CANDIDATES = [{"sequence": "a b.", "score": 0.5, "token": 1, "token_str": "b"}]


def answering(data: Any) -> InferenceClient:
    body = json.dumps(data).encode()
    reply = Response(200, {"content-type": "application/json"}, content=body)
    return InferenceClient("m", base_url="http://127.0.0.1:9", transport=MockTransport(lambda _request: reply))


CASES: list[tuple[Callable[[InferenceClient], Any], Any, str, str]] = [
    (lambda c: c.fill_mask("a [MASK]."), CLASSES, "text-classification", "fill-mask"),
    (lambda c: c.text_classification("great"), CANDIDATES, "fill-mask", "text-classification"),
    (lambda c: c.summarization("a text"), CANDIDATES, "fill-mask", "summarization"),
]


@pytest.mark.parametrize(("call", "answer", "served", "called"), CASES)
def test_an_answer_of_another_tasks_shape_names_that_task(
    call: Callable[[InferenceClient], Any], answer: Any, served: str, called: str
) -> None:
    with answering(answer) as client, pytest.raises(ti.ResponseValidationError) as caught:
        call(client)
    expected = f"the answer is shaped like a {served} answer: does the model serve {served} rather than {called}?"
    assert expected in str(caught.value)
    assert "mask tokens" not in str(caught.value)  # not the fill-mask variant's own advice


def test_an_answer_of_no_known_shape_says_only_what_is_wrong() -> None:
    with answering([{"unexpected": True}]) as client, pytest.raises(ti.ResponseValidationError) as caught:
        client.text_classification("great")
    assert "shaped like" not in str(caught.value) and "required field missing" in str(caught.value)
