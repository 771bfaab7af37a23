"""The Hub's provider mapping of a model (which providers serve it, under which id, for which task), cached."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from typed_inference._errors import ResponseValidationError

TTL = 300.0  # seconds a mapping is reused for; errors are never cached
_KNOWN = {"providerId", "status", "task", "adapter", "adapterWeightsPath", "type", "provider"}


@dataclass(frozen=True)
class ProviderMapping:
    """One entry of a model's `inferenceProviderMapping` on the Hub: a provider serving it for a task."""

    provider: str
    provider_id: str
    status: str  # "live", "staging" or "error"
    task: str  # the Hub's task name ("conversational" for chat)
    adapter: str | None = None
    adapter_weights_path: str | None = None
    type: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # fields this SDK does not know, kept as sent


def mapping_path(model: str) -> str:
    """The Hub API path and query of a model's provider mapping (after `hub_url`)."""
    return f"/api/models/{model}?expand[]=inferenceProviderMapping"


def parse_mapping(data: Any, model: str, url: str) -> list[ProviderMapping]:
    """The entries of a Hub model answer, in the Hub's order (dict form keyed by provider, or list form); absent or
    null is no entry. Anything else is a ResponseValidationError naming the JSON path and the URL."""

    def wrong(path: str, expected: str, found: Any) -> ResponseValidationError:
        return ResponseValidationError(
            f"the Hub's provider mapping of {model!r} ({url}): {path}: expected {expected}, found {_kind(found)}",
            status_code=200,
            body=b"",
        )

    if not isinstance(data, dict):
        raise wrong("$", "an object", data)
    raw = data.get("inferenceProviderMapping")
    if raw is None:
        return []
    if isinstance(raw, dict):
        items = [(f"$.inferenceProviderMapping.{name}", {**entry, "provider": name}) for name, entry in raw.items()]
        for (path, _), value in zip(items, raw.values(), strict=True):
            if not isinstance(value, dict):
                raise wrong(path, "an object", value)
    elif isinstance(raw, list):
        items = []
        for i, entry in enumerate(raw):
            if not isinstance(entry, dict):
                raise wrong(f"$.inferenceProviderMapping[{i}]", "an object", entry)
            items.append((f"$.inferenceProviderMapping[{i}]", entry))
    else:
        raise wrong("$.inferenceProviderMapping", "an object or an array", raw)
    entries = []
    for path, entry in items:
        for key in ("provider", "providerId", "status", "task"):
            if not isinstance(entry.get(key), str):
                raise wrong(f"{path}.{key}", "a string", entry.get(key))
        optional = {key: entry.get(key) for key in ("adapter", "adapterWeightsPath", "type")}
        for key, value in optional.items():
            if value is not None and not isinstance(value, str):
                raise wrong(f"{path}.{key}", "a string", value)
        entries.append(
            ProviderMapping(
                provider=entry["provider"],
                provider_id=entry["providerId"],
                status=entry["status"],
                task=entry["task"],
                adapter=optional["adapter"],
                adapter_weights_path=optional["adapterWeightsPath"],
                type=optional["type"],
                extra={k: v for k, v in entry.items() if k not in _KNOWN},
            )
        )
    return entries


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(value), f"a {type(value).__name__}"
    )


class MappingCache:
    """Mappings per (hub_url, model, token hash or "anonymous") for `TTL` seconds, shared by the process's clients."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._entries: dict[tuple[str, str, str], tuple[float, list[ProviderMapping]]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(hub_url: str, model: str, token: str | None) -> tuple[str, str, str]:
        """The cache key: the token only as a hash (a cache must not hold the secret itself)."""
        who = hashlib.sha256(token.encode("utf-8")).hexdigest()[:32] if token else "anonymous"
        return hub_url, model, who

    def get(self, key: tuple[str, str, str]) -> list[ProviderMapping] | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            if found[0] <= self.clock():
                del self._entries[key]
                return None
            return found[1]

    def put(self, key: tuple[str, str, str], entries: list[ProviderMapping]) -> None:
        with self._lock:
            self._entries[key] = (self.clock() + TTL, entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


MAPPINGS = MappingCache()
