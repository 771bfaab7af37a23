"""`--allow-origin` as a web page meets it: a page on one loopback origin calls the server on another, in a real
headless Chromium (Debian's `chromium`; `make browser-test` installs it and runs this file)."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.live import LiveServer, start_server
from typed_inference.server.config import ServerConfig
from typed_inference.server.demo import read_manifest
from typed_inference.server.resolve import ModelSource

pytestmark = pytest.mark.slow

PAGE = """<!doctype html><html><body><pre id="result">pending</pre><script>
async function main() {
  let outcome;
  try {
    const answer = await fetch("API/models/demo/text-classification", {
      method: "POST",
      headers: {"Content-Type": "application/json", "X-Wait-For-Model": "true"},
      body: JSON.stringify({inputs: "I love you"}),
    });
    const body = await answer.json();
    outcome = {status: answer.status, requestId: answer.headers.get("x-request-id"), label: body[0][0].label};
  } catch (error) {
    outcome = {error: String(error)};
  }
  await fetch("/report", {method: "POST", body: JSON.stringify(outcome)});
  document.getElementById("result").textContent = JSON.stringify(outcome);
}
main();
</script></body></html>"""


class PageServer:
    """A loopback origin serving PAGE at `/` and recording what the page reports to `/report`."""

    def __init__(self) -> None:
        self.reports: list[dict[str, Any]] = []
        self.api = ""  # the server the page calls, set once it runs
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                page = PAGE.replace("API", outer.api).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def do_POST(self) -> None:
                outer.reports.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("Chromium is not installed: `make browser-test` installs Debian's chromium and runs this test")
    return found


@pytest.fixture
def pages() -> Iterator[list[PageServer]]:
    started: list[PageServer] = []
    yield started
    for page in started:
        page.stop()


def _open(chromium: str, url: str, profile: Path) -> None:
    """Loads `url` in headless Chromium until the page's scripts and requests are done."""
    args = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", f"--user-data-dir={profile}",
            "--virtual-time-budget=60000", "--dump-dom", url]  # fmt: skip
    subprocess.run(args, capture_output=True, timeout=180, check=False)


def test_an_allowed_origins_page_reads_the_answer_and_others_cannot(
    demo_dir: Path, pages: list[PageServer], tmp_path: Path
) -> None:
    chromium = _chromium()
    manifest = read_manifest(demo_dir)
    source = ModelSource("demo/text-classification", *manifest["demo/text-classification"])
    allowed, other = PageServer(), PageServer()  # two loopback origins; only the first is allowed
    pages += [allowed, other]
    server: LiveServer = start_server(ServerConfig(models=[source], embedded=False, allow_origins=[allowed.url]))
    try:
        for page in (allowed, other):
            page.api = server.url
            _open(chromium, page.url, tmp_path / "profile")
    finally:
        server.stop()
    [seen] = allowed.reports
    assert seen["status"] == 200 and seen["requestId"] and seen["label"], seen  # the page read body and headers
    [refused] = other.reports
    assert "error" in refused and "Failed to fetch" in refused["error"], refused  # no CORS headers: unreadable
