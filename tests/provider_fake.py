"""A loopback fake of the Inference Providers wire: the router, the Hub and the providers' own hosts.

Three `ScriptedServer`s on 127.0.0.1 (three origins): `router` answers `/{provider}/...` routes, the auto-router
(`/v1/chat/completions`) and hf-inference; `hub` answers `/api/models/{id}` from `mappings`; `direct` stands for
every provider's own host (clients reach it through `provider_urls`, one path prefix per provider). Each answers
by the route's form (chat, completions, embeddings) unless `replies` scripts the next answer of a path.
"""

from __future__ import annotations

import json
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote, urlsplit

from tests.server import Received, Reply, ScriptedServer
from typed_inference.providers import PROVIDER_NAMES

EMBEDDING = [0.25, -0.5, 0.125]


class ProviderFake:
    """The router, the Hub and the providers' hosts, each a loopback server recording what it receives."""

    def __init__(self) -> None:
        self.router, self.hub, self.direct = ScriptedServer(), ScriptedServer(), ScriptedServer()
        self.mappings: dict[str, Any] = {}  # Hub id → the model's JSON answer (a missing id is a 404)
        self.replies: dict[str, deque[Reply]] = defaultdict(deque)  # path (no query) → scripted answers, in order
        self.hf_answer: Any = [{"label": "POSITIVE", "score": 0.75}]
        for server in (self.router, self.hub, self.direct):
            server.handler = self._answer

    def start(self) -> ProviderFake:
        for server in (self.router, self.hub, self.direct):
            server.start()
        return self

    def stop(self) -> None:
        for server in (self.router, self.hub, self.direct):
            server.stop()

    @property
    def provider_urls(self) -> dict[str, str]:
        """Every provider's direct base URL, on the `direct` server (and fal-ai's queue host, under `/fal-ai-queue`)."""
        return {**{name: f"{self.direct.url}/{name}" for name in PROVIDER_NAMES}, "fal-ai/queue": self.queue_url}

    @property
    def queue_url(self) -> str:
        """fal-ai's queue host on the `direct` server."""
        return f"{self.direct.url}/fal-ai-queue"

    def client_kwargs(self) -> dict[str, Any]:
        """What a client needs to talk to this fake instead of Hugging Face."""
        return {"router_url": self.router.url, "hub_url": self.hub.url, "provider_urls": self.provider_urls}

    def map(self, model: str, *entries: tuple[str, str, str] | tuple[str, str, str, str]) -> None:
        """Gives `model` a mapping (dict form): (provider, providerId, hub task[, status])."""
        self.mappings[model] = {
            "id": model,
            "inferenceProviderMapping": {
                e[0]: {"providerId": e[1], "task": e[2], "status": e[3] if len(e) > 3 else "live"} for e in entries
            },
        }

    def script(self, path: str, *replies: Reply) -> None:
        """The next answers of `path` (on whichever server it reaches)."""
        self.replies[path].extend(replies)

    @property
    def received(self) -> list[Received]:
        return [*self.router.received, *self.hub.received, *self.direct.received]

    def _answer(self, received: Received) -> Reply:
        path = urlsplit(received.path).path
        if self.replies.get(path):
            return self.replies[path].popleft()
        if path.startswith("/api/models/"):
            model = unquote(path.removeprefix("/api/models/"))
            if model not in self.mappings:
                return Reply(404, {"error": "Repository not found"})
            return Reply(200, self.mappings[model])
        if path.endswith("/pipeline/feature-extraction"):
            return Reply(200, [EMBEDDING])
        if "/hf-inference/" in path:
            return Reply(200, self.hf_answer)
        body = received.json() if received.body else {}
        if path.endswith("/chat/completions"):
            return chat_reply(body)
        if path.endswith("/completions"):
            return completion_reply(body)
        if path.endswith("/embeddings"):
            inputs = body.get("input")
            rows = inputs if isinstance(inputs, list) else [inputs]
            data = [{"object": "embedding", "index": i, "embedding": EMBEDDING} for i in range(len(rows))]
            return Reply(200, {"object": "list", "data": data, "model": body.get("model")})
        return Reply(404, {"error": {"message": f"fake: no route {path}"}})


def chat_reply(body: dict[str, Any]) -> Reply:
    """An OpenAI chat completion (or its stream) echoing the body's model."""
    model = body.get("model")
    if body.get("stream"):
        chunks = [
            {
                "id": "c1",
                "object": "chat.completion.chunk",
                "created": 1,
                "model": model,
                "choices": [{"index": 0, "delta": {"role": "assistant", "content": part}, "finish_reason": None}],
            }
            for part in ("Hel", "lo")
        ]
        chunks.append(
            {
                "id": "c1",
                "object": "chat.completion.chunk",
                "created": 1,
                "model": model,
                "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
            }
        )
        return Reply(200, headers={"content-type": "text/event-stream"}, chunks=list(sse(chunks)))
    return Reply(200, {
        "id": "c1", "object": "chat.completion", "created": 1, "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
    })  # fmt: skip


def completion_reply(body: dict[str, Any]) -> Reply:
    """An OpenAI completion (or its stream): the prompt continued with " world"."""
    if body.get("stream"):
        chunks: list[dict[str, Any]] = [
            {"id": "t1", "object": "text_completion", "choices": [{"index": 0, "text": part, "finish_reason": None}]}
            for part in (" wor", "ld")
        ]
        chunks[-1]["choices"][0]["finish_reason"] = "length"
        chunks[-1]["usage"] = {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}
        return Reply(200, headers={"content-type": "text/event-stream"}, chunks=list(sse(chunks)))
    return Reply(200, {
        "id": "t1", "object": "text_completion", "model": body.get("model"),
        "choices": [{"index": 0, "text": " world", "finish_reason": "stop", "seed": 1}],
    })  # fmt: skip


def sse(events: list[dict[str, Any]]) -> Iterator[bytes]:
    for event in events:
        yield b"data: " + json.dumps(event).encode() + b"\n\n"
    yield b"data: [DONE]\n\n"


@contextmanager
def running() -> Iterator[ProviderFake]:
    fake = ProviderFake().start()
    try:
        yield fake
    finally:
        fake.stop()
