"""Text tasks over transformers pipelines: fill-mask, text, token and zero-shot classification, token embeddings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from typed_inference.server.backends._base import Backend, Serving
from typed_inference.server.backends._hf import floats, local_pipeline, refuse_long
from typed_inference.server.errors import bad_input
from typed_inference.server.resolve import ModelSource
from typed_inference.types.feature_extraction import FeatureExtractionInput
from typed_inference.types.fill_mask import FillMaskInput, FillMaskOutputElement
from typed_inference.types.text_classification import TextClassificationInput, TextClassificationOutputElement
from typed_inference.types.token_classification import TokenClassificationInput, TokenClassificationOutputElement
from typed_inference.types.zero_shot_classification import (
    ZeroShotClassificationInput,
    ZeroShotClassificationOutputElement,
)


def _texts(inputs: str | list[str]) -> list[str]:
    return [inputs] if isinstance(inputs, str) else list(inputs)


def _one_or_many(inputs: str | list[str], results: list[Any]) -> Any:
    """One result for a single text, the list of results for a list of texts."""
    return results[0] if isinstance(inputs, str) else results


class FillMask(Backend):
    """fill-mask: candidates for each mask token, one list per mask when a text holds several."""

    def __init__(self, source: ModelSource) -> None:
        super().__init__(source)
        self.pipe = local_pipeline("fill-mask", source.path)
        self.mask = self.pipe.tokenizer.mask_token

    def extra_nesting(self, body: Any) -> int:
        """One more list level (one list per mask) when any text of the request holds several masks."""
        return int(max(text.count(self.mask) for text in _texts(body.inputs)) > 1)

    def run(self, body: Any) -> Any:
        assert isinstance(body, FillMaskInput)
        params = body.parameters
        kwargs: dict[str, Any] = {"top_k": params.top_k if params and params.top_k else 5}
        if params and params.targets:
            kwargs["targets"] = params.targets
        per_mask = self.extra_nesting(body) == 1
        results = []
        for text in _texts(body.inputs):
            count = text.count(self.mask)
            if count == 0:
                raise bad_input(f"No mask_token ({self.mask}) found on the input")
            refuse_long(self.pipe, text, self.source.model_id, "fill-mask has no truncation: shorten the text")
            found = self.pipe(text, **kwargs)
            lists = [
                [
                    FillMaskOutputElement(
                        sequence=c["sequence"], score=float(c["score"]), token=int(c["token"]), token_str=c["token_str"]
                    )
                    for c in candidates
                ]
                for candidates in (found if count > 1 else [found])
            ]
            results.append(lists if per_mask else lists[0])
        return _one_or_many(body.inputs, results)

    serves: ClassVar[Mapping[str, Serving]] = {"fill-mask": Serving(run, nesting=extra_nesting)}


class TextClassification(Backend):
    """text-classification: every class of the model (or the top_k), best first."""

    def __init__(self, source: ModelSource) -> None:
        super().__init__(source)
        self.pipe = local_pipeline("text-classification", source.path)

    def run(self, body: Any) -> Any:
        assert isinstance(body, TextClassificationInput)
        params = body.parameters
        kwargs: dict[str, Any] = {"top_k": params.top_k if params and params.top_k else None, "truncation": True}
        if params and params.function_to_apply:
            kwargs["function_to_apply"] = params.function_to_apply
        results = []
        for text in _texts(body.inputs):
            classes = self.pipe(text, **kwargs)
            results.append(
                [TextClassificationOutputElement(label=c["label"], score=float(c["score"])) for c in classes]
            )
        return _one_or_many(body.inputs, results)

    def hosted(self, body: Any, answer: Any) -> Any:
        """The hosted service answers one text with one list of classes per input: `[[{label, score}, ...]]`."""
        return [answer] if isinstance(body.inputs, str) else answer

    serves: ClassVar[Mapping[str, Serving]] = {"text-classification": Serving(run, wire=hosted)}


class TokenClassification(Backend):
    """token-classification: entities (or tokens), with their character offsets."""

    def __init__(self, source: ModelSource) -> None:
        super().__init__(source)
        self.pipe = local_pipeline("token-classification", source.path)

    def run(self, body: Any) -> Any:
        assert isinstance(body, TokenClassificationInput)
        params = body.parameters
        kwargs: dict[str, Any] = {
            "aggregation_strategy": (params.aggregation_strategy if params else None) or "simple",
            "ignore_labels": params.ignore_labels if params and params.ignore_labels is not None else ["O"],
        }
        if params and params.stride is not None:
            if kwargs["aggregation_strategy"] == "none":
                raise bad_input("`stride` needs an aggregation_strategy other than none")
            kwargs["stride"] = params.stride
        results = []
        for text in _texts(body.inputs):
            if "stride" not in kwargs:  # with a stride the pipeline reads a long text in overlapping windows
                refuse_long(self.pipe, text, self.source.model_id, "pass stride to read it in overlapping windows")
            try:
                found = self.pipe(text, **kwargs)
            except ValueError as exc:
                raise bad_input(str(exc)) from None
            results.append(
                [
                    TokenClassificationOutputElement(
                        **({"entity_group": e["entity_group"]} if "entity_group" in e else {"entity": e["entity"]}),
                        score=float(e["score"]),
                        word=str(e["word"]),
                        start=None if e.get("start") is None else int(e["start"]),
                        end=None if e.get("end") is None else int(e["end"]),
                    )
                    for e in found
                ]
            )
        return _one_or_many(body.inputs, results)

    serves: ClassVar[Mapping[str, Serving]] = {"token-classification": Serving(run)}


class ZeroShotClassification(Backend):
    """zero-shot-classification: an NLI model scores the text against each candidate label."""

    def __init__(self, source: ModelSource) -> None:
        super().__init__(source)
        self.pipe = local_pipeline("zero-shot-classification", source.path)

    def run(self, body: Any) -> Any:
        assert isinstance(body, ZeroShotClassificationInput)
        params = body.parameters
        kwargs: dict[str, Any] = {"candidate_labels": params.candidate_labels, "multi_label": bool(params.multi_label)}
        if params.hypothesis_template is not None:
            if "{}" not in params.hypothesis_template:
                raise bad_input("hypothesis_template must hold a {} placeholder for the label")
            kwargs["hypothesis_template"] = params.hypothesis_template
        results = []
        for text in _texts(body.inputs):
            found = self.pipe(text, **kwargs)
            results.append(
                [
                    ZeroShotClassificationOutputElement(label=label, score=float(score))
                    for label, score in zip(found["labels"], found["scores"], strict=True)
                ]
            )
        return _one_or_many(body.inputs, results)

    serves: ClassVar[Mapping[str, Serving]] = {"zero-shot-classification": Serving(run)}


class TokenEmbeddings(Backend):
    """feature-extraction with a plain transformers model: one row of hidden states per token."""

    def __init__(self, source: ModelSource) -> None:
        super().__init__(source)
        self.pipe = local_pipeline("feature-extraction", source.path)

    def run(self, body: Any) -> Any:
        assert isinstance(body, FeatureExtractionInput)
        results = []
        for text in _texts(body.inputs):
            if not body.truncate:
                refuse_long(self.pipe, text, self.source.model_id, "pass truncate=true to cut it")
            (rows,) = self.pipe(text, truncation=bool(body.truncate))
            results.append([floats(row) for row in rows])
        return _one_or_many(body.inputs, results)

    serves: ClassVar[Mapping[str, Serving]] = {"feature-extraction": Serving(run)}
