"""The client's provider routing: the route's choice, the Hub's provider mapping, the target's URL and headers,
and the job plan of a media call (the I/O-free part; the clients do the lookups and polls)."""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from typed_inference._auth import USER_AGENT, Tokens, checked_headers
from typed_inference._errors import InferenceError, Redactor, RequestValidationError, ResponseValidationError
from typed_inference._urls import endpoint_url, hub_model_path, redact_url
from typed_inference.providers._route import Choice, Target, choose, decided
from typed_inference.providers._route import target as resolved_target
from typed_inference.transport import AsyncResponse, Headers, Request, Response, RetryPolicy

if TYPE_CHECKING:  # the job, mapping and media machinery loads on the first call that needs it
    from typed_inference._task import TaskSpec
    from typed_inference.providers._jobs import JobRun
    from typed_inference.providers._mapping import ProviderMapping


class ProviderRouting:
    """Routing for `BaseClient`, which sets these attributes: endpoint, hf-inference, auto-router or a provider."""

    model: str | None
    provider: str | None
    base_url: str
    router_url: str
    hub_url: str
    provider_urls: dict[str, str]
    bill_to: str | None
    headers: Headers
    timeout: float
    max_response_bytes: int | None
    retry: RetryPolicy
    redactor: Redactor
    tokens: Tokens
    _endpoint: str | None  # base_url=: every call goes there
    _env_endpoint: str | None  # HF_INFERENCE_ENDPOINT: every call without provider=

    def route_choice(self, task: str, model: str | None, provider: str | None) -> Choice:
        """The first, I/O-free step of routing a call: endpoint, hf-inference, auto-router or a provider, and
        whether the Hub's provider mapping of the model is needed (`Choice.lookup`)."""
        asked = provider if provider is not None else self.provider
        endpoint = self._endpoint is not None or (asked is None and self._env_endpoint is not None)
        if self._endpoint is not None and provider is not None:
            raise RequestValidationError(
                f"{task}: provider={provider!r} on a client with base_url=: base_url sends every call to that "
                "endpoint; drop one of the two"
            )
        choice = choose(task, model or self.model, asked, key_kind=self.tokens.key_kind, endpoint=endpoint)
        if decided(choice):
            self._check_token(task, choice.kind, choice.provider, choice.auth)
        return choice

    def route_target(self, task: str, choice: Choice, entries: list[ProviderMapping] | None) -> Target:
        """The second step of routing: the target, once the mapping's entries are known (when `choice` asked)."""
        found = resolved_target(task, choice, entries)
        if not decided(choice):  # "auto" picked the provider from the mapping: its token rule applies now
            self._check_token(task, found.kind, found.provider, found.auth)
        return found

    def _check_token(self, task: str, kind: str, provider: str | None, auth: str) -> None:
        """Refuses a routed call to a provider other than hf-inference (or to the auto-router) without a token."""
        if auth == "routed" and provider != "hf-inference" and not self.tokens.hf(self.router_url):
            where = "the auto-router" if kind == "auto-router" else f"provider {provider!r}"
            raise RequestValidationError(
                f"{task}: {where} needs a token: pass token= (an hf_ token, or that provider's own key) or set "
                f"HF_TOKEN (or log in: the token file) — calls to {self.router_url} are billed to a Hugging Face "
                "account"
            )

    # -- the Hub's provider mapping ------------------------------------------------------------------------------
    def mapping_request(self, model: str) -> tuple[Request, tuple[str, str, str]]:
        """The Hub request for a model's provider mapping, and its key in the process's mapping cache."""
        from typed_inference.providers._mapping import MAPPINGS, mapping_path

        url = self.hub_url + mapping_path(hub_model_path(model))
        auth = self.tokens.hf(url)
        token = auth.get("Authorization", "").removeprefix("Bearer ") or None
        headers = checked_headers(Headers({"User-Agent": USER_AGENT, **self.headers, **auth}))
        request = Request("GET", url, headers, None, self.timeout, max_bytes=self.max_response_bytes)
        return request, MAPPINGS.key(self.hub_url, model, token)

    def mapping_from(self, response: Response | AsyncResponse, request: Request, model: str) -> list[ProviderMapping]:
        """The entries of the Hub's answer to `mapping_request`."""
        from typed_inference.providers._mapping import parse_mapping

        try:
            data = json.loads(response.content)
        except (ValueError, RecursionError) as exc:
            raise self.redactor.error(
                ResponseValidationError(
                    f"the Hub's provider mapping of {model!r} ({redact_url(request.url)}): not valid JSON: {exc}",
                    status_code=response.status_code,
                    body=response.content,
                )
            ) from None
        return parse_mapping(data, model, redact_url(request.url))

    def hub_error(self, exc: InferenceError, model: str) -> InferenceError:
        """A Hub error of the mapping lookup, its message saying what was looked up where (`hub_url`)."""
        exc.message = f"looking up the inference providers of {model!r} on the Hub ({self.hub_url}): {exc}"
        exc.args = (exc.message,)  # str() reads `message`: setting args alone left the text unchanged
        return exc

    # -- the target's URL, headers and job -----------------------------------------------------------------------
    def target_url(self, spec: TaskSpec, found: Target) -> str:
        """The URL a routed or direct call posts to."""
        if found.kind == "endpoint":
            return endpoint_url(spec, found.model or self.model, self.base_url)
        if found.kind == "hf-inference":
            return endpoint_url(spec, found.hub_model or self.model, f"{self.router_url}/hf-inference")
        if found.kind == "auto-router":
            return f"{self.router_url}/v1/chat/completions"
        assert found.provider is not None
        if found.task is None:  # an unknown provider's chat: its OpenAI route on the router
            return f"{self.router_url}/{quote(found.provider, safe='')}/v1/chat/completions"
        from typed_inference.providers._media import route as media_route

        path = media_route(found.task, found.model or "")
        if found.task.job == "fal-queue":  # fal-ai's queue: its own host direct, a query routed
            if found.auth == "direct":
                return self.job_base(found) + path
            return f"{self.router_url}/{found.provider}{path}?_subdomain=queue"
        if found.auth == "direct":
            assert found.spec is not None and found.spec.base_url is not None
            return self.provider_urls.get(found.provider, found.spec.base_url) + path
        return f"{self.router_url}/{found.provider}{path}"

    def target_headers(self, url: str, found: Target) -> dict[str, str]:
        """The headers of a call to `url`: the token by the route's rule, bill-to on routed calls, provider headers."""
        if found.auth == "endpoint":
            auth = self.tokens.for_url(url)
        elif found.auth == "direct":
            assert found.spec is not None
            auth = self.tokens.direct("Key" if found.spec.auth == "key" else "Bearer")
            if self.bill_to:
                warnings.warn(
                    f"bill_to={self.bill_to!r} is not sent on a direct call to {found.provider!r} (with its own key, "
                    "the provider bills you): it applies to calls routed through Hugging Face",
                    stacklevel=5,
                )
        else:
            auth = self.tokens.hf(url)
        extra: Mapping[str, str] = dict(found.spec.headers) if found.spec is not None else {}
        if self.bill_to and found.auth == "routed":
            extra = {**extra, "X-HF-Bill-To": self.bill_to}
        return checked_headers(Headers({"User-Agent": USER_AGENT, **extra, **self.headers, **auth}))

    def job_base(self, found: Target) -> str:
        """Where a provider job's polls go: the router's prefix of the provider when routed, else the provider's
        own host (fal-ai's queue host, `provider_urls["fal-ai/queue"]`, for its queue tasks)."""
        assert found.provider is not None and found.spec is not None
        if found.auth != "direct":
            return f"{self.router_url}/{found.provider}"
        if found.task is not None and found.task.job == "fal-queue":
            queue = f"{found.provider}/queue"
            return self.provider_urls.get(queue, found.spec.queue_url or found.spec.base_url or "")
        return self.provider_urls.get(found.provider, found.spec.base_url or "")

    def job(self, task: str, found: Target, submit: Request, deadline: float, progress: Any = None) -> JobRun:
        """The job runner's plan of a media call on a provider (`found.task.answer` set), from its submit request."""
        from typed_inference.providers._jobs import JobRun, progress_callback

        assert found.task is not None and found.provider is not None
        return JobRun(
            task=task,
            spec=found.task,
            provider=found.provider,
            submit=submit,
            base=self.job_base(found),
            clock=self.retry.clock,
            deadline=deadline,
            server_wait=self.retry.server_wait,
            user_agent=USER_AGENT,
            progress=progress_callback(progress),
        )
