"""The classic `InferenceApi(repo_id, task=None, token=None)` interface, answering with canonical typed outputs."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from typed_inference._call import unknown_names
from typed_inference._generated.registry import TASKS
from typed_inference._urls import DEFAULT_HUB_URL, hub_model_path, is_loopback
from typed_inference.client import InferenceClient
from typed_inference.transport import Request

_TASK_CACHE: dict[tuple[str, str], str | None] = {}
_CACHE_LOCK = threading.Lock()


class InferenceApi:
    """Calls one model by repo id; its task comes from the model's metadata (`pipeline_tag`) unless given."""

    def __init__(
        self,
        repo_id: str,
        task: str | None = None,
        token: str | None = None,
        *,
        base_url: str | None = None,
        hub_url: str | None = None,
        client: InferenceClient | None = None,
    ) -> None:
        self.repo_id = repo_id
        self.client = client or InferenceClient(repo_id, token=token, base_url=base_url, hub_url=hub_url)
        hub_given = bool(hub_url or os.environ.get("HF_ENDPOINT")) or self.client.hub_url != DEFAULT_HUB_URL
        # A local server (`typed-inference serve`) answers the hub's model metadata itself: with a loopback base_url
        # and no hub named, the task is read from there rather than from huggingface.co.
        self.metadata_url = self.client.hub_url
        if not hub_given and is_loopback(urlsplit(self.client.base_url).hostname or ""):
            self.metadata_url = self.client.base_url
        self.task = task or self._model_task()
        if self.task not in TASKS:
            raise ValueError(_unknown_task(self.task, repo_id))

    def __repr__(self) -> str:
        return f"InferenceApi(repo_id={self.repo_id!r}, task={self.task!r})"

    def _model_task(self) -> str:
        """The model's `pipeline_tag` from `GET {hub_url}/api/models/{repo_id}` (307 redirects followed; cached);
        `{base_url}/api/models/{repo_id}` for a loopback base_url when no hub_url was given."""
        hub = self.metadata_url
        key = (hub, self.repo_id)
        with _CACHE_LOCK:
            if key in _TASK_CACHE:
                cached = _TASK_CACHE[key]
                if cached is None:
                    raise ValueError(f"model {self.repo_id!r} declares no task: pass task= to InferenceApi")
                return cached
        url = f"{hub}/api/models/{hub_model_path(self.repo_id)}"
        headers = self.client.base_headers(url)
        response = self.client.send(Request("GET", url, headers, None, self.client.timeout))
        try:
            meta = json.loads(response.content)
        except ValueError:
            raise ValueError(f"{url} did not answer with JSON model metadata") from None
        tag = meta.get("pipeline_tag") if isinstance(meta, dict) else None
        with _CACHE_LOCK:
            _TASK_CACHE[key] = tag if isinstance(tag, str) else None
        if not isinstance(tag, str):
            raise ValueError(f"model {self.repo_id!r} declares no task: pass task= to InferenceApi")
        return tag

    def __call__(
        self,
        inputs: str | list[str] | Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        data: bytes | None = None,
    ) -> Any:
        """Runs the model: `inputs` (text, list, or the input object's fields), `params`, or `data` (raw bytes)."""
        spec = TASKS[self.task]
        params = dict(params or {})
        unknown = [name for name in params if name not in spec.parameter_fields]
        if unknown:
            raise unknown_names(spec, unknown, spec.parameter_fields, what="parameter(s)")
        primary: Any = data if data is not None else inputs
        flags = {"multiple_masks": True} if self.task == "fill-mask" and _many_masks(primary) else {}
        # the classic API is hf-inference's: no provider lookup, unless the client names an endpoint or a provider
        client = self.client
        pinned = client.provider is None and client._endpoint is None and client._env_endpoint is None
        routing = {"provider": "hf-inference"} if pinned else {}
        return client.call(self.task, primary, **params, **flags, **routing, model=self.repo_id)


def _many_masks(text: Any) -> bool:
    return isinstance(text, str) and sum(text.count(m) for m in ("[MASK]", "<mask>")) > 1


def _unknown_task(task: str, repo_id: str) -> str:
    import difflib

    hint = difflib.get_close_matches(task, list(TASKS), n=1)
    suffix = f"; did you mean {hint[0]!r}?" if hint else ""
    return f"model {repo_id!r}: task {task!r} is not supported{suffix}"
