"""Loading transformers objects from local folders only, quietly; helpers every backend shares."""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any


def quiet() -> None:
    """Keeps the hub libraries offline and silences the progress bars and advice transformers prints while loading."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    logging = importlib.import_module("transformers.utils.logging")
    logging.set_verbosity_error()
    logging.disable_progress_bar()


def local_pipeline(task: str, path: Path, **kwargs: Any) -> Any:
    """A transformers pipeline for `task` over the model folder `path`, on the CPU, never touching the network."""
    quiet()
    return transformers().pipeline(task, model=str(path), device="cpu", **kwargs)


def model_limit(config: Any, tokenizer: Any) -> int:
    """Most tokens the model takes at once: its position embeddings, else the tokenizer's maximum length."""
    for name in ("max_position_embeddings", "n_positions", "max_seq_len", "seq_length"):
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    limit = getattr(tokenizer, "model_max_length", None)
    return limit if isinstance(limit, int) and 0 < limit < 1_000_000 else 512


def refuse_long(pipe: Any, text: str, model_id: str, hint: str = "") -> None:
    """A 422 naming the model's limit for a text longer than the pipeline's model takes (torch's own error would
    be a 500 about tensor sizes); `hint` says how the task's parameters cut it, where they can."""
    limit = model_limit(pipe.model.config, pipe.tokenizer)
    tokenizer_limit = getattr(pipe.tokenizer, "model_max_length", None)
    if isinstance(tokenizer_limit, int) and 0 < tokenizer_limit < limit:
        limit = tokenizer_limit  # RoBERTa's 514 positions take 512 tokens
    count = len(pipe.tokenizer(text, truncation=False)["input_ids"])
    if count > limit:
        from typed_inference.server.errors import unprocessable

        advice = f"; {hint}" if hint else ""
        raise unprocessable(f"`inputs` has {count} tokens, more than the {limit} model {model_id} takes{advice}")


def floats(values: Any) -> list[float]:
    """A tensor, an array or a sequence of numbers as plain Python floats."""
    if hasattr(values, "tolist"):
        values = values.tolist()
    return [float(v) for v in values]


def transformers() -> Any:
    """The transformers module, typed as Any: its annotations are partial and this code only passes its objects on."""
    return importlib.import_module("transformers")


def tokenizers() -> Any:
    """The tokenizers module, typed as Any (see `transformers`)."""
    return importlib.import_module("tokenizers")
