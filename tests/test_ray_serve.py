"""The local server on Ray Serve: replicas of the embedded MiniLM answer as the single-process server does."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("ray")
pytest.importorskip("sentence_transformers")

import requests

from tests.live import start_server
from tests.ray_local import start_ray, within
from typed_inference import InferenceClient
from typed_inference.cli import main
from typed_inference.ray.serve import ReplicaSettingsError, Scaling, deployment, parse_autoscale
from typed_inference.server.config import ServerConfig

MODEL = "sentence-transformers/all-MiniLM-L6-v2"
TEXTS = [f"sentence {i} about {topic}" for i, topic in enumerate(["cats", "ray", "rust", "tea", "rain"] * 4)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def serve_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Serve on the module's local Ray instance, its proxy on a free loopback port; `serve.shutdown()` after."""
    for _ in start_ray(tmp_path_factory.mktemp("hf-home")):
        from ray import serve

        port = free_port()
        serve.start(http_options={"host": "127.0.0.1", "port": port})
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            serve.shutdown()


def test_two_replicas_answer_as_the_single_process_server(serve_url: str) -> None:
    from ray import serve

    app = deployment(ServerConfig(), replicas=2, replica_cpus=0.5, name="minilm")
    within(600, lambda: serve.run(app, name="minilm", route_prefix="/"))
    states = serve.status().applications["minilm"].deployments["minilm"].replica_states
    assert states == {"RUNNING": 2}
    with InferenceClient(MODEL, base_url=serve_url, max_retries=0) as client:
        one_by_one = [client.feature_extraction(text) for text in TEXTS]
        batched = client.feature_extraction(TEXTS)
    # the Host rule of a server bound to Serve's HTTP host: loopback names only
    refused = requests.get(f"{serve_url}/health", headers={"Host": "rebind.example"}, timeout=30)
    assert refused.status_code == 421
    assert requests.get(f"{serve_url}/health", timeout=30).json()["status"] == "ok"
    live = start_server(ServerConfig())
    try:
        with InferenceClient(MODEL, base_url=live.url, max_retries=0) as client:
            expected = client.feature_extraction(TEXTS)
    finally:
        live.stop()
    for got in (one_by_one, batched):
        assert len(got) == len(expected)
        for vector, want in zip(got, expected, strict=True):
            assert len(vector[0]) == 384
            assert max(abs(a - b) for a, b in zip(vector[0], want[0], strict=True)) < 1e-5
    serve.delete("minilm")


def test_scaling_settings() -> None:
    assert Scaling(2).options() == {"ray_actor_options": {"num_cpus": 0.5}, "num_replicas": 2}
    auto = Scaling(autoscale=(1, 3), replica_cpus=0.25).options()
    assert auto["autoscaling_config"] == {"min_replicas": 1, "max_replicas": 3, "initial_replicas": 1}
    assert parse_autoscale("2:4") == (2, 4)
    for text in ("4", "a:b", "2:"):
        with pytest.raises(ReplicaSettingsError, match="--autoscale takes MIN:MAX"):
            parse_autoscale(text)
    for bad in ({"replicas": 0}, {"autoscale": (3, 1)}, {"replica_cpus": 0}):
        with pytest.raises(ReplicaSettingsError):
            Scaling(**bad)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--replicas", "2"], "--replicas needs --ray"),
        (["--ray", "--replicas", "0"], "replicas must be a whole number of at least 1"),
        (["--ray", "--autoscale", "4:2"], "autoscale must be MIN:MAX with 1 <= MIN <= MAX"),
        (["--ray", "--autoscale", "many"], "--autoscale takes MIN:MAX"),
        (["--ray", "--replica-cpus", "0"], "replica_cpus must be a number above 0"),
    ],
)
def test_serve_ray_flags_are_usage_errors(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--no-embedded", *argv]) == 2
    assert message in capsys.readouterr().err


def test_replicas_and_autoscale_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["serve", "--ray", "--replicas", "2", "--autoscale", "1:2"])
    assert caught.value.code == 2 and "not allowed with argument" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_serve_ray_answers_and_stops_on_ctrl_c(serve_url: str, demo_dir: Path) -> None:
    """`typed-inference serve --ray` in its own process and its own Ray instance: it answers, and SIGINT stops it
    cleanly (exit 0)."""
    del serve_url  # the module's Serve first: one Ray instance starting at a time on two cores
    port = free_port()
    args = [sys.executable, "-m", "typed_inference.cli", "serve", "--ray", "--port", str(port), "--no-embedded"]
    args += ["--model", f"mine={demo_dir / 'fill-mask'}", "--replica-cpus", "0.25"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "RAY_ADDRESS": ""}
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    lines: list[str] = []
    assert proc.stderr is not None
    reader = threading.Thread(target=lambda: lines.extend(proc.stderr or ()), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 300
        while not any("typed-inference: serving on" in line for line in list(lines)):
            assert proc.poll() is None, "".join(lines)
            assert time.monotonic() < deadline, "".join(lines)
            time.sleep(0.5)
        with InferenceClient(base_url=f"http://127.0.0.1:{port}", max_retries=0) as client:
            assert client.fill_mask("a [MASK].", model="mine")
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=120)
        reader.join(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    err = "".join(lines)
    assert proc.returncode == 0, err
    assert "serving on http://127.0.0.1:" in err and "stopping the replicas" in err and "Traceback" not in err


def test_the_old_path_still_imports_with_a_deprecation_warning() -> None:
    import typed_inference.ray.serve as new
    import typed_inference.server.ray_serve as old

    with pytest.warns(DeprecationWarning, match=r"typed_inference\.ray\.serve\.deployment"):
        assert old.deployment is new.deployment
    with pytest.raises(AttributeError):
        _ = old.no_such_name
