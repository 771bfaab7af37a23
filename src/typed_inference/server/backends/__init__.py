"""Backends: a loaded model behind the tasks it serves, and the task → backend registry that picks one for a model.

Each backend class declares in `serves` what it does for each of its tasks (`Serving`: answer, stream, micro-batch,
answer nesting); the registry says which class loads a model of a task (and of a library, where that matters).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass

from typed_inference.server.backends._base import Backend, Batching, Emit, Serving
from typed_inference.server.backends.audio import AudioClassification, SpeechRecognition
from typed_inference.server.backends.embeddings import Embeddings
from typed_inference.server.backends.generation import CausalLM
from typed_inference.server.backends.qa import QuestionAnswering
from typed_inference.server.backends.seq2seq import Summarization, Translation
from typed_inference.server.backends.text import (
    FillMask,
    TextClassification,
    TokenClassification,
    TokenEmbeddings,
    ZeroShotClassification,
)
from typed_inference.server.backends.vision import ImageClassification, ObjectDetection
from typed_inference.server.resolve import ModelSource, ResolveError

__all__ = [
    "REGISTRY",
    "SERVABLE_TASKS",
    "Backend",
    "Batching",
    "Choice",
    "Emit",
    "Serving",
    "backend_class",
    "check_source",
    "check_task_fits",
    "load_backend",
    "served_tasks",
]


@dataclass(frozen=True)
class Choice:
    """A backend class for models of a task, limited to one library's models when `library` is set."""

    backend: type[Backend]
    library: str | None = None


SENTENCE_TRANSFORMERS = "sentence-transformers"

# A model's own task (its pipeline tag) → the backends that can load it, the first that fits wins. The backend
# then serves every task of its `serves` (a causal LM answers chat too; sentence-transformers, similarity too).
REGISTRY: Mapping[str, tuple[Choice, ...]] = {
    "fill-mask": (Choice(FillMask),),
    "text-classification": (Choice(TextClassification),),
    "token-classification": (Choice(TokenClassification),),
    "zero-shot-classification": (Choice(ZeroShotClassification),),
    "question-answering": (Choice(QuestionAnswering),),
    "text-generation": (Choice(CausalLM),),
    "chat-completion": (Choice(CausalLM),),
    "summarization": (Choice(Summarization),),
    "translation": (Choice(Translation),),
    "image-classification": (Choice(ImageClassification),),
    "object-detection": (Choice(ObjectDetection),),
    "automatic-speech-recognition": (Choice(SpeechRecognition),),
    "audio-classification": (Choice(AudioClassification),),
    "feature-extraction": (Choice(Embeddings, SENTENCE_TRANSFORMERS), Choice(TokenEmbeddings)),
    "sentence-similarity": (Choice(Embeddings, SENTENCE_TRANSFORMERS), Choice(TokenEmbeddings)),
}

SERVABLE_TASKS = frozenset(REGISTRY)


def backend_class(source: ModelSource) -> type[Backend] | None:
    """The backend class that loads the model of `source`; None when the local server cannot serve its task."""
    for choice in REGISTRY.get(source.task, ()):
        if choice.library is None or choice.library == source.library:
            return choice.backend
    return None


def served_tasks(source: ModelSource) -> tuple[str, ...]:
    """The tasks a model answers: every task its backend serves (its own task when no backend fits)."""
    cls = backend_class(source)
    return tuple(cls.serves) if cls is not None else (source.task,)


def load_backend(source: ModelSource) -> Backend:
    """Loads the model of `source` into the backend class of its task (slow: reads weights, imports torch)."""
    cls = backend_class(source)
    if cls is None:
        served = ", ".join(sorted(SERVABLE_TASKS))
        raise ValueError(f"{source.model_id}: the local server cannot serve task {source.task!r} ({served})")
    return cls(source)


def check_source(source: ModelSource) -> None:
    """Fails fast, before any loading, on what would only fail later: a task the server cannot serve (with the
    closest servable one) or a model folder whose configuration cannot be read."""
    if source.task not in SERVABLE_TASKS:
        near = difflib.get_close_matches(source.task.lower().replace("_", "-"), sorted(SERVABLE_TASKS), n=1, cutoff=0.6)
        hint = f"; did you mean {near[0]!r}?" if near else f" (tasks served: {', '.join(sorted(SERVABLE_TASKS))})"
        raise ResolveError(f"--model {source.model_id}: unknown task {source.task!r}{hint}")
    name = "modules.json" if source.library == SENTENCE_TRANSFORMERS else "config.json"
    try:
        json.loads((source.path / name).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ResolveError(f"--model {source.model_id}: cannot read {source.path / name}: {exc.strerror}") from None
    except ValueError as exc:
        raise ResolveError(f"--model {source.model_id}: {source.path / name} is not valid JSON: {exc}") from None


# The transformers auto classes that load a model for a task (any one fits): a model whose configuration none of
# them knows cannot serve the task (a BERT fill-mask folder served `@summarization`).
AUTO_CLASSES: Mapping[str, tuple[str, ...]] = {
    "fill-mask": ("AutoModelForMaskedLM",),
    "text-classification": ("AutoModelForSequenceClassification",),
    "zero-shot-classification": ("AutoModelForSequenceClassification",),
    "token-classification": ("AutoModelForTokenClassification",),
    "question-answering": ("AutoModelForQuestionAnswering",),
    "text-generation": ("AutoModelForCausalLM",),
    "chat-completion": ("AutoModelForCausalLM",),
    "summarization": ("AutoModelForSeq2SeqLM",),
    "translation": ("AutoModelForSeq2SeqLM",),
    "image-classification": ("AutoModelForImageClassification",),
    "object-detection": ("AutoModelForObjectDetection",),
    "automatic-speech-recognition": ("AutoModelForCTC", "AutoModelForSpeechSeq2Seq"),
    "audio-classification": ("AutoModelForAudioClassification",),
}


def check_task_fits(source: ModelSource) -> None:
    """Fails before loading when a transformers model's configuration is one no loader of its task knows (reads
    config.json only; imports transformers)."""
    names = AUTO_CLASSES.get(source.task)
    if source.library == SENTENCE_TRANSFORMERS or not names:
        return
    from typed_inference.server.backends._hf import transformers

    tf = transformers()
    try:
        config = tf.AutoConfig.from_pretrained(str(source.path), local_files_only=True)
    except (OSError, ValueError, KeyError):
        return  # an unknown model type: the loader says why, as it always did
    if any(type(config) in getattr(tf, name)._model_mapping for name in names):
        return
    kind = ", ".join(getattr(config, "architectures", None) or [config.model_type])
    fits = [
        task
        for task, classes in AUTO_CLASSES.items()
        if any(type(config) in getattr(tf, n)._model_mapping for n in classes)
    ]
    serves = f"; it can serve {', '.join(fits)}" if fits else ""
    raise ResolveError(
        f"--model {source.model_id}: {source.path} holds a {kind} model, which cannot serve {source.task}{serves}"
    )
