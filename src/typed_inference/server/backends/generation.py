"""text-generation and chat-completion over a causal language model's `generate()`, with TGI-style answers.

Streams are produced token by token: `stream()` calls `emit` with each event from the worker thread.
"""

from __future__ import annotations

import importlib
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from typed_inference._version import __version__
from typed_inference.server.backends._base import Backend, Serving
from typed_inference.server.backends._hf import model_limit, quiet, transformers
from typed_inference.server.errors import unprocessable
from typed_inference.server.resolve import ModelSource
from typed_inference.types.chat_completion import ChatCompletionInput
from typed_inference.types.text_generation import TextGenerationInput, TextGenerationParameters

DEFAULT_MAX_NEW_TOKENS = 100
Emit = Callable[[dict[str, Any]], None]


@dataclass
class Plan:
    """A generation request checked against the model: the prompt's ids and every `generate()` setting."""

    input_ids: Any
    max_new_tokens: int
    sampling: dict[str, Any] = field(default_factory=dict)
    stop: list[str] = field(default_factory=list)
    seed: int | None = None
    scores: bool = False
    top_logprobs: int = 0


@dataclass
class Generated:
    """What one generation produced."""

    ids: list[int]
    text: str
    finish_reason: str
    logprobs: list[float | None]
    top: list[list[tuple[int, float]]]


def _unsupported(names: list[str]) -> None:
    if names:
        raise unprocessable(f"{', '.join(names)} not supported by the local server")


