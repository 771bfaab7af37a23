"""The ASGI app: the hosted Inference API's routes over `Server`, errors always as `{"error": ...}`.

No `from __future__ import annotations` here: FastAPI reads the route functions' annotations at definition time,
and `Request` is imported inside `create_app` so that importing this module stays light.
"""

import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from typed_inference._version import __version__
from typed_inference.server.config import ServerConfig
from typed_inference.server.cors import answer_preflight, is_preflight, with_cors
from typed_inference.server.errors import openai_body
from typed_inference.server.handling import ACCESS_NOTE, Reply, Server

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
    """ASGI middleware writing one INFO line per request once its answer is sent: method, the task it ran (else the
    route's template), model, status and milliseconds. No header, body or query string is logged, so never a
    token."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not access_logger.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        seen: dict[str, Any] = {"status": 500, "model": None, "logged": False, "task": None}

        def log() -> None:
            seen["logged"] = True
            route = seen["task"] or getattr(scope.get("route"), "path", None) or "-"
            model = seen["model"] or scope.get("path_params", {}).get("model_id") or "-"
            elapsed = (time.perf_counter() - started) * 1000
            access_logger.info(
                "%s %s model=%s status=%s %.1f ms", scope["method"], route, model, seen["status"], elapsed
            )

        async def sending(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
                for key, value in message.get("headers", ()):
                    if key.lower() == b"x-model-id":
                        seen["model"] = value.decode("latin-1")
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                log()  # before the last byte goes out, so the line is written when the client has its answer
            await send(message)

        note = ACCESS_NOTE.set(seen)  # the handler writes the task it ran into `seen`
        try:
            await self.app(scope, receive, sending)
        finally:
            ACCESS_NOTE.reset(note)
            if not seen["logged"]:
                log()


LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARD = frozenset({"0.0.0.0", "::", ""})
# the content types a web page may POST cross-origin without a CORS preflight
SIMPLE_TYPES = frozenset({"text/plain", "multipart/form-data", "application/x-www-form-urlencoded"})


def _host_name(host: str) -> str:
    """The name of a Host header without its port: `[::1]:8080` → `::1`, `localhost:8080` → `localhost`."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def allowed_hosts(config: ServerConfig) -> frozenset[str] | None:
    """The Host names the server answers (None: any, `--allow-host '*'`): loopback names on a loopback bind, the
    bound address otherwise, plus every `--allow-host`."""
    extra = {_host_name(h) for h in config.allow_hosts}
    if "*" in extra:
        return None
    bind = _host_name(config.host) if config.host.startswith("[") else config.host.lower()
    if bind in LOOPBACK or bind.startswith("127."):
        return frozenset(LOOPBACK | extra | {bind})
    if bind in WILDCARD:
        return frozenset(extra)
    return frozenset(extra | {bind})


def _scope_headers(scope: dict[str, Any]) -> dict[str, str]:
    """An ASGI request's headers by lower-case name."""
    return {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}


class Guard:
    """ASGI middleware refusing what a web page could send on the user's behalf: a Host the server is not known by
    (421: DNS rebinding), an `Origin` not allowed by `--allow-origin` or a cross-site `Sec-Fetch-Site` (403), and
    the content types a page may POST without a CORS preflight (403). No Content-Type at all stays accepted:
    huggingface_hub sends raw file bytes without one. An allowed origin's preflight is answered here, and its
    answers carry the CORS headers that let its page read them."""

    def __init__(self, app: Any, config: ServerConfig) -> None:
        self.app = app
        self.hosts = allowed_hosts(config)
        self.origins = frozenset(o.rstrip("/").lower() for o in config.allow_origins)

    def allows(self, origin: str | None) -> bool:
        """Whether `--allow-origin` lets pages of `origin` in."""
        return origin is not None and (origin in self.origins or "*" in self.origins)

    def foreign_origin(self, headers: dict[str, str]) -> str | None:
        """The request's `Origin` when it is an allowed one other than the server's own (CORS answers it)."""
        origin = headers.get("origin")
        if origin is None:
            return None
        host = headers.get("host", "").lower()
        same = origin.rstrip("/").lower() in (f"http://{host}", f"https://{host}")
        return origin if not same and self.allows(origin.rstrip("/").lower()) else None

    def refusal(self, scope: dict[str, Any]) -> tuple[int, str] | None:
        headers = _scope_headers(scope)
        host = headers.get("host", "")
        if self.hosts is not None and _host_name(host) not in self.hosts:
            return 421, f"This server does not answer for Host {host!r} (start it with --allow-host to add one)"
        origin = headers.get("origin")
        if origin is not None:
            origin = origin.rstrip("/").lower()
            same = origin in (f"http://{host.lower()}", f"https://{host.lower()}")
            if not same and not self.allows(origin):
                return 403, f"Requests from the web page at {origin} are refused (see --allow-origin)"
        site = headers.get("sec-fetch-site")
        if site is not None and site.lower() not in ("same-origin", "none") and not self.allows(origin):
            return 403, f"Cross-site requests (Sec-Fetch-Site: {site}) are refused (see --allow-origin)"
        content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if content_type in SIMPLE_TYPES:
            return 403, f"Content-Type {content_type} is refused: send application/json, or the file's own type"
        return None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refused = self.refusal(scope)
        if refused is None:
            headers = _scope_headers(scope)
            origin = self.foreign_origin(headers)
            if origin is None:
                await self.app(scope, receive, send)
            elif is_preflight(scope, headers):
                await answer_preflight(send, origin, headers)
            else:
                await self.app(scope, receive, with_cors(send, origin))
            return
        status, message = refused
        openai = "/v1/" in scope.get("path", "")
        body = json.dumps(openai_body(status, message) if openai else {"error": message}).encode()
        answer = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": answer})
        await send({"type": "http.response.body", "body": body})


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
        return _response(await server.task_call(model_id, task, request.stream, _headers(request)))

    @app.post("/models/{model_id:path}/v1/chat/completions", tags=["chat"])
    async def model_chat(model_id: str, request: Request) -> Response:
        """OpenAI-compatible chat with one text-generation model."""
        return _response(
            await server.task_call(model_id, "chat-completion", request.stream, _headers(request), openai=True)
        )

    @app.post("/models/{model_id:path}", tags=["tasks"])
    async def model(model_id: str, request: Request) -> Response:
        """Runs a model on its own task (its `pipeline_tag`)."""
        return _response(await server.task_call(model_id, None, request.stream, _headers(request)))

    @app.post("/pipeline/{task}/{model_id:path}", tags=["tasks"])
    async def pipeline(task: str, model_id: str, request: Request) -> Response:
        """The legacy route: runs a model as `task`."""
        return _response(await server.task_call(model_id, task, request.stream, _headers(request)))

    @app.post("/v1/chat/completions", tags=["chat"])
    async def chat(request: Request) -> Response:
        """OpenAI-compatible chat: the body's `model` if it is served, else the first text-generation model."""
        return _response(
            await server.task_call(None, "chat-completion", request.stream, _headers(request), openai=True)
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
    app.add_middleware(Guard, config=server.config)
    app.add_middleware(AccessLog)
    return app
