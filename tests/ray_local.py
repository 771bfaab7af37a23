"""One local Ray instance per test module (2 CPUs, no dashboard), and a timeout on every wait for Ray."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

T = TypeVar("T")

TOKEN_ENV = "TYPED_INFERENCE_TEST_TOKEN"
FAKE_TOKEN = "hf_rayTestSecretToken0123456789"


def start_ray(tmp: Path) -> Iterator[Any]:
    """`ray.init` with the fake token in the workers' environment (and a fresh HF_HOME: no token file), then
    `ray.shutdown()` once the module is done."""
    ray = pytest.importorskip("ray")
    with pytest.MonkeyPatch.context() as env:
        env.setenv(TOKEN_ENV, FAKE_TOKEN)
        env.delenv("HF_TOKEN", raising=False)
        env.setenv("HF_HOME", str(tmp))
        env.setenv("RAY_DATA_DISABLE_PROGRESS_BARS", "1")
        ray.init(num_cpus=2, include_dashboard=False, object_store_memory=150 * 1024 * 1024, log_to_driver=False)
    try:
        yield ray
    finally:
        ray.shutdown()


def within(seconds: float, run: Callable[[], T]) -> T:
    """`run()`'s result, or a failed test when it takes longer than `seconds` (for Ray calls that take no timeout:
    executing a Dataset, `serve.run`)."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = run()
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"Ray did not finish within {seconds} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]  # type: ignore[no-any-return]


def files_holding(directory: Path, secret: str) -> list[Path]:
    """The regular files under `directory` whose bytes contain `secret`."""
    found = []
    needle = secret.encode()
    for root, _, names in os.walk(directory):
        for name in names:
            path = Path(root, name)
            try:
                if path.is_file() and not path.is_symlink() and needle in path.read_bytes():
                    found.append(path)
            except OSError:  # a file removed while walking, a socket
                continue
    return found
