"""The media providers' protocols on the loopback fake of tests/provider_fake.py: submit, status, result, download.

`MediaFake` answers each provider's media routes (on the router and on the `direct` server alike: paths start with
the provider's name, `/fal-ai-queue` for fal-ai's queue host) and serves the files its answers name at
`{direct.url}/files/...`. `pending` polls answer "still running" before a job completes; `fail` makes jobs fail on
the provider's side; `file_types` sets the content type each file is served with.
"""

from __future__ import annotations

import base64
import struct
import zlib
from typing import Any
from urllib.parse import urlsplit

from tests.provider_fake import ProviderFake
from tests.server import Received, Reply


def _png() -> bytes:
    """A valid 1×1 grey PNG (clients that open the image, as huggingface_hub does, can read it)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\x80")) + chunk(b"IEND", b"")
    )


PNG = _png()
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 24
MP3 = b"ID3\x03\x00" + b"\x00" * 24
FILES = {"cat.png": PNG, "clip.mp4": MP4, "speech.mp3": MP3}


class MediaFake(ProviderFake):
    """ProviderFake plus fal-ai, together, replicate, novita, nscale, wavespeed, zai-org and deepinfra media."""

    def __init__(self) -> None:
        super().__init__()
        self.pending = 2  # polls answering "in progress" before a job completes
        self.fail = False
        self.polls = 0
        self.file_types = {"cat.png": "image/png", "clip.mp4": "video/mp4", "speech.mp3": "audio/mpeg"}
        self.replicate_output: Any = None  # None: the file for the body's kind
        self.submitted: dict[str, Any] = {}  # job id → the submit's body
        self.base_answer = self._answer
        for server in (self.router, self.hub, self.direct):
            server.handler = self._media

    def file(self, name: str) -> str:
        return f"{self.direct.url}/files/{name}"

    def _media(self, received: Received) -> Reply:
        path = urlsplit(received.path).path
        if self.replies.get(path):
            return self.replies[path].popleft()
        if path.startswith("/files/"):
            name = path.removeprefix("/files/")
            return Reply(200, FILES[name], {"Content-Type": self.file_types[name]})
        provider, _, rest = path.lstrip("/").partition("/")
        handler = getattr(self, "_" + provider.replace("-", "_"), None)
        reply = handler(received, "/" + rest) if handler is not None else None
        return reply if reply is not None else self.base_answer(received)

    def _still(self) -> bool:
        """Whether this poll answers "still running" (counting polls)."""
        self.polls += 1
        return self.polls <= self.pending

    # -- fal-ai: sync on fal.run, queue on queue.fal.run (routed: ?_subdomain=queue) -------------------------------
    def _fal_ai(self, received: Received, rest: str) -> Reply | None:
        if "_subdomain=queue" in received.path:
            return self._fal_ai_queue(received, rest)
        if received.method != "POST":
            return None
        body = received.json()
        if "audio_url" in body:
            return Reply(200, {"text": "hello"})
        if "text" in body:
            return Reply(200, {"audio": {"url": self.file("speech.mp3")}})
        return Reply(200, {"images": [{"url": self.file("cat.png"), "content_type": "image/png"}]})

    def _fal_ai_queue(self, received: Received, rest: str) -> Reply | None:
        if received.method == "POST":
            job = f"req-{len(self.submitted) + 1}"
            self.submitted[job] = received.json()
            model = rest.strip("/")
            return Reply(200, {
                "request_id": job, "status": "IN_QUEUE",
                "response_url": f"https://queue.fal.run/{model}/requests/{job}",
                "status_url": f"https://queue.fal.run/{model}/requests/{job}/status",
            })  # fmt: skip
        job = rest.removesuffix("/status").rsplit("/", 1)[-1]
        if rest.endswith("/status"):
            if self._still():
                return Reply(200, {"status": "IN_QUEUE" if self.polls == 1 else "IN_PROGRESS", "request_id": job})
            return Reply(200, {"status": "FAILED" if self.fail else "COMPLETED", "request_id": job})
        body = self.submitted[job]
        if body.get("sync_mode"):
            return Reply(200, {"image": {"url": "data:image/png;base64," + base64.b64encode(PNG).decode()}})
        if "image_urls" in body:
            return Reply(200, {"images": [{"url": self.file("cat.png")}]})
        return Reply(200, {"video": {"url": self.file("clip.mp4")}})

    # -- together: images as base64, speech as bytes, videos as jobs --------------------------------------------
    def _together(self, received: Received, rest: str) -> Reply | None:
        if rest == "/v1/images/generations":
            return Reply(200, {"data": [{"b64_json": base64.b64encode(PNG).decode(), "index": 0}]})
        if rest == "/v1/audio/speech":
            return Reply(200, MP3, {"Content-Type": "audio/mpeg"})
        if rest == "/v2/videos" and received.method == "POST":
            self.submitted["job-1"] = received.json()
            return Reply(200, {"id": "job-1", "status": "queued"})
        if rest.startswith("/v2/videos/") and received.method == "GET":
            job = rest.rsplit("/", 1)[-1]
            if self._still():
                return Reply(200, {"id": job, "status": "in_progress"})
            if self.fail:
                return Reply(200, {"id": job, "status": "failed", "error": {"message": "out of memory"}})
            return Reply(200, {"id": job, "status": "completed", "outputs": {"video_url": self.file("clip.mp4")}})
        return None

    # -- replicate: predictions held open (Prefer: wait) --------------------------------------------------------
    def _replicate(self, received: Received, rest: str) -> Reply | None:
        if not rest.endswith("/predictions") or received.method != "POST":
            return None
        body = received.json()["input"]
        if self.fail:
            return Reply(201, {"id": "p-1", "status": "processing", "output": None})
        output = self.replicate_output
        if output is None:
            if "audio" in body:
                output = "hello"
            elif "text" in body:
                output = self.file("speech.mp3")
            elif "video" in rest:  # the test's video models say so in their id
                output = self.file("clip.mp4")
            else:
                output = [self.file("cat.png")]
        return Reply(201, {"id": "p-1", "status": "succeeded", "output": output})

    # -- novita: synchronous videos -----------------------------------------------------------------------------
    def _novita(self, _received: Received, rest: str) -> Reply | None:
        if rest.startswith("/v3/hf/"):
            return Reply(200, {"video": {"video_url": self.file("clip.mp4"), "video_type": "mp4"}})
        return None

    # -- nscale: images as base64 -----------------------------------------------------------------------------------
    def _nscale(self, _received: Received, rest: str) -> Reply | None:
        if rest == "/v1/images/generations":
            return Reply(200, {"data": [{"b64_json": base64.b64encode(PNG).decode()}]})
        return None

    # -- wavespeed: a task polled at the path of data.urls.get ---------------------------------------------------
    def _wavespeed(self, received: Received, rest: str) -> Reply | None:
        if received.method == "POST" and rest.startswith("/api/v3/"):
            self.submitted["ws-1"] = rest  # the test's video models say so in their id
            get = "https://api.wavespeed.ai/api/v3/predictions/ws-1/result"
            return Reply(200, {"code": 200, "data": {"id": "ws-1", "status": "created", "urls": {"get": get}}})
        if received.method == "GET" and rest == "/api/v3/predictions/ws-1/result":
            if self._still():
                return Reply(200, {"code": 200, "data": {"id": "ws-1", "status": "processing"}})
            if self.fail:
                return Reply(200, {"code": 200, "data": {"id": "ws-1", "status": "failed", "error": "NSFW"}})
            name = "clip.mp4" if "video" in self.submitted["ws-1"] else "cat.png"
            outputs = [self.file(name)]
            return Reply(200, {"code": 200, "data": {"id": "ws-1", "status": "completed", "outputs": outputs}})
        return None

    # -- zai-org: an async task polled at async-result/{id} ----------------------------------------------------------
    def _zai_org(self, received: Received, rest: str) -> Reply | None:
        if rest == "/api/paas/v4/async/images/generations":
            return Reply(200, {"id": "z-1", "task_status": "PROCESSING", "model": received.json()["model"]})
        if rest == "/api/paas/v4/async-result/z-1":
            if self._still():
                return Reply(200, {"id": "z-1", "task_status": "PROCESSING"})
            if self.fail:
                return Reply(200, {"id": "z-1", "task_status": "FAIL", "error": {"message": "content filtered"}})
            return Reply(200, {"id": "z-1", "task_status": "SUCCESS", "image_result": [{"url": self.file("cat.png")}]})
        return None

    # -- deepinfra: OpenAI speech and transcription ---------------------------------------------------------------
    def _deepinfra(self, _received: Received, rest: str) -> Reply | None:
        if rest == "/v1/openai/audio/speech":
            return Reply(200, MP3, {"Content-Type": "audio/mpeg"})
        if rest == "/v1/openai/audio/transcriptions":
            segments = [{"id": 0, "text": "hello", "start": 0.0, "end": 0.5}]
            return Reply(200, {"text": "hello", "segments": segments})
        return None
