"""summarization and translation over an encoder-decoder model's `generate()` (transformers 5 has no pipeline)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from typed_inference.server.backends._base import Backend, Serving
from typed_inference.server.backends._hf import model_limit, quiet, transformers
from typed_inference.server.errors import bad_input, unprocessable
from typed_inference.server.resolve import ModelSource
from typed_inference.types.summarization import SummarizationInput, SummarizationOutput
from typed_inference.types.translation import TranslationInput, TranslationOutput


class _Seq2Seq(Backend):
    """Text in, text out: tokenise, `generate()`, decode."""

    def __init__(self, source: ModelSource) -> None:
        super().__init__(source)
        quiet()
        tf = transformers()

        self.tokenizer = tf.AutoTokenizer.from_pretrained(source.path, local_files_only=True)
        self.model = tf.AutoModelForSeq2SeqLM.from_pretrained(source.path, local_files_only=True).eval()
        self.limit = model_limit(self.model.config, self.tokenizer)

    def transform(self, text: str, params: Any, extra: dict[str, Any] | None = None) -> str:
        """The generated text for `text`, by the task's shared parameters (truncation, generate_parameters)."""
        import torch

        truncation = params.truncation if params and params.truncation else "longest_first"
        if truncation == "do_not_truncate":
            enc = self.tokenizer(text, return_tensors="pt")
            if enc["input_ids"].shape[1] > self.limit:
                raise unprocessable(
                    f"`inputs` must have at most {self.limit} tokens. Given: {enc['input_ids'].shape[1]}"
                )
        else:
            enc = self.tokenizer(text, return_tensors="pt", truncation=True, max_length=self.limit)
        kwargs: dict[str, Any] = dict(extra or {})
        generate = params.generate_parameters if params else None
        if generate is not None:
            kwargs.update(generate.model_dump(exclude_none=True))
        with torch.inference_mode():
            try:
                out = self.model.generate(**enc, **kwargs)
            except (ValueError, TypeError) as exc:  # unknown or contradictory generate() arguments
                raise bad_input(str(exc)) from None
        clean = params.clean_up_tokenization_spaces if params else None
        decoded: str = self.tokenizer.decode(out[0], skip_special_tokens=True, clean_up_tokenization_spaces=bool(clean))
        return decoded

    def hosted(self, body: Any, answer: Any) -> Any:
        """The hosted service answers one text in a one-element list (`[{summary_text}]`, `[{translation_text}]`)
        and a list of texts with one object per text."""
        return [answer] if isinstance(body.inputs, str) else answer


def _each(inputs: str | list[str], one: Any) -> Any:
    """`one` applied to the text, or to each text of a list (one result per text, in order)."""
    return one(inputs) if isinstance(inputs, str) else [one(text) for text in inputs]


class Summarization(_Seq2Seq):
    """summarization: one summary of the text."""

    def run(self, body: Any) -> Any:
        assert isinstance(body, SummarizationInput)
        return _each(body.inputs, lambda text: SummarizationOutput(summary_text=self.transform(text, body.parameters)))

    serves: ClassVar[Mapping[str, Serving]] = {"summarization": Serving(run, wire=_Seq2Seq.hosted)}


class Translation(_Seq2Seq):
    """translation: the text in another language; language codes for multilingual models' tokenizers."""

    def run(self, body: Any) -> Any:
        assert isinstance(body, TranslationInput)
        params = body.parameters
        extra: dict[str, Any] = {}
        if params and (params.src_lang or params.tgt_lang):
            vocab = self.tokenizer.get_vocab()
            for name in ("src_lang", "tgt_lang"):
                code = getattr(params, name)
                if code is not None and code not in vocab:
                    raise unprocessable(f"`{name}` {code!r} is not a language code of this model's tokenizer")
            if params.src_lang:
                self.tokenizer.src_lang = params.src_lang
            if params.tgt_lang:
                extra["forced_bos_token_id"] = vocab[params.tgt_lang]
        return _each(body.inputs, lambda text: TranslationOutput(translation_text=self.transform(text, params, extra)))

    serves: ClassVar[Mapping[str, Serving]] = {"translation": Serving(run, wire=_Seq2Seq.hosted)}
