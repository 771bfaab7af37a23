"""What happens to one request: find the model, validate the body, wait or answer 503, queue, run, answer."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextvars import ContextVar
from functools import partial
from typing import Any

from pydantic import BaseModel

from typed_inference._decode import stream_adapter
from typed_inference._generated.registry import TASKS
from typed_inference._task import TaskSpec
from typed_inference.server import media
from typed_inference.server.backends import Backend, Batching, Serving, served_tasks
from typed_inference.server.batching import MicroBatcher
from typed_inference.server.config import ServerConfig
from typed_inference.server.errors import ServerError
from typed_inference.server.resolve import hub_cache_dir
from typed_inference.server.scheduler import Scheduler
from typed_inference.server.store import ModelEntry, ModelStore, failed
from typed_inference.server.wire import encode_answer, error_json, openai_chat_body, parse_body

logger = logging.getLogger("typed_inference.server")


# The access log's note of the request being answered (`app.AccessLog`): the handler writes the task it ran there.
ACCESS_NOTE: ContextVar[dict[str, Any] | None] = ContextVar("typed_inference_access_note", default=None)


class Reply:
    """An answer before the web framework sees it: status, body bytes, content type and headers."""

    def __init__(
        self,
        status: int,
        body: bytes | AsyncIterator[bytes],
        headers: dict[str, str],
        media_type: str = "application/json",
    ) -> None:
        self.status, self.body, self.headers, self.media_type = status, body, headers, media_type

    @classmethod
    def error(cls, error: ServerError, request_id: str, *, openai: bool = False) -> Reply:
        """The `{"error": ...}` answer of a ServerError (OpenAI's shape when `openai`)."""
        return cls(error.status, error_json(error, openai=openai), {"x-request-id": request_id, **error.headers})


def _locked(backend: Backend, fn: Callable[..., Any], *args: Any) -> Any:
    with backend.lock:
        return fn(*args)


class Server:
    """The running server: its models, its worker pool, its micro-batchers; one instance per app."""

    def __init__(self, config: ServerConfig) -> None:
        from typed_inference.server.resolve import EMBEDDED_ID, embedded

        self.config = config
        sources = list(config.models)
        if config.embedded and not any(s.model_id == EMBEDDED_ID for s in sources):
            found = embedded()
            if found is not None:
                sources.append(found)
        self.store = ModelStore(sources, config.hf_cache or hub_cache_dir())
        self.scheduler = Scheduler(config.workers, config.max_queue)
        self.batchers: dict[str, MicroBatcher[Any]] = {}  # by model: a backend micro-batches one task at most
        self.started = int(time.time())  # `created` of every model in `GET /v1/models`
        media.MAX_AUDIO_SECONDS[0] = config.max_audio_seconds
        self.body_bytes_read = 0  # request body bytes read so far (the tests see that a refused body was not read)

    def start(self) -> None:
        """Sets torch's thread count and starts loading every configured model in the background."""
        import torch

        torch.set_num_threads(self.config.torch_threads)
        self.store.start()

    def close(self) -> None:
        """Stops the batchers, the workers and the loader."""
        for batcher in self.batchers.values():
            batcher.close()
        self.scheduler.close()
        self.store.close()

    # -- task routes --------------------------------------------------------------------------------------------
    async def task_call(
        self,
        model_id: str | None,
        task: str | None,
        chunks: Callable[[], AsyncIterator[bytes]],
        headers: dict[str, str],
        *,
        openai: bool = False,
    ) -> Reply:
        """Answers a task request for a model; `task` None means the model's own task. `openai`: a `/v1/...` route,
        which takes OpenAI's parameter names and answers errors in OpenAI's shape.

        The body (`chunks`) is read only once the request is admitted: a model named in the path is looked up
        first, so an unknown model is a 404 and a full queue a 429 without reading a byte of it."""
        request_id = headers.get("x-request-id") or uuid.uuid4().hex
        admitted = False
        held: ModelEntry | None = None  # the model this request counts as a user of
        try:
            named = None if model_id is None else self.store.get(model_id)
            if named is not None:
                _check_task(named, task)
            self.scheduler.enter()
            admitted = True
            raw = await self.read_body(chunks, headers)
            if openai:
                raw = openai_chat_body(raw)
            entry = named or self._chat_entry(raw)
            task = _check_task(entry, task)
            note = ACCESS_NOTE.get()
            if note is not None:
                note["task"] = task
            entry.users += 1
            entry.last_used = time.monotonic()
            held = entry
            spec = TASKS[task]
            try:
                body, data = parse_body(spec, raw, headers.get("content-type", ""))
            except ServerError as error:
                raise _naming_the_task(error, entry, task, (400, 422)) from None
            backend = await self.store.ready(entry, wait=_wants_wait(headers, body))
            serving = backend.serves[task]
            try:
                if getattr(body, "stream", None):
                    admitted = False  # the stream counts itself out when it ends
                    return await self._stream(
                        spec, backend, serving, body, request_id, partial(self._done, held), openai=openai
                    )
                result, seconds = await self._infer(backend, serving, body, data)
            except ServerError as error:
                raise _naming_the_task(error, entry, task, (400,)) from None
            batch = spec.batch and isinstance(getattr(body, "inputs", None), list)
            extra = serving.nesting(backend, body) if serving.nesting is not None else 0
            wire = partial(serving.wire, backend, body) if serving.wire is not None else None
            content = encode_answer(spec, result, int(batch) + extra, wire)
        except ServerError as error:
            return Reply.error(error, request_id, openai=openai)
        except Exception as exc:  # a bug or a model failure: the client gets a 500 with the reason
            logger.exception("request %s failed", request_id)
            return Reply.error(ServerError(500, f"{type(exc).__name__}: {exc}"), request_id, openai=openai)
        finally:
            if admitted:
                self._done(held)
        return Reply(200, content, _headers(request_id, seconds, entry.source.model_id))

    def _done(self, entry: ModelEntry | None) -> None:
        """Counts an admitted request out, and unloads the idle cache models past `max_loaded_models`."""
        self.scheduler.leave()
        if entry is None:
            return
        entry.users -= 1
        loaded = [e for e in self.store.entries() if e.source.origin == "cache" and e.state == "ready"]
        idle = sorted((e for e in loaded if e.users == 0), key=lambda e: e.last_used)
        for evicted in idle[: max(0, len(loaded) - self.config.max_loaded_models)]:
            batcher = self.batchers.pop(evicted.source.model_id, None)
            if batcher is not None:
                batcher.close()
            self.store.unload(evicted)

    async def read_body(self, chunks: Callable[[], AsyncIterator[bytes]], headers: dict[str, str]) -> bytes:
        """The request body, read chunk by chunk and refused with 413 as soon as it passes `max_body_bytes`."""
        limit = self.config.max_body_bytes
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise _too_large(limit)
        parts: list[bytes] = []
        size = 0
        async for chunk in chunks():
            size += len(chunk)
            self.body_bytes_read += len(chunk)
            if size > limit:
                raise _too_large(limit)
            parts.append(chunk)
        return b"".join(parts)

    def _chat_entry(self, raw: bytes) -> ModelEntry:
        """The model a `/v1/chat/completions` request goes to: the body's `model` if served, else the first LM."""
        try:
            named = json.loads(raw).get("model")
        except (ValueError, AttributeError):
            named = None
        if isinstance(named, str):
            entry = self.store.lookup(named)
            if entry is not None and "chat-completion" in served_tasks(entry.source):
                return self.store.get(named)
        for entry in self.store.entries():
            if "chat-completion" in served_tasks(entry.source):
                return self.store.get(entry.source.model_id)
        raise ServerError(
            404, "No text-generation model is served: start the server with --model ID=PATH@text-generation"
        )

    async def _infer(
        self, backend: Backend, serving: Serving, body: BaseModel, data: bytes | None
    ) -> tuple[Any, float]:
        # the request was admitted by `task_call`, before its body was read
        if serving.batching is not None and self.config.batching:
            return await self._batched(backend, serving.batching, body)
        args = (body,) if data is None else (body, data)
        return await self.scheduler.execute(partial(_locked, backend, serving.run, backend, *args))

    async def _batched(self, backend: Backend, batching: Batching, body: Any) -> tuple[Any, float]:
        """The answer of a request whose items share forward passes with other requests' (equal keys only)."""
        batcher = self.batchers.get(backend.source.model_id)
        if batcher is None:
            batcher = self.batchers[backend.source.model_id] = MicroBatcher(
                self.scheduler,
                partial(_locked, backend, batching.run, backend),
                max_wait=self.config.batch_wait_ms / 1000,
                max_batch=self.config.max_batch,
            )
        options, items = batching.split(backend, body)
        outcomes, seconds = await batcher.submit(options, items)
        return batching.join(backend, body, outcomes), seconds

    async def _stream(
        self,
        spec: TaskSpec,
        backend: Backend,
        serving: Serving,
        body: BaseModel,
        request_id: str,
        done: Callable[[], None],
        *,
        openai: bool,
    ) -> Reply:
        """Server-sent events produced on a worker thread; errors found before the first event keep their status.

        Called admitted (see `task_call`); the request counts itself out when the stream ends or fails."""
        stream = serving.stream
        if stream is None:
            done()
            raise ServerError(400, f"{spec.task} does not stream")
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        cancelled = threading.Event()
        finished = object()

        def emit(event: Any) -> None:
            if cancelled.is_set():
                raise asyncio.CancelledError("the client went away")
            loop.call_soon_threadsafe(queue.put_nowait, event)

        def produce() -> None:
            try:
                _locked(backend, stream, backend, body, emit)
            except ServerError as error:
                loop.call_soon_threadsafe(queue.put_nowait, error)
            except BaseException as exc:  # reported in the stream as an error event
                if not cancelled.is_set():
                    loop.call_soon_threadsafe(queue.put_nowait, ServerError(500, f"{type(exc).__name__}: {exc}"))
            finally:
                loop.call_soon_threadsafe(queue.put_nowait, finished)

        self.scheduler.submit(produce)
        first = await queue.get()
        if isinstance(first, ServerError):
            done()
            raise first
        adapter = stream_adapter(spec)

        async def events() -> AsyncIterator[bytes]:
            try:
                item = first
                while item is not finished:
                    if isinstance(item, ServerError):
                        error = ServerError(item.status, item.message, error_type="generation")
                        yield b"data:" + error_json(error, openai=openai) + b"\n\n"
                    else:
                        event = adapter.validate_python(item)
                        yield b"data:" + adapter.dump_json(event, by_alias=True, exclude_unset=True) + b"\n\n"
                    item = await queue.get()
                if spec.stream_end == "[DONE]":
                    yield b"data: [DONE]\n\n"
            finally:
                cancelled.set()
                done()

        headers = {
            "x-request-id": request_id,
            "x-compute-type": "cpu",
            "x-model-id": backend.source.model_id,
            "cache-control": "no-cache",
        }
        return Reply(200, events(), headers, "text/event-stream")

    # -- metadata and health ------------------------------------------------------------------------------------
    def model_info(self, model_id: str) -> Reply:
        """`GET /api/models/{id}`: the hub-style metadata the client reads a model's task from."""
        entry = self.store.lookup(model_id)
        if entry is None:
            return Reply.error(ServerError(404, f"Repository {model_id} not found"), uuid.uuid4().hex)
        source = entry.source
        info = {
            "id": source.model_id,
            "modelId": source.model_id,
            "pipeline_tag": source.task,
            "library_name": source.library,
            "tags": [source.library, *served_tasks(source), *source.tags],
            "private": False,
            "inference": "warm" if entry.state == "ready" else "cold",
        }
        return Reply(200, json.dumps(info).encode(), {"x-request-id": uuid.uuid4().hex})

    def models(self) -> list[dict[str, Any]]:
        """`GET /models`: every served model with its task, the tasks it answers and its state."""
        return [
            {
                "id": entry.source.model_id,
                "task": entry.source.task,
                "tasks": list(served_tasks(entry.source)),
                "library_name": entry.source.library,
                "state": entry.state,
            }
            for entry in self.store.entries()
        ]

    def openai_models(self) -> dict[str, Any]:
        """`GET /v1/models`: the served models in OpenAI's list shape, with task and state beside OpenAI's fields."""
        return {
            "object": "list",
            "data": [
                {"object": "model", "created": self.started, "owned_by": "typed-inference", **model}
                for model in self.models()
            ],
        }

    def health(self) -> dict[str, Any]:
        """`GET /health`: the server is up; each model's state (idle, queued, loading, ready, failed)."""
        models = []
        for entry in self.store.entries():
            item: dict[str, Any] = {
                "id": entry.source.model_id,
                "task": entry.source.task,
                "tasks": list(served_tasks(entry.source)),
                "origin": entry.source.origin,
                "state": entry.state,
            }
            if entry.error:
                item["error"] = entry.error
            if entry.load_seconds is not None:
                item["load_seconds"] = round(entry.load_seconds, 2)
            models.append(item)
        loading = any(m["state"] in ("queued", "loading") for m in models)
        degraded = [{"id": m["id"], "error": m["error"]} for m in models if m["state"] == "failed"]
        batching = {
            model_id: {"forward_passes": batcher.batches, "requests": batcher.items}
            for model_id, batcher in self.batchers.items()
        }
        status = "loading" if loading else "degraded" if degraded else "ok"
        return {
            "status": status,  # degraded: every model is loaded or failed, and at least one failed
            **({"failed": degraded} if degraded else {}),
            "in_flight": self.scheduler.in_flight,
            "models": models,
            "batching": batching,
        }


def _naming_the_task(error: ServerError, entry: ModelEntry, task: str, statuses: tuple[int, ...]) -> ServerError:
    """An input error that names the task the model serves, so that a call by the wrong method reads right ("Model
    X serves fill-mask: …"); other errors unchanged."""
    if error.status not in statuses:
        return error
    message = f"Model {entry.source.model_id} serves {task}: {error.message}"
    return ServerError(error.status, message, headers=error.headers, **error.extra)


def _check_task(entry: ModelEntry, task: str | None) -> str:
    """The task a request runs (`None`: the model's own), or the error of a failed model or an unserved task."""
    if entry.state == "failed":
        raise failed(entry)
    tasks = served_tasks(entry.source)
    task = task or entry.source.task
    if task not in tasks:
        raise ServerError(400, f"Model {entry.source.model_id} serves {' and '.join(tasks)}, not {task}")
    return task


def _too_large(limit: int) -> ServerError:
    return ServerError(
        413,
        f"The request body is larger than {limit} bytes (the server's --max-body-bytes)",
        error_type="payload_too_large",
    )


def _wants_wait(headers: dict[str, str], body: BaseModel) -> bool:
    if headers.get("x-wait-for-model", "").lower() == "true":
        return True
    options = getattr(body, "options", None)
    return bool(options is not None and options.wait_for_model)


def _headers(request_id: str, seconds: float, model_id: str) -> dict[str, str]:
    return {
        "x-request-id": request_id,
        "x-compute-time": f"{seconds:.4f}",
        "x-compute-type": "cpu",
        "x-model-id": model_id,
    }
