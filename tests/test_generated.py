"""The generated code: raw methods through one typed wrapper, no import circle, docstrings that document everything."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from typed_inference import AsyncInferenceClient, InferenceClient
from typed_inference._generated.async_methods import AsyncRawTaskMethods, AsyncTaskMethods
from typed_inference._generated.methods import RawTaskMethods, TaskMethods
from typed_inference._generated.registry import TASKS
from typed_inference._generated.settings import ClientSettings
from typed_inference._response import as_raw

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "typed_inference"
METHOD_NAMES = sorted(spec.module for spec in TASKS.values())


def test_raw_tables_cover_every_task_method() -> None:
    sync_raw = RawTaskMethods(InferenceClient())
    async_raw = AsyncRawTaskMethods(AsyncInferenceClient())
    for name in METHOD_NAMES:
        assert callable(getattr(sync_raw, name)) and inspect.iscoroutinefunction(getattr(async_raw, name)), name
        assert getattr(sync_raw, name).__doc__ == getattr(TaskMethods, name).__doc__
        assert getattr(async_raw, name).__doc__ == getattr(AsyncTaskMethods, name).__doc__


def test_as_raw_refuses_what_is_not_a_task_method_of_a_client() -> None:
    with pytest.raises(TypeError, match="task method of a client"):
        as_raw(len)


def test_sync_use_imports_no_async_module() -> None:
    code = textwrap.dedent(
        """
        import json, sys, threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            def log_message(self, *args): pass
            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                body = json.dumps([{"sequence": "a b.", "score": 0.5, "token": 1, "token_str": "b"}]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        from typed_inference import InferenceClient
        with InferenceClient("m", base_url=f"http://127.0.0.1:{httpd.server_address[1]}") as client:
            assert client.fill_mask("a [MASK].")[0].token_str == "b"
            raw = client.with_raw_response.fill_mask("a [MASK].")
            assert raw.status_code == 200 and raw.parsed[0].token_str == "b"
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("httpx", "httpx2", "httpcore", "httpcore2")
                        or m.startswith("typed_inference.") and "async" in m)
        print(json.dumps(loaded))
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def _imports(path: Path) -> set[str]:
    """Every typed_inference module a file imports, at run time or for type checking only."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("typed_inference"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("typed_inference")}
    return found


def test_no_import_circle_among_the_clients_and_the_raw_methods() -> None:
    modules = {
        "typed_inference.client": PACKAGE / "client.py",
        "typed_inference.async_client": PACKAGE / "async_client.py",
        "typed_inference._response": PACKAGE / "_response.py",
        "typed_inference._generated.methods": PACKAGE / "_generated" / "methods.py",
        "typed_inference._generated.async_methods": PACKAGE / "_generated" / "async_methods.py",
    }
    graph = {name: _imports(path) & set(modules) for name, path in modules.items()}
    assert "typed_inference._generated.methods" in graph["typed_inference.client"]  # the graph is read for real

    def reaches(start: str, goal: str, seen: frozenset[str] = frozenset()) -> bool:
        return any(n == goal or (n not in seen and reaches(n, goal, seen | {n})) for n in graph[start])

    assert [name for name in modules if reaches(name, name)] == []
    assert "typed_inference.client" not in graph["typed_inference.async_client"]


ARGS = re.compile(r"^        Args:\n(?P<body>(?:            .*\n|\n)*?)\n        Returns:", re.M)


@pytest.mark.parametrize("cls", [TaskMethods, AsyncTaskMethods])
@pytest.mark.parametrize("name", METHOD_NAMES)
def test_every_parameter_of_a_generated_method_is_documented(cls: type, name: str) -> None:
    method = getattr(cls, name)
    match = ARGS.search(method.__doc__ or "")
    assert match, f"{name}: no Args section"
    documented: dict[str, str] = {}
    current = ""
    for line in match.group("body").splitlines():
        entry = re.match(r"^            (\w+): ?(.*)$", line)
        if entry:
            current = entry.group(1)
            documented[current] = entry.group(2)
        elif line.startswith("                "):
            documented[current] += " " + line.strip()
    parameters = [p for p in inspect.signature(method).parameters if p != "self"]
    assert list(documented) == parameters
    blank = [p for p, text in documented.items() if not text.strip()]
    assert blank == [], f"{name}: blank Args lines for {blank}"
    binary = [p for p in parameters if "BinaryInput" in str(inspect.signature(method).parameters[p].annotation)]
    for parameter in binary:
        assert "base64" not in documented[parameter] and "a path" in documented[parameter], documented[parameter]


def test_a_ref_parameter_takes_its_targets_description() -> None:
    doc = TaskMethods.text_classification.__doc__ or ""
    assert re.search(r"function_to_apply: \S", doc)
    chat = TaskMethods.chat_completion.__doc__ or ""
    for name in ("tool_choice", "stream_options", "logit_bias"):
        assert re.search(rf"{name}: \S", chat), name


def _completions(code: str) -> list[str]:
    jedi = pytest.importorskip("jedi")
    lines = code.splitlines()
    return [c.name for c in jedi.Script(code).complete(len(lines), len(lines[-1]))]


PRELUDE = "from typed_inference import InferenceClient\nclient = InferenceClient()\n"


@pytest.mark.parametrize("client", ["InferenceClient", "AsyncInferenceClient"])
def test_every_declared_setting_is_a_constructor_keyword_editors_complete(client: str) -> None:
    """schemas/client.json declares the settings once; both constructors show each one, with its doc."""
    import typed_inference

    declared = json.loads((ROOT / "schemas" / "client.json").read_text(encoding="utf-8"))
    names = [s["name"] for s in [*declared["settings"], *declared["clients"][client]["own"]]]
    cls = getattr(typed_inference, client)
    assert list(inspect.signature(cls).parameters) == ["model", *names]
    doc = cls.__init__.__doc__ or ""
    for name in names:
        assert re.search(rf"\n\s+{name}: \S", doc), name
        assert f"{name}=" in _completions(f"from typed_inference import {client}\n{client}({name[:3]}"), name
    settings = ClientSettings()
    assert [f.name for f in dataclasses.fields(settings)] == [s["name"] for s in declared["settings"]]


def test_the_constructors_settings_reach_the_client() -> None:
    client = InferenceClient(provider="hf-inference", timeout=7.0, max_retries=5, headers={"X-A": "1"})
    assert client.settings == ClientSettings(provider="hf-inference", timeout=7.0, max_retries=5, headers={"X-A": "1"})
    assert (client.provider, client.timeout, client.retry.max_retries) == ("hf-inference", 7.0, 5)
    assert client.headers == {"X-A": "1"}


def test_jedi_completes_raw_method_names_and_raw_response_attributes() -> None:
    assert "fill_mask" in _completions(PRELUDE + "client.with_raw_response.fi")
    names = _completions(PRELUDE + "client.with_raw_response.fill_mask('a [MASK].').")
    assert {"status_code", "headers", "parsed", "request_id"} <= set(names)


def test_jedi_completes_parameters_and_results_of_plain_methods() -> None:
    assert "top_k=" in _completions(PRELUDE + "client.fill_mask('a [MASK].', top_")
    assert "token_str" in _completions(PRELUDE + "client.fill_mask('a [MASK].')[0].tok")
