"""The OpenAPI document: FastAPI's routes, with the request and answer bodies of every served task's schema."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Union

from pydantic import TypeAdapter

from typed_inference._generated.registry import TASKS
from typed_inference.server.backends import SERVABLE_TASKS

if TYPE_CHECKING:
    from fastapi import FastAPI

_REF = "#/components/schemas/{model}"
_ERROR = {
    "description": 'An error: `{"error": message}`; 503 adds `estimated_time` while the model loads.',
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["error"],
                "properties": {"error": {"type": "string"}, "estimated_time": {"type": "number"}},
            }
        }
    },
}

_OPENAI_ERROR = {
    "description": 'An error in OpenAI\'s shape: `{"error": {"message", "type", "code"}}`.',
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["error"],
                "properties": {
                    "error": {
                        "type": "object",
                        "required": ["message", "type", "code"],
                        "properties": {
                            "message": {"type": "string"},
                            "type": {"type": "string"},
                            "code": {"type": "string"},
                        },
                    }
                },
            }
        }
    },
}
_ANSWER = (
    "The task's answer in the hosted service's shape: its output as the schema defines it (a list per input for a "
    "batch), except text-classification's one more list per text, summarization's and translation's one-element "
    "list, question-answering's best answer as one object without top_k, and feature-extraction's one row per text "
    "on a sentence-transformers model"
)


def _union_schema(types: list[Any], components: dict[str, Any]) -> dict[str, Any]:
    """A JSON Schema `anyOf` the types, their definitions moved into the document's components."""
    union: Any = Union[tuple(types)]  # noqa: UP007
    schema = TypeAdapter(union).json_schema(ref_template=_REF)
    components.update(schema.pop("$defs", {}))
    return schema


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """The document: every route, and for task routes the bodies as the generated models define them."""
    from fastapi.openapi.utils import get_openapi

    doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components: dict[str, Any] = doc.setdefault("components", {}).setdefault("schemas", {})
    tasks = sorted(t for t in SERVABLE_TASKS if t != "chat-completion")
    task_in = _union_schema([TASKS[t].input for t in tasks], components)
    task_out = _union_schema([TASKS[t].output for t in tasks], components)
    chat_in = _union_schema([TASKS["chat-completion"].input], components)
    chat_out = _union_schema([TASKS["chat-completion"].output], components)
    for path, operations in doc.get("paths", {}).items():
        post = operations.get("post")
        if post is None:
            continue
        chat = path.endswith("/chat/completions")
        body_schema, answer_schema = (chat_in, chat_out) if chat else (task_in, task_out)
        content: dict[str, Any] = {"application/json": {"schema": body_schema}}
        if not chat:
            content["application/octet-stream"] = {"schema": {"type": "string", "format": "binary"}}
        post["requestBody"] = {"required": True, "content": content}
        error = _OPENAI_ERROR if "/v1/" in path else _ERROR
        post["responses"] = {
            "200": {
                "description": "The chat completion" if chat else _ANSWER,
                "content": {"application/json": {"schema": answer_schema}},
            },
            **{status: error for status in ("400", "404", "422", "429", "500", "503")},
        }
    return doc


def install_openapi(app: FastAPI) -> None:
    """Makes `/openapi.json` serve `build_openapi` (built once, on first request)."""
    cache: dict[str, Any] = {}

    def openapi() -> dict[str, Any]:
        if "doc" not in cache:
            cache["doc"] = build_openapi(app)
        return cache["doc"]  # type: ignore[no-any-return]

    app.openapi = openapi  # type: ignore[method-assign]
