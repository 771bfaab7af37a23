"""What a provider does, as data: the types of the generated provider table (`_generated/providers.py`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Routing = Literal["routed", "direct", "both"]
Auth = Literal["bearer", "key"]
BodyForm = Literal["chat", "completions", "embeddings", "json", "input-object", "multipart"]
ResponseFormat = Literal["json_object_schema", "json_schema_flat"]
AnswerForm = Literal["bytes", "base64", "url", "text", "transcription", "mask"]
JobProtocol = Literal["fal-queue", "together-video", "wavespeed", "zai", "replicate-wait"]
SizeForm = Literal["object", "WxH"]
Lora = Literal["loras", "lora_weights"]
MEDIA_BODIES = ("json", "input-object", "multipart")


@dataclass(frozen=True)
class ModelRule:
    """Inputs that replace a task's `inputs` when the provider's model id (lower-cased) contains every substring."""

    contains: tuple[str, ...]
    inputs: dict[str, Any]


@dataclass(frozen=True)
class ProviderTask:
    """How one provider serves one task: its route, its body form, the renames its body needs, and for media tasks
    where the input goes, what the answer holds (`answer` at `answer_at`) and which job protocol it runs."""

    route: str  # `{model}` stands for the provider's model id, inserted unescaped
    body: BodyForm
    rename: dict[str, str] = field(default_factory=dict)
    response_format: ResponseFormat | None = None  # how it wants OpenAI's json_schema response_format
    inputs: dict[str, Any] = field(default_factory=dict)  # body fields holding the input; "$input" stands for it
    model_rules: tuple[ModelRule, ...] = ()
    data_url: str | None = None  # a binary input travels as a data URL: its type when the bytes do not tell
    data_url_fixed: bool = False  # the data URL is always labelled `data_url`, whatever the bytes are
    constants: dict[str, Any] = field(default_factory=dict)  # fields always sent (over the caller's)
    defaults: dict[str, Any] = field(default_factory=dict)  # fields sent when the caller gives none
    drop: tuple[str, ...] = ()  # parameters the provider does not take
    flatten: tuple[str, ...] = ()  # object parameters whose fields go to the top level
    size: SizeForm | None = None  # width + height (both given) become one field
    size_key: str = "image_size"
    model_field: bool = False  # the body carries `"model": <provider id>`
    lora: Lora | None = None  # how a LoRA adapter of the mapping is passed
    version_route: str | None = None  # the route when the provider id names a version (`owner/name:version`)
    answer: AnswerForm | None = None  # None: the task's own wire format (or a body form's own mapping)
    answer_at: str = ""  # a JSON path in the final answer (`images[0].url`); "" for the whole body
    job: JobProtocol | None = None
    poll_interval: float = 0.5  # the first wait between polls; it grows ×1.5 up to 10 s
    max_polls: int | None = None


@dataclass(frozen=True)
class ProviderSpec:
    """One Inference Provider: how it is reached (router, direct base URL, auth scheme) and the tasks it serves.

    `tasks` is None for hf-inference, which serves every task in the task's own wire format.
    """

    name: str
    routing: Routing
    base_url: str | None
    auth: Auth
    tasks: dict[str, ProviderTask] | None
    headers: dict[str, str] = field(default_factory=dict)
    queue_url: str | None = None
    model_ids: Literal["mapped", "as-given"] = "mapped"

    def serves(self, task: str) -> bool:
        """Whether this SDK implements `task` on this provider."""
        return self.tasks is None or task in self.tasks
