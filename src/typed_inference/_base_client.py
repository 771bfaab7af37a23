"""The client base: configuration, the call's stages (prepare, then the request once routed) and the retry plan;
routing lives in `providers/_client`, URL rules in `_urls`, tokens in `_auth`, retries in `_attempts`, I/O in the
transport."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from typed_inference._attempts import Attempts
from typed_inference._auth import USER_AGENT, Tokens, checked_headers
from typed_inference._errors import APIStatusError, Redactor, RequestValidationError
from typed_inference._generated.registry import TASKS
from typed_inference._logs import log_from_environment
from typed_inference._prepare import Prepared, json_payload, merge, plain, task_body
from typed_inference._status_errors import status_error
from typed_inference._urls import DEFAULT_HUB_URL, DEFAULT_ROUTER_URL, check_base, endpoint_url, environment_proxied
from typed_inference.providers._client import ProviderRouting
from typed_inference.providers._route import named_task
from typed_inference.transport import DEFAULT_MAX_RESPONSE_BYTES, AsyncResponse, Headers, Request, Response, RetryPolicy

if TYPE_CHECKING:
    from typed_inference._decode import DecodeContext
    from typed_inference._task import TaskSpec, ValidationMode
    from typed_inference.providers._route import Target


class BaseClient(ProviderRouting):
    """Everything a client does besides I/O: configuration, auth, routes, bodies, retries and errors."""

    def __init__(
        self,
        model: str | None = None,
        *,
        provider: str | None = None,
        token: str | None = None,
        base_url: str | None = None,
        router_url: str | None = None,
        hub_url: str | None = None,
        bill_to: str | None = None,
        provider_urls: Mapping[str, str] | None = None,
        timeout: float = 60.0,
        total_timeout: float = 300.0,
        max_retries: int | None = None,
        headers: Mapping[str, str] | None = None,
        response_validation: ValidationMode = "lenient",
        retry_policy: RetryPolicy | None = None,
        max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        if response_validation not in ("lenient", "strict", "off"):
            raise ValueError(f'response_validation must be "lenient", "strict" or "off", not {response_validation!r}')
        if base_url and provider is not None:
            raise ValueError(
                f"base_url= and provider={provider!r} together: base_url sends every call to that endpoint, provider "
                "routes calls through Inference Providers; pass one of the two"
            )
        if provider is not None and not isinstance(provider, str):
            raise ValueError(f"provider must be a provider name or 'auto', not {type(provider).__name__}")
        self.model = model
        self.provider = provider
        self.router_url = (router_url or os.environ.get("HF_ROUTER_URL") or DEFAULT_ROUTER_URL).rstrip("/")
        # an endpoint every call goes to: base_url=, else HF_INFERENCE_ENDPOINT (which a provider= call overrides)
        self._endpoint = base_url.rstrip("/") if base_url else None
        self._env_endpoint = (os.environ.get("HF_INFERENCE_ENDPOINT") or "").rstrip("/") or None
        self.base_url = self._endpoint or self._env_endpoint or f"{self.router_url}/hf-inference"
        self.hub_url = (hub_url or os.environ.get("HF_ENDPOINT") or DEFAULT_HUB_URL).rstrip("/")
        self.bill_to = bill_to
        self.provider_urls = {name: url.rstrip("/") for name, url in (provider_urls or {}).items()}
        for what, url in [
            ("base_url" if base_url else "HF_INFERENCE_ENDPOINT", self._endpoint or self._env_endpoint),
            ("router_url" if router_url else "HF_ROUTER_URL", self.router_url),
            ("hub_url" if hub_url else "HF_ENDPOINT", self.hub_url),
            *((f"provider_urls[{name!r}]", url) for name, url in self.provider_urls.items()),
        ]:
            check_base(what, url)
        # the ambient token: for every call without token=, and for the Hub and router beside a provider's own key
        self.tokens = Tokens(token, environment_proxied)  # the client's transport sets its own rule
        self.redactor = Redactor([self.tokens.explicit, self.tokens.ambient])
        self.redactor.watch_logs()
        self.timeout = timeout
        self.total_timeout = total_timeout
        # a copy: clients sharing a policy never change each other's; an explicit max_retries wins over the policy's
        self.retry = dataclasses.replace(retry_policy or RetryPolicy())
        if max_retries is not None:
            self.retry.max_retries = max_retries
        self.headers = Headers(headers or {})
        self.response_validation: ValidationMode = response_validation
        self.max_response_bytes = max_response_bytes
        log_from_environment()

    def __repr__(self) -> str:
        where = f"base_url={self.base_url!r}" if self._endpoint else f"provider={self.provider or 'auto'!r}"
        return f"{type(self).__name__}(model={self.model!r}, {where})"

    def url_for(self, spec: TaskSpec, model: str | None, base: str | None = None) -> str:
        """The URL a task call posts to on an endpoint (`base`, default `base_url`): model route, pipeline route,
        chat route, or a full-URL model."""
        return endpoint_url(spec, model or self.model, base or self.base_url)

    def auth_headers(self, url: str) -> dict[str, str]:
        """The Authorization header for a URL, by the token rules (explicit: any host; ambient: HF over https and
        loopback, and never in a request a proxy would carry over plain http: judged by the host contacted)."""
        return self.tokens.for_url(url)

    def base_headers(self, url: str) -> dict[str, str]:
        """Headers sent with every request to `url` (checked: `checked_headers`)."""
        return checked_headers(Headers({"User-Agent": USER_AGENT, **self.headers, **self.auth_headers(url)}))

    def redact(self, text: str) -> str:
        """The text with this client's tokens masked (a server may echo a request back in its error)."""
        return self.redactor.text(text)

    # -- the call's stages: prepare (no I/O), then, once routed, the request -------------------------------------
    def prepare(
        self,
        task: str,
        primary: Any,
        inputs: Mapping[str, Any],
        parameters: Mapping[str, Any],
        *,
        model: str | None,
        provider: str | None = None,
        wait_for_model: bool | None = None,
        use_cache: bool | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: float | None = None,
        flags: Mapping[str, Any] | None = None,
        stream: bool = False,
        progress: Any = None,
    ) -> Prepared:
        """The first stage of a call, with no I/O: the route's choice, the body validated against the task's input
        schema, files read, and every refusal decided before the Hub's mapping is read (`route_choice`); when the
        route still needs the mapping, also the checks finishing the request would make (headers, JSON, the named
        provider's body form), so that a mistake never waits for the network."""
        spec = TASKS[task]
        choice = self.route_choice(task, model, provider)
        named = named_task(task, choice)
        keep_url = choice.lookup if named is None else named.answer is not None  # a provider may fetch a URL
        body, binary, raw, content_type = task_body(
            spec,
            primary,
            inputs,
            parameters,
            chat_model=choice.model,
            extra_body=extra_body,
            stream=stream,
            keep_url=keep_url,
        )
        callback = None
        if progress is not None:
            from typed_inference.providers._jobs import progress_callback

            callback = progress_callback(progress)
        if choice.lookup:  # the Hub comes next: check now what `request_for` would only check after it
            if named is not None:
                from typed_inference.providers._body import check_input

                check_input(named, choice.provider or "", body, binary)
            if extra_headers:
                checked_headers(Headers(extra_headers))
            if self.tokens.key_kind == "direct":
                checked_headers(self.tokens.direct("Bearer"))
            json_payload(task, extra_body or {})
            if raw is None:
                json_payload(task, body)
        return Prepared(
            spec,
            choice,
            body,
            binary,
            raw,
            content_type,
            spec.batch and isinstance(primary, list),
            stream,
            primary,
            wait_for_model,
            use_cache,
            extra_headers,
            extra_body,
            timeout,
            flags,
            callback,
        )

    def request_for(self, call: Prepared, target: Target) -> tuple[Request, DecodeContext]:
        """The HTTP request of a prepared call to its target (`route_target`), and how to decode its answer."""
        from typed_inference._decode import DecodeContext

        spec, body, raw, content_type = call.spec, call.body, call.raw, call.content_type
        media = target.task is not None and target.task.answer is not None
        if isinstance(call.binary, str) and not media:  # a URL kept for "auto", which picked a route needing the file
            raise RequestValidationError(
                f"{spec.first_argument or 'inputs'}: {target.provider or 'the endpoint'} takes the file itself (bytes, "
                f"a path or a binary file object), not a URL: {call.binary[:80]!r}"
            )
        url = self.target_url(spec, target)
        extra_body = call.extra_body
        answer, events = None, None
        if media:  # a media task on a provider: its own body, a job
            from typed_inference.providers._media import media_payload

            assert target.task is not None and target.provider is not None and target.model is not None
            raw, content_type = media_payload(
                target.task,
                target.provider,
                target.model,
                body,
                call.binary,
                {k: plain(v) for k, v in (extra_body or {}).items()},
                entry=target.entry,
                hub_model=target.hub_model,
                hub_url=self.hub_url,
            )
            extra_body = None  # merged into the parameters, where the provider reads them
        elif target.task is not None:
            from typed_inference.providers._body import CompletionEvents, answer_mapper, provider_body

            assert target.provider is not None and target.model is not None
            body = provider_body(target.task, target.provider, target.model, body, call.stream)
            answer = answer_mapper(target.task, target.provider, call.batch)
            if call.stream and target.task.body == "completions":
                events = CompletionEvents(target.provider)
        elif target.kind == "provider":  # an unknown provider's chat: the OpenAI body with the Hub id as its model
            from typed_inference.providers._body import chat_body

            body = chat_body(body, target.model or "", None)
        if extra_body:
            merge(body, extra_body)
        headers = self.target_headers(url, target)
        payload = json_payload(spec.task, body) if raw is None else raw
        headers["Content-Type"] = content_type
        if call.wait_for_model is not None:
            headers["X-Wait-For-Model"] = "true" if call.wait_for_model else "false"
        if call.use_cache is not None:
            headers["X-Use-Cache"] = "true" if call.use_cache else "false"
        if call.stream:
            headers["Accept"] = "text/event-stream"
        if call.extra_headers:
            headers.update(call.extra_headers)
            checked_headers(headers)
        per_attempt = call.timeout if call.timeout is not None else self.timeout
        request = Request("POST", url, headers, payload, per_attempt, call.stream, max_bytes=self.max_response_bytes)
        ctx = DecodeContext(
            spec,
            call.batch,
            dict(call.flags or {}),
            self.response_validation,
            call.stream,
            self.redactor,
            answer,
            target.provider,
            events,
        )
        return request, ctx

    # -- errors and retries ---------------------------------------------------------------------------------------
    def status_error(self, response: Response | AsyncResponse, url: str) -> APIStatusError:
        """The typed error for an error response (`_status_errors.status_error`, with this client's tokens)."""
        return status_error(response, url, server_wait=self.retry.server_wait, redactor=self.redactor)

    def deadline(self, total_timeout: float | None = None) -> float:
        """The end of a call starting now, on the retry policy's clock: `total_timeout` (the call's, else the
        client's) from now."""
        return self.retry.clock() + (total_timeout if total_timeout is not None else self.total_timeout)

    def attempts(self, request: Request, deadline: float | None = None) -> Attempts:
        """The retry plan for one call: this client's policy and clock, its deadline (default `total_timeout` from
        now), its status errors."""
        return Attempts(
            request,
            policy=self.retry,
            deadline=deadline if deadline is not None else self.deadline(),
            clock=self.retry.clock,
            status_error=self.status_error,
            ambient=f"Bearer {self.tokens.ambient}" if self.tokens.ambient else None,
        )
