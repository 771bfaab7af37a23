"""Property tests: schema-generated instances validate and round-trip; mutated ones are judged alike by both."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from tests.agreement import Target, check_instance, targets

TARGETS = targets()


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: f"{t.task}:{t.kind}")
def test_schema_and_model_agree(target: Target) -> None:
    strategy = from_schema(target.schema())

    @settings(
        max_examples=15,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
        database=None,
    )
    @given(value=strategy, seed=st.integers(0, 2**16))
    def run(value: Any, seed: int) -> None:
        problems = check_instance(target, value, random.Random(seed))
        assert not problems, "\n".join(problems)

    run()


def test_every_task_has_targets() -> None:
    kinds = {(t.task, t.kind) for t in TARGETS}
    assert len({task for task, _ in kinds}) == 35
    assert ("text-generation", "stream-output") in kinds
    assert ("chat-completion", "stream-output") in kinds
