"""feature-extraction and sentence-similarity with a sentence-transformers model (the embedded MiniLM, or yours).

`embed()` takes a whole micro-batch: one tokenisation and one forward pass for every text of the batch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from typed_inference.server.backends._base import Backend, Batching, Serving
from typed_inference.server.backends._hf import quiet
from typed_inference.server.errors import ServerError, unprocessable
from typed_inference.server.resolve import ModelSource
from typed_inference.types.feature_extraction import FeatureExtractionInput
from typed_inference.types.sentence_similarity import SentenceSimilarityInput


@dataclass(frozen=True)
class EmbedOptions:
    """The options of a feature-extraction request; requests batch together only when theirs are equal."""

    normalize: bool = True
    truncate: bool = False
    direction: str = "right"
    prompt: str = ""

    @classmethod
    def of(cls, body: FeatureExtractionInput, prompts: dict[str, str]) -> EmbedOptions:
        """The options of a request (422 for a prompt name the model does not define)."""
        prompt = ""
        if body.prompt_name is not None:
            if body.prompt_name not in prompts:
                known = ", ".join(sorted(prompts)) or "none"
                raise unprocessable(f"`prompt_name` {body.prompt_name!r} is not one of this model's prompts ({known})")
            prompt = prompts[body.prompt_name]
        return cls(
            normalize=body.normalize is not False,
            truncate=bool(body.truncate),
            direction=body.truncation_direction or "right",
            prompt=prompt,
        )


class Embeddings(Backend):
    """Sentence embeddings: one pooled vector per text; similarity is the cosine of two embeddings."""

    def __init__(self, source: ModelSource) -> None:
        super().__init__(source)
        quiet()
        import torch
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(source.path), device="cpu", local_files_only=True).eval()
        self.tokenizer = self.model.tokenizer
        self.limit = int(self.model.max_seq_length or self.tokenizer.model_max_length)
        self.prompts: dict[str, str] = dict(getattr(self.model, "prompts", None) or {})
        self.torch = torch

    def embed(self, options: EmbedOptions, texts: list[str]) -> list[list[float] | ServerError]:
        """One embedding per text, or the error that text alone gets (too long, truncation off); call it locked."""
        torch = self.torch
        texts = [options.prompt + t for t in texts] if options.prompt else texts
        self.tokenizer.truncation_side = options.direction
        enc = self.tokenizer(texts, padding=True, truncation=True, max_length=self.limit + 1, return_tensors="pt")
        lengths = enc["attention_mask"].sum(dim=1).tolist()
        too_long = [n > self.limit for n in lengths]
        keep = texts
        if any(too_long):
            keep = [t for t, long in zip(texts, too_long, strict=True) if options.truncate or not long]
            if keep:
                enc = self.tokenizer(keep, padding=True, truncation=True, max_length=self.limit, return_tensors="pt")
        vectors: list[list[float]] = []
        if keep:
            features: dict[str, Any] = dict(enc)
            with torch.inference_mode():
                for module in self.model:
                    if type(module).__name__ == "Normalize" and not options.normalize:
                        continue
                    features = module(features)
                embeddings = features["sentence_embedding"]
                if options.normalize:
                    embeddings = torch.nn.functional.normalize(embeddings, dim=-1)
            vectors = embeddings.tolist()
        rows = iter(vectors)
        outcomes: list[list[float] | ServerError] = []
        for long in too_long:
            if long and not options.truncate:
                outcomes.append(
                    unprocessable(f"`inputs` must have less than {self.limit} tokens; pass truncate=true to cut them")
                )
            else:
                outcomes.append(next(rows))
        return outcomes

    # -- feature-extraction: requests with equal options share forward passes ----------------------------------
    def split(self, body: FeatureExtractionInput) -> tuple[EmbedOptions, list[str]]:
        """A request's options (requests batch together only when theirs are equal) and its texts."""
        return EmbedOptions.of(body, self.prompts), _texts(body.inputs)

    def join(self, body: FeatureExtractionInput, outcomes: list[list[float] | ServerError]) -> Any:
        """The answer from one embedding per text: the first error any text got, else the rows."""
        for outcome in outcomes:
            if isinstance(outcome, ServerError):
                raise outcome
        return [[outcome] for outcome in outcomes] if isinstance(body.inputs, list) else outcomes

    def hosted(self, body: FeatureExtractionInput, answer: Any) -> Any:
        """n texts get n pooled rows (`[[...384...], [...]]`), as the hosted service and TEI answer, not n
        one-row matrices."""
        return [rows[0] for rows in answer] if isinstance(body.inputs, list) else answer

    def features(self, body: FeatureExtractionInput) -> Any:
        """feature-extraction without micro-batching: this request's texts in one forward pass."""
        options, texts = self.split(body)
        return self.join(body, self.embed(options, texts))

    def similarity(self, body: SentenceSimilarityInput) -> Any:
        """sentence-similarity: the cosine of the source sentence's embedding with each other sentence's."""
        texts = [body.inputs.source_sentence, *body.inputs.sentences]
        vectors = self.embed(EmbedOptions(truncate=True), texts)
        source, *others = (v for v in vectors if isinstance(v, list))
        return [sum(a * b for a, b in zip(source, other, strict=True)) for other in others]

    serves: ClassVar[Mapping[str, Serving]] = {
        "feature-extraction": Serving(features, batching=Batching(split, embed, join), wire=hosted),
        "sentence-similarity": Serving(similarity),
    }


def _texts(inputs: str | list[str]) -> list[str]:
    return [inputs] if isinstance(inputs, str) else list(inputs)