class CausalLM(Backend):
    """A decoder-only language model: completions (text-generation) and conversations (chat-completion)."""

    def __init__(self, source: ModelSource) -> None:
        super().__init__(source)
        quiet()
        tf = transformers()

        self.tokenizer = tf.AutoTokenizer.from_pretrained(source.path, local_files_only=True)
        self.model = tf.AutoModelForCausalLM.from_pretrained(source.path, local_files_only=True).eval()
        self.limit = model_limit(self.model.config, self.tokenizer)
        eos = self.model.generation_config.eos_token_id
        self.eos = set(eos if isinstance(eos, list) else [] if eos is None else [eos])
        self.special = set(self.tokenizer.all_special_ids)
        self.pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else next(iter(self.eos), 0)

    # -- planning: every check that answers 422 happens before anything is generated or streamed ---------------
    def _plan(self, prompt: str, max_new: int | None, *, truncate: int | None = None, name: str) -> Plan:
        import torch

        ids = self.tokenizer(prompt, return_tensors="pt")["input_ids"]
        if truncate is not None:
            ids = ids[:, -truncate:]
        given = ids.shape[1]
        if max_new is None:
            max_new = max(1, min(DEFAULT_MAX_NEW_TOKENS, self.limit - given))
        if given + max_new > self.limit:
            raise unprocessable(
                f"`inputs` tokens + `{name}` must be <= {self.limit}. "
                f"Given: {given} `inputs` tokens and {max_new} `{name}`"
            )
        return Plan(input_ids=ids.to(torch.long), max_new_tokens=max_new)

    def plan_completion(self, body: TextGenerationInput) -> Plan:
        """The plan of a text-generation request (422 for what this model or server cannot do)."""
        p = body.parameters or TextGenerationParameters()
        _unsupported(
            [
                name
                for name in ("grammar", "adapter_id", "top_n_tokens", "decoder_input_details", "frequency_penalty")
                if getattr(p, name) not in (None, False)
            ]
            + (["watermark"] if p.watermark else [])
            + (["best_of > 1"] if p.best_of and p.best_of > 1 else [])
        )
        plan = self._plan(self._prompt(body), p.max_new_tokens, truncate=p.truncate, name="max_new_tokens")
        sampled = (
            p.do_sample
            if p.do_sample is not None
            else any(v is not None for v in (p.temperature, p.top_k, p.top_p, p.typical_p))
        )
        plan.sampling = {"do_sample": bool(sampled)}
        if sampled:
            for name in ("temperature", "top_k", "top_p", "typical_p"):
                if getattr(p, name) is not None:
                    plan.sampling[name] = getattr(p, name)
            plan.seed = p.seed if p.seed is not None else int(time.time_ns() % 2**31)
        if p.repetition_penalty is not None:
            plan.sampling["repetition_penalty"] = p.repetition_penalty
        plan.stop = list(p.stop or [])
        plan.scores = bool(p.details)
        return plan

    def _chat_prompt(self, conversation: Sequence[Any]) -> str:
        """The prompt text of a conversation: the model's chat template, or `role: content` lines without one."""
        messages = []
        for message in conversation:
            content = message.content
            if message.role == "assistant" and getattr(message, "tool_calls", None):
                _unsupported(["tool_calls"])
            if content is None:
                text = ""
            elif isinstance(content, str):
                text = content
            else:
                if any(part.type != "text" for part in content):
                    raise unprocessable("this model reads text only; remove the image parts")
                text = "".join(getattr(part, "text", "") for part in content)
            messages.append({"role": message.role, "content": text})
        if self.tokenizer.chat_template:
            prompt = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        else:
            prompt = "".join(f"{m['role']}: {m['content']}\n" for m in messages) + "assistant:"
        return str(prompt)

    def _prompt(self, body: TextGenerationInput) -> str:
        """The text a text-generation request continues: its prompt, or its conversation through the chat template."""
        return body.inputs if isinstance(body.inputs, str) else self._chat_prompt(body.inputs)

    def plan_chat(self, body: ChatCompletionInput) -> Plan:
        """The plan of a chat-completion request."""
        _unsupported(
            [name for name in ("tools", "logit_bias") if getattr(body, name)]
            + [name for name in ("frequency_penalty", "presence_penalty") if getattr(body, name)]
            + (["response_format"] if body.response_format and body.response_format.type != "text" else [])
            + (["tool_choice"] if body.tool_choice not in (None, "none", "auto") else [])
        )
        plan = self._plan(self._chat_prompt(body.messages), body.max_tokens, name="max_tokens")
        # greedy unless asked to sample; temperature 0 always means greedy
        sampled = body.temperature != 0 and (body.temperature is not None or body.top_p is not None)
        plan.sampling = {"do_sample": bool(sampled)}
        if sampled:
            if body.temperature:
                plan.sampling["temperature"] = body.temperature
            if body.top_p is not None and body.top_p > 0:
                plan.sampling["top_p"] = body.top_p
            plan.seed = body.seed if body.seed is not None else int(time.time_ns() % 2**31)
        plan.stop = list(body.stop or [])
        plan.scores = bool(body.logprobs)
        plan.top_logprobs = body.top_logprobs or 0
        return plan

    # -- generating ---------------------------------------------------------------------------------------------
    def generate(self, plan: Plan, on_token: Callable[[int, float], None] | None = None) -> Generated:
        """Runs `generate()` for a plan; `on_token` sees each new token id, with its log-probability, as it is
        produced."""
        import torch

        streamer, processors = None, None
        if on_token is not None:
            last: list[Any] = []  # the log-probabilities of the step whose token the streamer sees next
            processors = [_StepLogprobs(last)]
            streamer = _streamer(lambda token_id: on_token(token_id, float(last[0][token_id])))
        with torch.inference_mode():
            if plan.seed is not None:
                torch.manual_seed(plan.seed)
            out = self.model.generate(
                input_ids=plan.input_ids,
                attention_mask=torch.ones_like(plan.input_ids),
                max_new_tokens=plan.max_new_tokens,
                pad_token_id=self.pad,
                stop_strings=plan.stop or None,
                tokenizer=self.tokenizer if plan.stop else None,
                output_scores=plan.scores,
                return_dict_in_generate=True,
                streamer=streamer,
                logits_processor=transformers().LogitsProcessorList(processors) if processors else None,
                **plan.sampling,
            )
        new = out.sequences[0, plan.input_ids.shape[1] :].tolist()
        logprobs: list[float | None] = [None] * len(new)
        top: list[list[tuple[int, float]]] = [[] for _ in new]
        if plan.scores and out.scores:
            steps = [torch.log_softmax(step[0].float(), dim=-1) for step in out.scores]
            logprobs = [float(step[token]) for step, token in zip(steps, new, strict=False)]
            if plan.top_logprobs:
                for i, step in enumerate(steps[: len(new)]):
                    values, indices = torch.topk(step, k=min(plan.top_logprobs, step.shape[0]))
                    top[i] = list(zip(indices.tolist(), values.tolist(), strict=True))
        text = self.tokenizer.decode(new, skip_special_tokens=True)
        if plan.stop and any(text.endswith(s) for s in plan.stop):
            reason = "stop_sequence"
        elif new and new[-1] in self.eos:
            reason = "eos_token"
        else:
            reason = "length"
        return Generated(new, text, reason, logprobs, top)

    def token(self, token_id: int, logprob: float | None = None) -> dict[str, Any]:
        """A TGI token object."""
        return {
            "id": token_id,
            "text": self.tokenizer.decode([token_id]),
            "logprob": logprob,
            "special": token_id in self.special,
        }

    def chat(self, body: ChatCompletionInput) -> Any:
        """chat-completion: `n` choices, each generated from the chat template's prompt."""
        plan = self.plan_chat(body)
        choices = [self.generate(plan) for _ in range(body.n or 1)]
        return self._chat_answer(plan, choices)

    def complete(self, body: TextGenerationInput) -> Any:
        """text-generation: the continuation of the prompt, with details when asked."""
        plan = self.plan_completion(body)
        result = self.generate(plan)
        p = body.parameters or TextGenerationParameters()
        answer: dict[str, Any] = {"generated_text": (self._prompt(body) if p.return_full_text else "") + result.text}
        if p.details:
            answer["details"] = {
                "finish_reason": result.finish_reason,
                "generated_tokens": len(result.ids),
                "seed": plan.seed,
                "prefill": [],
                "tokens": [self.token(t, lp) for t, lp in zip(result.ids, result.logprobs, strict=True)],
            }
        return answer

    def _chat_answer(self, plan: Plan, choices: list[Generated]) -> dict[str, Any]:
        prompt_tokens = int(plan.input_ids.shape[1])
        completion_tokens = sum(len(c.ids) for c in choices)
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.source.model_id,
            "system_fingerprint": f"typed-inference-{__version__}",
            "choices": [
                {
                    "index": i,
                    "message": {"role": "assistant", "content": c.text},
                    "finish_reason": _chat_reason(c.finish_reason),
                    "logprobs": self._chat_logprobs(c) if plan.scores else None,
                }
                for i, c in enumerate(choices)
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }

    def _chat_logprobs(self, result: Generated) -> dict[str, Any]:
        decode = self.tokenizer.decode
        return {
            "content": [
                {
                    "token": decode([token]),
                    "logprob": logprob,
                    "top_logprobs": [{"token": decode([t]), "logprob": v} for t, v in top],
                }
                for token, logprob, top in zip(result.ids, result.logprobs, result.top, strict=True)
            ]
        }

    # -- streaming ----------------------------------------------------------------------------------------------
    def stream_completion(self, body: TextGenerationInput, emit: Emit) -> None:
        """text-generation with `emit` called for every TGI event."""
        plan = self.plan_completion(body)
        p = body.parameters or TextGenerationParameters()
        held: list[tuple[int, float]] = []  # one token is held back: the last one carries generated_text and details
        index = 0

        def on_token(token_id: int, logprob: float) -> None:
            nonlocal index
            if held:
                emit({"index": index, "token": self.token(*held.pop()), "generated_text": None, "details": None})
                index += 1
            held.append((token_id, logprob))

        result = self.generate(plan, on_token)
        text = (self._prompt(body) if p.return_full_text else "") + result.text
        details = None
        if p.details:
            details = {
                "finish_reason": result.finish_reason,
                "generated_tokens": len(result.ids),
                "seed": plan.seed,
                "input_length": int(plan.input_ids.shape[1]),
            }
        last = self.token(*held.pop()) if held else {"id": self.pad, "text": "", "logprob": 0.0, "special": True}
        emit({"index": index, "token": last, "generated_text": text, "details": details})

    def stream_chat(self, body: ChatCompletionInput, emit: Emit) -> None:
        """chat-completion with `emit` called for every chat.completion.chunk event."""
        plan = self.plan_chat(body)
        base = {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": self.source.model_id,
            "system_fingerprint": f"typed-inference-{__version__}",
        }

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]}

        # every chunk names the role, as the hosted service's do (OpenAI clients may read any chunk's delta.role)
        emit(chunk({"role": "assistant", "content": ""}))
        result = self.generate(
            plan, lambda t, _lp: emit(chunk({"role": "assistant", "content": self.tokenizer.decode([t])}))
        )
        emit(chunk({"role": "assistant"}, _chat_reason(result.finish_reason)))
        if body.stream_options and body.stream_options.include_usage:
            prompt_tokens = int(plan.input_ids.shape[1])
            usage = {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": len(result.ids),
                "total_tokens": prompt_tokens + len(result.ids),
            }
            emit({**base, "choices": [], "usage": usage})

    serves: ClassVar[Mapping[str, Serving]] = {
        "text-generation": Serving(complete, stream=stream_completion),
        "chat-completion": Serving(chat, stream=stream_chat),
    }


def _chat_reason(reason: str) -> str:
    return "length" if reason == "length" else "stop"


class _StepLogprobs:
    """A logits processor keeping the log-probabilities of the latest step (run last, after any sampling warpers):
    what a streamed token's `logprob` is read from."""

    def __init__(self, last: list[Any]) -> None:
        self.last = last

    def __call__(self, _input_ids: Any, scores: Any) -> Any:
        import torch

        self.last[:] = [torch.log_softmax(scores[0].float(), dim=-1)]
        return scores


def _streamer(on_token: Callable[[int], None]) -> Any:
    """A transformers streamer passing each new token id to `on_token` (the prompt, sent first, is skipped)."""
    base: Any = importlib.import_module("transformers.generation.streamers").BaseStreamer

    class _Streamer(base):  # type: ignore[misc]
        def __init__(self) -> None:
            self.prompt_seen = False

        def put(self, value: Any) -> None:
            if not self.prompt_seen:
                self.prompt_seen = True
                return
            for token_id in value.flatten().tolist():
                on_token(int(token_id))

        def end(self) -> None:
            pass

    return _Streamer()
