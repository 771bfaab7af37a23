"""Image tasks served by transformers pipelines: image-classification and object-detection."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from typed_inference.server.backends._base import Backend, Serving
from typed_inference.server.backends._hf import local_pipeline
from typed_inference.server.media import load_image
from typed_inference.server.resolve import ModelSource
from typed_inference.types.common import BoundingBox
from typed_inference.types.image_classification import ImageClassificationInput, ImageClassificationOutputElement
from typed_inference.types.object_detection import ObjectDetectionInput, ObjectDetectionOutputElement


class ImageClassification(Backend):
    """image-classification: every class of the model (or the top_k), best first."""

    def __init__(self, source: ModelSource) -> None:
        super().__init__(source)
        self.pipe = local_pipeline("image-classification", source.path)
        self.classes = len(self.pipe.model.config.id2label)

    def run(self, body: Any, data: bytes) -> Any:
        assert isinstance(body, ImageClassificationInput)
        params = body.parameters
        kwargs: dict[str, Any] = {"top_k": min(params.top_k if params and params.top_k else 5, self.classes)}
        if params and params.function_to_apply:
            kwargs["function_to_apply"] = params.function_to_apply
        found = self.pipe(load_image(data), **kwargs)
        return [ImageClassificationOutputElement(label=c["label"], score=float(c["score"])) for c in found]

    serves: ClassVar[Mapping[str, Serving]] = {"image-classification": Serving(run)}


class ObjectDetection(Backend):
    """object-detection: labelled boxes whose score reaches the threshold."""

    def __init__(self, source: ModelSource) -> None:
        super().__init__(source)
        self.pipe = local_pipeline("object-detection", source.path)

    def run(self, body: Any, data: bytes) -> Any:
        assert isinstance(body, ObjectDetectionInput)
        threshold = body.parameters.threshold if body.parameters and body.parameters.threshold is not None else 0.5
        found = self.pipe(load_image(data), threshold=threshold)
        return [
            ObjectDetectionOutputElement(
                label=d["label"], score=float(d["score"]), box=BoundingBox(**{k: int(v) for k, v in d["box"].items()})
            )
            for d in found
        ]

    serves: ClassVar[Mapping[str, Serving]] = {"object-detection": Serving(run)}
