"""The ASGI app: the hosted Inference API's routes over `Server`, errors always as `{"error": ...}`.

No `from __future__ import annotations` here: FastAPI reads the route functions' annotations at definition time,
and `Request` is imported inside `create_app` so that importing this module stays light.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from typed_inference._version import __version__
from typed_inference.server.config import ServerConfig
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
    async def http_error(_request: Request, exc: HTTPException) -> Response:
        return JSONResponse({"error": exc.detail}, exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> Response:
        return JSONResponse({"error": f"Invalid request: {exc.errors()}"}, 400)

    @app.post("/models/{model_id:path}/pipeline/{task}", tags=["tasks"])
    async def model_pipeline(model_id: str, task: str, request: Request) -> Response:
        """Runs a model as `task` (feature-extraction or sentence-similarity for a sentence-transformers model)."""
        return _response(await server.task_call(model_id, task, await request.body(), _headers(request)))

    @app.post("/models/{model_id:path}/v1/chat/completions", tags=["chat"])
    async def model_chat(model_id: str, request: Request) -> Response:
        """OpenAI-compatible chat with one text-generation model."""
        return _response(await server.task_call(model_id, "chat-completion", await request.body(), _headers(request)))

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
        return _response(await server.task_call(None, "chat-completion", await request.body(), _headers(request)))

    @app.get("/api/models/{model_id:path}", tags=["metadata"])
    async def model_info(model_id: str) -> Response:
        """Hub-style metadata of a model: `pipeline_tag`, `library_name`, `tags`."""
        return _response(server.model_info(model_id))

    @app.get("/health", tags=["metadata"])
    async def health() -> dict[str, Any]:
        """The server is up; every model's loading state."""
        return server.health()

    install_openapi(app)
    return app
