"""What a provider does, as data: the types of the generated provider table (`_generated/providers.py`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Routing = Literal["routed", "direct", "both"]
Auth = Literal["bearer", "key"]
BodyForm = Literal["chat", "completions", "embeddings"]
ResponseFormat = Literal["json_object_schema", "json_schema_flat"]


@dataclass(frozen=True)
class ProviderTask:
    """How one provider serves one task: its route, its body form, and the renames its body needs."""

    route: str
    body: BodyForm
    rename: dict[str, str] = field(default_factory=dict)
    response_format: ResponseFormat | None = None  # how it wants OpenAI's json_schema response_format


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
