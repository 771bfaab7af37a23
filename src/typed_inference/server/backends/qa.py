"""question-answering over the model's forward pass (transformers 5 has no question-answering pipeline).

The context is cut into overlapping chunks that fit beside the question; every span of context tokens no longer than
`max_answer_len` is scored by p(start) × p(end), and the best spans are mapped back to characters of the context.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from typed_inference.server.backends._base import Backend, Serving
from typed_inference.server.backends._hf import model_limit, quiet, transformers
from typed_inference.server.errors import unprocessable
from typed_inference.server.resolve import ModelSource
from typed_inference.types.question_answering import (
    QuestionAnsweringInput,
    QuestionAnsweringOutputElement,
    QuestionAnsweringParameters,
)


@dataclass
class _Span:
    score: float
    start: int
    end: int


class QuestionAnswering(Backend):
    """Extractive question answering: answers are spans copied from the context."""

    def __init__(self, source: ModelSource) -> None:
        super().__init__(source)
        quiet()
        tf = transformers()

        self.tokenizer = tf.AutoTokenizer.from_pretrained(source.path, local_files_only=True)
        self.model = tf.AutoModelForQuestionAnswering.from_pretrained(source.path, local_files_only=True).eval()
        self.limit = min(model_limit(self.model.config, self.tokenizer), self.tokenizer.model_max_length)

    def run(self, body: Any) -> Any:
        assert isinstance(body, QuestionAnsweringInput)
        import torch

        p = body.parameters or QuestionAnsweringParameters()
        max_seq_len = p.max_seq_len or min(384, self.limit)
        if max_seq_len > self.limit:
            raise unprocessable(f"`max_seq_len` must be <= {self.limit} for this model. Given: {max_seq_len}")
        question = self._cut_question(body.inputs.question, p.max_question_len or 64)
        context = body.inputs.context
        question_tokens = len(self.tokenizer(question, add_special_tokens=False)["input_ids"])
        room = max_seq_len - question_tokens - 3
        if room < 1:
            raise unprocessable(f"the question takes {question_tokens} tokens: no room is left for the context")
        stride = min(p.doc_stride if p.doc_stride is not None else 128, room // 2)
        enc = self.tokenizer(
            question,
            context,
            truncation="only_second",
            max_length=max_seq_len,
            stride=stride,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
            padding=True,
            return_tensors="pt",
        )
        offsets = enc.pop("offset_mapping").tolist()
        enc.pop("overflow_to_sample_mapping", None)
        with torch.inference_mode():
            out = self.model(**enc)
        spans, null_score = self._spans(enc, out, offsets, p.max_answer_len or 15, p.align_to_words is not False)
        spans.sort(key=lambda s: s.score, reverse=True)
        answers: list[QuestionAnsweringOutputElement] = []
        seen: set[tuple[int, int]] = set()
        if p.handle_impossible_answer and (not spans or null_score > spans[0].score):
            answers.append(QuestionAnsweringOutputElement(answer="", score=null_score, start=0, end=0))
        for span in spans:
            if len(answers) >= (p.top_k or 1):
                break
            if (span.start, span.end) in seen:
                continue
            seen.add((span.start, span.end))
            answers.append(
                QuestionAnsweringOutputElement(
                    answer=context[span.start : span.end], score=span.score, start=span.start, end=span.end
                )
            )
        return answers

    def hosted(self, body: Any, answer: Any) -> Any:
        """Without `top_k` (or with 1) the hosted service answers the best span as one object, not a list."""
        top_k = body.parameters.top_k if body.parameters else None
        return answer[0] if top_k in (None, 1) and len(answer) == 1 else answer

    def _cut_question(self, question: str, max_tokens: int) -> str:
        """The question cut to `max_question_len` tokens, at a character boundary."""
        enc = self.tokenizer(question, add_special_tokens=False, return_offsets_mapping=True)
        if len(enc["input_ids"]) <= max_tokens:
            return question
        return question[: enc["offset_mapping"][max_tokens - 1][1]]

    def _spans(self, enc: Any, out: Any, offsets: list[Any], max_len: int, align: bool) -> tuple[list[_Span], float]:
        """Candidate answer spans of every chunk, and the best no-answer score (the first token's)."""
        import torch

        spans: list[_Span] = []
        null_score = 1.0
        for chunk in range(enc["input_ids"].shape[0]):
            sequence_ids = enc.sequence_ids(chunk)
            in_context = torch.tensor([s == 1 for s in sequence_ids])
            keep = in_context.clone()
            keep[0] = True  # the first token stands for "no answer"
            start_p = torch.softmax(out.start_logits[chunk].masked_fill(~keep, -1e4), dim=-1)
            end_p = torch.softmax(out.end_logits[chunk].masked_fill(~keep, -1e4), dim=-1)
            null_score = min(null_score, float(start_p[0] * end_p[0]))
            scores = torch.triu(torch.outer(start_p, end_p)) - torch.triu(torch.outer(start_p, end_p), diagonal=max_len)
            scores = scores * in_context[:, None] * in_context[None, :]
            best = torch.topk(scores.flatten(), k=min(20, scores.numel()))
            word_ids = enc.word_ids(chunk)
            size = scores.shape[1]
            for value, index in zip(best.values.tolist(), best.indices.tolist(), strict=True):
                if value <= 0:
                    break
                s, e = divmod(index, size)
                if align:
                    s, e = self._widen(word_ids, sequence_ids, s, e)
                spans.append(_Span(float(value), int(offsets[chunk][s][0]), int(offsets[chunk][e][1])))
        return spans, null_score

    @staticmethod
    def _widen(word_ids: list[int | None], sequence_ids: list[int | None], s: int, e: int) -> tuple[int, int]:
        """Token indices widened to the first and last token of the words they fall in."""
        while s > 0 and sequence_ids[s - 1] == 1 and word_ids[s - 1] == word_ids[s] and word_ids[s] is not None:
            s -= 1
        last = len(word_ids) - 1
        while e < last and sequence_ids[e + 1] == 1 and word_ids[e + 1] == word_ids[e] and word_ids[e] is not None:
            e += 1
        return s, e

    serves: ClassVar[Mapping[str, Serving]] = {"question-answering": Serving(run, wire=hosted)}
