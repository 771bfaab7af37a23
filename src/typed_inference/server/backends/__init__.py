"""Backends: a loaded model behind the tasks it serves, and the factory that picks one for a model folder."""

from __future__ import annotations

import importlib
import threading
from abc import ABC, abstractmethod
from typing import Any

from typed_inference.server.resolve import ModelSource

# task → (module under backends/, class name); a backend serves its own task and maybe related ones.
_BACKENDS: dict[str, tuple[str, str]] = {
    "fill-mask": ("text", "FillMask"),
    "text-classification": ("text", "TextClassification"),
    "token-classification": ("text", "TokenClassification"),
    "zero-shot-classification": ("text", "ZeroShotClassification"),
    "question-answering": ("qa", "QuestionAnswering"),
    "text-generation": ("generation", "CausalLM"),
    "chat-completion": ("generation", "CausalLM"),
    "summarization": ("seq2seq", "Summarization"),
    "translation": ("seq2seq", "Translation"),
    "image-classification": ("vision", "ImageClassification"),
    "object-detection": ("vision", "ObjectDetection"),
    "automatic-speech-recognition": ("audio", "SpeechRecognition"),
    "audio-classification": ("audio", "AudioClassification"),
    "feature-extraction": ("embeddings", "Embeddings"),
    "sentence-similarity": ("embeddings", "Embeddings"),
}

SERVABLE_TASKS = frozenset(_BACKENDS)


class Backend(ABC):
    """A model loaded in memory; `run` answers one request of one of its tasks and is called on a worker thread."""

    tasks: tuple[str, ...] = ()

    def __init__(self, source: ModelSource) -> None:
        self.source = source
        self.lock = threading.Lock()  # one request at a time per model: tokenizers and RNG state are shared

    def extra_nesting(self, body: Any) -> int:
        """List levels the answer adds around the task's output beyond a batch's (fill-mask: one list per mask)."""
        return 0

    @abstractmethod
    def run(self, task: str, body: Any, data: bytes | None) -> Any:
        """The canonical JSON data answering `body` (the validated input model; `data`: raw bytes of a file input)."""


def served_tasks(source: ModelSource) -> tuple[str, ...]:
    """The tasks a model answers: its own; chat beside text-generation; both embedding tasks (sentence-transformers)."""
    if source.task in ("text-generation", "chat-completion"):
        return ("text-generation", "chat-completion")
    if source.task in ("feature-extraction", "sentence-similarity"):
        if source.library == "sentence-transformers":
            return ("feature-extraction", "sentence-similarity")
        return ("feature-extraction",)
    return (source.task,)


def load_backend(source: ModelSource) -> Backend:
    """Loads the model of `source` into the backend class of its task (slow: reads weights, imports torch)."""
    try:
        module_name, class_name = _BACKENDS[source.task]
    except KeyError:
        served = ", ".join(sorted(SERVABLE_TASKS))
        raise ValueError(f"{source.model_id}: the local server cannot serve task {source.task!r} ({served})") from None
    if source.task in ("feature-extraction", "sentence-similarity") and source.library != "sentence-transformers":
        module_name, class_name = "text", "TokenEmbeddings"
    module = importlib.import_module(f"typed_inference.server.backends.{module_name}")
    cls: type[Backend] = getattr(module, class_name)
    return cls(source)
