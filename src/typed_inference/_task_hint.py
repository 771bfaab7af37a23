"""Which task an answer is shaped like, when it does not fit the task called: a model serving another task."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typed_inference._task import TaskSpec

# Text tasks whose answers have distinct shapes, in the order a match is named (image-classification answers look
# like text-classification's, and feature-extraction's floats fit many shapes: neither is named).
CANDIDATES = (
    "text-classification",
    "fill-mask",
    "token-classification",
    "question-answering",
    "zero-shot-classification",
    "summarization",
    "translation",
    "text-generation",
)


def shaped_like(spec: TaskSpec, data: Any) -> str | None:
    """The first other task whose output `data` fits (its wire variants applied), or None."""
    from pydantic import ValidationError

    from typed_inference._decode import output_adapter
    from typed_inference._generated.registry import TASKS
    from typed_inference._wire import WireShapeError, normalise

    if data in ([], {}, None):
        return None
    for task in CANDIDATES:
        if task == spec.task:
            continue
        other = TASKS[task]
        try:
            shaped, _ = normalise(other, data)
            output_adapter(other, 0).validate_python(shaped)
        except (ValidationError, WireShapeError, TypeError, ValueError, KeyError, IndexError):
            continue
        return task
    return None


def hint(spec: TaskSpec, data: Any) -> str:
    """The sentence naming the task the answer is shaped like ("" when none fits)."""
    task = shaped_like(spec, data)
    if task is None:
        return ""
    return f"the answer is shaped like a {task} answer: does the model serve {task} rather than {spec.task}?"
