"""Audio tasks served by transformers pipelines: automatic-speech-recognition and audio-classification.

Audio is decoded in Python (soundfile, or the standard wave module) and handed to the pipeline as samples, so no
ffmpeg binary is needed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from typed_inference.server.backends._base import Backend, Serving
from typed_inference.server.backends._hf import local_pipeline
from typed_inference.server.errors import unprocessable
from typed_inference.server.media import load_audio
from typed_inference.server.resolve import ModelSource
from typed_inference.types.audio_classification import AudioClassificationInput, AudioClassificationOutputElement
from typed_inference.types.automatic_speech_recognition import (
    AutomaticSpeechRecognitionInput,
    AutomaticSpeechRecognitionOutput,
    AutomaticSpeechRecognitionOutputChunk,
)


class _Audio(Backend):
    task = ""

    def __init__(self, source: ModelSource) -> None:
        super().__init__(source)
        self.pipe = local_pipeline(self.task, source.path)
        self.rate = int(self.pipe.feature_extractor.sampling_rate)

    def samples(self, data: bytes) -> dict[str, Any]:
        return {"raw": load_audio(data, self.rate), "sampling_rate": self.rate}


class SpeechRecognition(_Audio):
    """automatic-speech-recognition: the transcript, with word timings when asked (CTC or encoder-decoder models)."""

    task = "automatic-speech-recognition"

    def run(self, body: Any, data: bytes) -> Any:
        assert isinstance(body, AutomaticSpeechRecognitionInput)
        params = body.parameters
        audio = self.samples(data)
        seconds = len(audio["raw"]) / self.rate
        kwargs: dict[str, Any] = {}
        ctc = self.pipe.type in ("ctc", "ctc_with_lm")
        if params and params.return_timestamps:
            kwargs["return_timestamps"] = "word" if ctc else True
        if params and params.generation_parameters is not None:
            if ctc:
                raise unprocessable("generation_parameters: this is a CTC model, which does not generate")
            kwargs["generate_kwargs"] = params.generation_parameters.model_dump(exclude_none=True)
        found = self.pipe(audio, **kwargs)
        chunks = None
        if "chunks" in found:
            chunks = [
                AutomaticSpeechRecognitionOutputChunk(
                    text=c["text"],
                    timestamp=[float(c["timestamp"][0] or 0.0), float(c["timestamp"][1] or seconds)],
                )
                for c in found["chunks"]
            ]
        if chunks is None:
            return AutomaticSpeechRecognitionOutput(text=found["text"])
        return AutomaticSpeechRecognitionOutput(text=found["text"], chunks=chunks)

    serves: ClassVar[Mapping[str, Serving]] = {"automatic-speech-recognition": Serving(run)}


class AudioClassification(_Audio):
    """audio-classification: every class of the model (or the top_k), best first."""

    task = "audio-classification"

    def run(self, body: Any, data: bytes) -> Any:
        assert isinstance(body, AudioClassificationInput)
        params = body.parameters
        classes = len(self.pipe.model.config.id2label)
        kwargs: dict[str, Any] = {"top_k": min(params.top_k if params and params.top_k else 5, classes)}
        if params and params.function_to_apply:
            kwargs["function_to_apply"] = params.function_to_apply
        found = self.pipe(self.samples(data), **kwargs)
        return [AudioClassificationOutputElement(label=c["label"], score=float(c["score"])) for c in found]

    serves: ClassVar[Mapping[str, Serving]] = {"audio-classification": Serving(run)}
