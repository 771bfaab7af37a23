"""Shared fixtures: a scripted server on 127.0.0.1 and a client pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.server import ScriptedServer
from typed_inference import InferenceClient
from typed_inference.providers._mapping import MAPPINGS
from typed_inference.transport import RetryPolicy


class FakeClock:
    """A clock that only moves when the client sleeps: retries and backoff run without real waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


@pytest.fixture(autouse=True)
def _no_ambient_token(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path_factory.mktemp("hf_home")))
    monkeypatch.delenv("HF_INFERENCE_ENDPOINT", raising=False)
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    monkeypatch.delenv("HF_ROUTER_URL", raising=False)
    MAPPINGS.clear()  # the process's provider-mapping cache: each test looks mappings up afresh


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    srv = ScriptedServer().start()
    yield srv
    srv.stop()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def client(server: ScriptedServer, clock: FakeClock) -> Iterator[InferenceClient]:
    policy = RetryPolicy(clock=clock, sleep=clock.sleep, jitter=lambda: 1.0)
    with InferenceClient(base_url=server.url, token="hf_test_secret_token", retry_policy=policy) as c:
        yield c


# the live local server's fixtures (`live`, `demo_dir`, `hf_cache`): one server per session, whichever module asks
pytest_plugins = ["tests.live"]
