"""The ASGI app: the hosted Inference API's routes over `Server`, errors always as `{"error": ...}`.

No `from __future__ import annotations` here: FastAPI reads the route functions' annotations at definition time,
and `Request` is imported inside `create_app` so that importing this module stays light.
"""

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from typed_inference._version import __version__
from typed_inference.server.config import ServerConfig
from typed_inference.server.errors import openai_body
from typed_inference.server.handling import Reply, Server

if TYPE_CHECKING:
    from fastapi import FastAPI, Request, Response


def _response(reply: Reply) -> "Response":
    from fastapi.responses import Response, StreamingResponse

    if isinstance(reply.body, bytes):
        return Response(reply.body, reply.status, reply.headers, reply.media_type)
    return StreamingResponse(reply.body, reply.status, reply.headers, reply.media_type)


def _headers(request: "Request") -> dict[str, str]:
    return {key.lower(): value for key, value in request.headers.items()}


access_logger = logging.getLogger("typed_inference.server.access")


class AccessLog:
    """ASGI middleware writing one INFO line per request once its answer is sent: method, route, model, status and
    milliseconds. Only the route's template and the model id are logged: no header, body or query string, so never
    a token."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not access_logger.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        seen: dict[str, Any] = {"status": 500, "model": None}

        async def sending(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
                for key, value in message.get("headers", ()):
                    if key.lower() == b"x-model-id":
                        seen["model"] = value.decode("latin-1")
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", None) or "-"
            model = seen["model"] or scope.get("path_params", {}).get("model_id") or "-"
            elapsed = (time.perf_counter() - started) * 1000
            access_logger.info(
                "%s %s model=%s status=%s %.1f ms", scope["method"], route, model, seen["status"], elapsed
            )


def _is_openai(request: "Request") -> bool:
    """A `/v1/...` route (OpenAI-compatible), whose errors are in OpenAI's shape."""
    return "/v1/" in request.url.path


def _error(request: "Request", status: int, message: str) -> dict[str, Any]:
    return openai_body(status, message) if _is_openai(request) else {"error": message}


def create_app(config: ServerConfig | None = None) -> "FastAPI":
    """The server's ASGI app; models start loading in the background when the app starts."""
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse, Response
    from starlette.exceptions import HTTPException

    from typed_inference.server.openapi import install_openapi

    server = Server(config or ServerConfig())

    @asynccontextmanager
    async def lifespan(_app: "FastAPI") -> AsyncIterator[None]:
        server.start()
        yield
        server.close()

    app = FastAPI(
        title="typed-inference local Inference API",
        version=__version__,
        description="The Hugging Face Inference API's protocol, served from local models.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.server = server

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        return JSONResponse(_error(request, exc.status_code, str(exc.detail)), exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        return JSONResponse(_error(request, 400, f"Invalid request: {exc.errors()}"), 400)

    @app.post("/models/{model_id:path}/pipeline/{task}", tags=["tasks"])
    async def model_pipeline(model_id: str, task: str, request: Request) -> Response:
        """Runs a model as `task` (feature-extraction or sentence-similarity for a sentence-transformers model)."""
        return _response(await server.task_call(model_id, task, await request.body(), _headers(request)))

    @app.post("/models/{model_id:path}/v1/chat/completions", tags=["chat"])
    async def model_chat(model_id: str, request: Request) -> Response:
        """OpenAI-compatible chat with one text-generation model."""
        body = await request.body()
        return _response(await server.task_call(model_id, "chat-completion", body, _headers(request), openai=True))

    @app.post("/models/{model_id:path}", tags=["tasks"])
    async def model(model_id: str, request: Request) -> Response:
        """Runs a model on its own task (its `pipeline_tag`)."""
        return _response(await server.task_call(model_id, None, await request.body(), _headers(request)))

    @app.post("/pipeline/{task}/{model_id:path}", tags=["tasks"])
    async def pipeline(task: str, model_id: str, request: Request) -> Response:
        """The legacy route: runs a model as `task`."""
        return _response(await server.task_call(model_id, task, await request.body(), _headers(request)))

    @app.post("/v1/chat/completions", tags=["chat"])
    async def chat(request: Request) -> Response:
        """OpenAI-compatible chat: the body's `model` if it is served, else the first text-generation model."""
        return _response(
            await server.task_call(None, "chat-completion", await request.body(), _headers(request), openai=True)
        )

    @app.get("/api/models/{model_id:path}", tags=["metadata"])
    async def model_info(model_id: str) -> Response:
        """Hub-style metadata of a model: `pipeline_tag`, `library_name`, `tags`."""
        return _response(server.model_info(model_id))

    @app.get("/models", tags=["metadata"])
    async def models() -> list[dict[str, Any]]:
        """Every served model: id, task, the tasks it answers, library and loading state."""
        return server.models()

    @app.get("/v1/models", tags=["chat"])
    async def openai_models() -> dict[str, Any]:
        """The served models in OpenAI's shape (`{"object": "list", "data": [...]}`), with task and state."""
        return server.openai_models()

    @app.get("/health", tags=["metadata"])
    async def health() -> dict[str, Any]:
        """The server is up; every model's loading state."""
        return server.health()

    install_openapi(app)
    app.add_middleware(AccessLog)
    return app
