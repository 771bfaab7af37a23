"""The local server for the tests: every demo model, the embedded MiniLM, a Hugging Face cache and a broken model,
started once per session on 127.0.0.1 (shared by tests/test_server.py, tests/test_peer_clients.py and the docs test).
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from typed_inference.server.config import ServerConfig
from typed_inference.server.demo import build_demo_models, read_manifest
from typed_inference.server.resolve import ModelSource


@dataclass
class LiveServer:
    """A server app running under uvicorn on a thread of the test process, on a free port of 127.0.0.1."""

    url: str
    app: Any
    uvicorn: Any
    thread: threading.Thread

    @property
    def state(self) -> Any:
        return self.app.state.server

    def stop(self) -> None:
        self.uvicorn.should_exit = True
        self.thread.join(timeout=20)


def start_server(config: ServerConfig, *, wait_ready: bool = True) -> LiveServer:
    """Starts the app in-process (torch is imported once per test session) and waits for its models."""
    import uvicorn

    from typed_inference.server.app import create_app

    app = create_app(config)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    live = LiveServer(f"http://127.0.0.1:{port}", app, server, thread)
    if wait_ready:
        wait_until_loaded(live.url)
    return live


def wait_until_loaded(url: str, timeout: float = 180) -> dict[str, Any]:
    """Polls /health until no model is queued or loading (`ok`, or `degraded` when one failed to load)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            health: dict[str, Any] = requests.get(f"{url}/health", timeout=5).json()
            if health["status"] in ("ok", "degraded"):
                return health
        except requests.ConnectionError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"models still loading after {timeout} s")
        time.sleep(0.1)


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every demo model, built once per session (a few seconds)."""
    directory = tmp_path_factory.mktemp("demo-models")
    build_demo_models(directory)
    return directory


@pytest.fixture(scope="session")
def hf_cache(tmp_path_factory: pytest.TempPathFactory, demo_dir: Path) -> Path:
    """A Hugging Face cache folder holding two demo models in the hub's layout (loaded on first request)."""
    cache = tmp_path_factory.mktemp("hf-cache")
    for name in ("cached-a", "cached-b"):
        repo = cache / f"models--local--{name}"
        shutil.copytree(demo_dir / "text-classification", repo / "snapshots" / "0123abcd")
        (repo / "refs").mkdir()
        (repo / "refs" / "main").write_text("0123abcd")
    return cache


@pytest.fixture(scope="session")
def live(demo_dir: Path, hf_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The server with every demo model, the embedded MiniLM, the test cache and two models that cannot load (an
    empty folder; a task no backend serves, which only a ServerConfig can name: the command line refuses it)."""
    broken = tmp_path_factory.mktemp("broken-model")
    sources = [ModelSource(model_id, path, task) for model_id, (path, task) in read_manifest(demo_dir).items()]
    sources.append(ModelSource("broken/model", broken, "fill-mask"))
    sources.append(ModelSource("broken/task", broken, "fillmask"))
    server = start_server(ServerConfig(models=sources, hf_cache=hf_cache))
    yield server
    server.stop()
