"""Configuration, request building, the retry loop and status → error mapping; I/O stays in the transport."""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import logging
import os
import re
import time
import warnings
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import quote, urlsplit

from typed_inference._decode import DecodeContext, ValidationMode
from typed_inference._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    InferenceError,
    ModelLoadingError,
    Redactor,
    RedirectError,
    RequestValidationError,
    ResponseValidationError,
    status_error_class,
)
from typed_inference._generated.registry import TASKS
from typed_inference._logs import log_from_environment
from typed_inference._prepare import Prepared, json_payload, merge, plain, task_body
from typed_inference._task import TaskSpec
from typed_inference._version import __version__
from typed_inference.providers._body import CompletionEvents, answer_mapper, chat_body, check_input, provider_body
from typed_inference.providers._jobs import JobRun, progress_callback
from typed_inference.providers._mapping import MAPPINGS, ProviderMapping, mapping_path, parse_mapping
from typed_inference.providers._media import media_payload
from typed_inference.providers._media import route as media_route
from typed_inference.providers._route import Choice, Target, choose, decided, named_task
from typed_inference.providers._route import target as resolved_target
from typed_inference.transport import (
    RETRY_STATUSES,
    AsyncResponse,
    Headers,
    ReadTimeout,
    Request,
    Response,
    ResponseTooLarge,
    RetryPolicy,
    TransportError,
    TransportTimeout,
    estimated_time,
)

logger = logging.getLogger("typed_inference")

DEFAULT_ROUTER_URL = "https://router.huggingface.co"
DEFAULT_BASE_URL = f"{DEFAULT_ROUTER_URL}/hf-inference"
DEFAULT_HUB_URL = "https://huggingface.co"
USER_AGENT = f"typed-inference/{__version__}"
_HF_SUFFIXES = (".huggingface.co", ".hf.co", ".huggingface.cloud")


def ambient_token() -> str | None:
    """The token from HF_TOKEN, else from the token file ($HF_HOME/token, default ~/.cache/huggingface/token)."""
    token = os.environ.get("HF_TOKEN", "").strip()
    if token:
        return token
    home = os.environ.get("HF_HOME") or os.path.join(os.path.expanduser("~"), ".cache", "huggingface")
    try:
        token = Path(home, "token").read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return token or None


def is_loopback(host: str) -> bool:
    """Whether a host name is this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _ambiguous(url: str) -> bool:
    """Whether HTTP stacks may read another host in a URL than urlsplit does (a backslash, a user-info part)."""
    parts = urlsplit(url)
    return "\\" in url or parts.username is not None or parts.password is not None


def is_loopback_url(url: str) -> bool:
    """Whether a URL unambiguously names this machine (such requests never go through a proxy)."""
    return not _ambiguous(url) and is_loopback((urlsplit(url).hostname or "").lower())


def ambient_token_allowed(url: str) -> bool:
    """An ambient token goes only to Hugging Face hosts over https, and to loopback."""
    parts = urlsplit(url)
    if _ambiguous(url):
        return False  # parsers disagree on such URLs' host (requests may connect elsewhere than urlsplit says)
    host = (parts.hostname or "").lower()
    if is_loopback(host):
        return True
    hf = host in ("huggingface.co", "hf.co") or host.endswith(_HF_SUFFIXES)
    return hf and parts.scheme == "https"


_HUB_NAME = r"[A-Za-z0-9][A-Za-z0-9._-]*"
_HUB_ID = re.compile(rf"{_HUB_NAME}(?:/{_HUB_NAME})?(?::{_HUB_NAME})?")


def is_hub_url(url: str) -> bool:
    """Whether a base URL is Hugging Face's (the router, the Inference API, the Hub), where model ids are Hub ids."""
    host = (urlsplit(url).hostname or "").lower()
    return host in ("huggingface.co", "hf.co") or host.endswith((".huggingface.co", ".hf.co"))


def hub_model_path(model_id: str) -> str:
    """A Hub model id as a URL path: one or two names (`model`, `org/model`) of letters, digits, `.`, `_` and `-`,
    each starting with a letter or digit, and an optional `:suffix` (`org/model:provider`, `:fastest`); anything
    else could retarget the request (`../../api/whoami-v2`), so it is a RequestValidationError before sending."""
    if not _HUB_ID.fullmatch(model_id):
        raise RequestValidationError(
            f"invalid model id {model_id!r}: a Hub model id is 'name' or 'org/name' (letters, digits, '.', '_', '-', "
            "each part starting with a letter or digit), optionally followed by ':suffix'"
        )
    return quote(model_id, safe="/")


def _segments(model_id: str, kind: str) -> None:
    """Rejects ids with an empty, `.` or `..` path segment (they would move the request to another path)."""
    bad = [part for part in model_id.split("/") if part in ("", ".", "..")]
    if bad:
        found = "an empty segment" if "" in bad else f"a {bad[0]!r} segment"
        raise RequestValidationError(
            f"invalid {kind} {model_id!r}: it has {found} (it would send the request to another path)"
        )


def endpoint_model_path(model_id: str) -> str:
    """A model id for a `base_url` endpoint (the local server, TGI) as a URL path: any non-empty segments but
    `.` and `..`, percent-quoted but for `/`."""
    _segments(model_id, "model id")
    return quote(model_id, safe="/")


def provider_model_path(model_id: str) -> str:
    """A provider's model id (from a provider mapping) as a URL path: any number of non-empty segments, none `.` or
    `..`; characters other than `A-Za-z0-9._~-`, `/` and `:` are percent-quoted."""
    _segments(model_id, "provider model id")
    return quote(model_id, safe="/:")


H = TypeVar("H", bound=Mapping[str, str])
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_BAD_VALUE = re.compile(r"[^\t\x20-\x7e]")


def checked_headers(headers: H) -> H:
    """The headers, unchanged, once each is one header: a token name and a value of printable ASCII on one line.

    A CR or LF would end the header (and smuggle others in: a token pasted with its newline); HTTP stacks refuse
    them with their own untyped errors, and do not agree on characters beyond ASCII. The message never quotes a
    value (it may be a token)."""
    for name, value in headers.items():
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            raise RequestValidationError(
                f"invalid header name {name!r}: a header name is letters, digits and !#$%&'*+-.^_`|~"
            )
        if not isinstance(value, str):
            raise RequestValidationError(f"header {name!r}: the value must be a string, not {type(value).__name__}")
        bad = _BAD_VALUE.search(value)
        if bad is not None:
            char = bad.group()
            what = (
                "a line break (CR or LF)"
                if char in "\r\n"
                else (
                    f"the control character {char!r}"
                    if char < " " or char == "\x7f"
                    else f"the non-ASCII character {char!r}"
                )
            )
            hint = " (is the token, or HF_TOKEN, pasted with a newline?)" if name.lower() == "authorization" else ""
            raise RequestValidationError(
                f"header {name!r}: the value contains {what} at position {bad.start()}; a header value is one line of "
                f"printable ASCII{hint}"
            )
    return headers


def environment_proxied(url: str) -> bool:
    """Whether the proxy environment variables (`HTTP_PROXY`, `ALL_PROXY`, … less `NO_PROXY`) name a proxy for `url`:
    what requests and httpx do by default, assumed for a transport that does not say (`proxied`)."""
    import urllib.request

    parts = urlsplit(url)
    proxies = urllib.request.getproxies_environment()
    if not (proxies.get(parts.scheme) or proxies.get("all")):
        return False
    bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]  # public, missing from typeshed
    return not bypass(parts.netloc.rpartition("@")[2], proxies)


def server_message(body: bytes, content_type: str) -> tuple[str, str | None]:
    """The server's error message and error_type from any of the error body forms the service sends."""
    text = body.decode("utf-8", "replace").strip()
    if "html" in content_type or text.lower().startswith(("<!doctype", "<html")):
        title = re.search(r"<title>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
        return (f"HTML error page: {title.group(1).strip()}" if title else "HTML error page"), None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # not JSON, or nested too deeply to parse: the text itself
        return (text[:500] or "(empty body)"), None
    if isinstance(data, dict):
        error = data.get("error", data.get("message", data.get("detail")))
        error_type = data.get("error_type")
        if isinstance(error, list):
            error = "; ".join(str(e) for e in error)
        elif isinstance(error, dict):
            error = error.get("message", json.dumps(error))
        return (str(error) if error is not None else text[:500]), (str(error_type) if error_type else None)
    return text[:500], None


def _check_base(what: str, url: str | None) -> None:
    """A ValueError at construction for a base URL that is not http(s) with a host (a typo would otherwise fail
    only at the first call, in the HTTP stack's own words)."""
    if url is None:
        return
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{what} must be an http:// or https:// URL with a host, not {url!r}")


class BaseClient:
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
        max_response_bytes: int | None = None,
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
            _check_base(what, url)
        self._explicit_token = token
        # the ambient token: for every call without token=, and for the Hub and router beside a provider's own key
        self._ambient_token = None if token and token.startswith("hf_") else ambient_token()
        self.redactor = Redactor([self._explicit_token, self._ambient_token])
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

    # -- routes and headers ---------------------------------------------------------------------------------------
    def url_for(self, spec: TaskSpec, model: str | None, base: str | None = None) -> str:
        """The URL a task call posts to on an endpoint (`base`, default `base_url`): model route, pipeline route,
        chat route, or a full-URL model."""
        model = model or self.model
        base = base or self.base_url
        if not model:
            raise RequestValidationError(
                f"{spec.task}: no model given: pass model= to the method or to the client (a model id or a URL)"
            )
        if model.startswith(("http://", "https://")):
            url = model.rstrip("/")
            if spec.route == "chat" and not url.endswith("/v1/chat/completions"):
                url += "/v1/chat/completions"
            return url
        quoted = hub_model_path(model) if is_hub_url(base) else endpoint_model_path(model)
        if spec.route == "pipeline":
            if "api-inference.huggingface.co" in base:
                return f"{base}/pipeline/{spec.task}/{quoted}"
            return f"{base}/models/{quoted}/pipeline/{spec.task}"
        if spec.route == "chat":
            return f"{base}/models/{quoted}/v1/chat/completions"
        return f"{base}/models/{quoted}"

    # -- providers: which route a call takes ----------------------------------------------------------------------
    def route_choice(self, task: str, model: str | None, provider: str | None) -> Choice:
        """The first, I/O-free step of routing a call: endpoint, hf-inference, auto-router or a provider, and
        whether the Hub's provider mapping of the model is needed (`Choice.lookup`)."""
        explicit = self._explicit_token
        key_kind: Literal["hf", "direct", "none"] = (
            "none" if not explicit else "hf" if explicit.startswith("hf_") else "direct"
        )
        asked = provider if provider is not None else self.provider
        endpoint = self._endpoint is not None or (asked is None and self._env_endpoint is not None)
        if self._endpoint is not None and provider is not None:
            raise RequestValidationError(
                f"{task}: provider={provider!r} on a client with base_url=: base_url sends every call to that "
                "endpoint; drop one of the two"
            )
        choice = choose(task, model or self.model, asked, key_kind=key_kind, endpoint=endpoint)
        if decided(choice):
            self._check_token(task, choice.kind, choice.provider, choice.auth)
        return choice

    def hf_auth(self, url: str) -> dict[str, str]:
        """The Authorization header with the HF token for the router or the Hub: token= when it is an hf_ token,
        else the ambient one where its host rule allows (`auth_headers`)."""
        explicit = self._explicit_token
        if explicit and explicit.startswith("hf_"):
            return {"Authorization": f"Bearer {explicit}"}
        return self._ambient_auth(url)

    def mapping_request(self, model: str) -> tuple[Request, tuple[str, str, str]]:
        """The Hub request for a model's provider mapping, and its key in the process's mapping cache."""
        url = self.hub_url + mapping_path(hub_model_path(model))
        auth = self.hf_auth(url)
        token = auth.get("Authorization", "").removeprefix("Bearer ") or None
        headers = checked_headers(Headers({"User-Agent": USER_AGENT, **self.headers, **auth}))
        request = Request("GET", url, headers, None, self.timeout, max_bytes=self.max_response_bytes)
        return request, MAPPINGS.key(self.hub_url, model, token)

    def mapping_from(self, response: Response | AsyncResponse, request: Request, model: str) -> list[ProviderMapping]:
        """The entries of the Hub's answer to `mapping_request`."""
        try:
            data = json.loads(response.content)
        except (ValueError, RecursionError) as exc:
            raise self.redactor.error(
                ResponseValidationError(
                    f"the Hub's provider mapping of {model!r} ({_redact_url(request.url)}): not valid JSON: {exc}",
                    status_code=response.status_code,
                    body=response.content,
                )
            ) from None
        return parse_mapping(data, model, _redact_url(request.url))

    def hub_error(self, exc: InferenceError, model: str) -> InferenceError:
        """A Hub error of the mapping lookup, its message saying what was looked up where (`hub_url`)."""
        exc.message = f"looking up the inference providers of {model!r} on the Hub ({self.hub_url}): {exc}"
        exc.args = (exc.message,)  # str() reads `message`: setting args alone left the text unchanged
        return exc

    def route_target(self, task: str, choice: Choice, entries: list[ProviderMapping] | None) -> Target:
        """The second step of routing: the target, once the mapping's entries are known (when `choice` asked)."""
        found = resolved_target(task, choice, entries)
        if not decided(choice):  # "auto" picked the provider from the mapping: its token rule applies now
            self._check_token(task, found.kind, found.provider, found.auth)
        return found

    def _check_token(self, task: str, kind: str, provider: str | None, auth: str) -> None:
        """Refuses a routed call to a provider other than hf-inference (or to the auto-router) without a token."""
        if auth == "routed" and provider != "hf-inference" and not self.hf_auth(self.router_url):
            where = "the auto-router" if kind == "auto-router" else f"provider {provider!r}"
            raise RequestValidationError(
                f"{task}: {where} needs a token: pass token= (an hf_ token, or that provider's own key) or set "
                f"HF_TOKEN (or log in: the token file) — calls to {self.router_url} are billed to a Hugging Face "
                "account"
            )

    def target_url(self, spec: TaskSpec, found: Target) -> str:
        """The URL a routed or direct call posts to."""
        if found.kind == "endpoint":
            return self.url_for(spec, found.model)
        if found.kind == "hf-inference":
            return self.url_for(spec, found.hub_model, f"{self.router_url}/hf-inference")
        if found.kind == "auto-router":
            return f"{self.router_url}/v1/chat/completions"
        assert found.provider is not None
        if found.task is None:  # an unknown provider's chat: its OpenAI route on the router
            return f"{self.router_url}/{quote(found.provider, safe='')}/v1/chat/completions"
        path = media_route(found.task, found.model or "")
        if found.task.job == "fal-queue":  # fal-ai's queue: its own host direct, a query routed
            if found.auth == "direct":
                return self.job_base(found) + path
            return f"{self.router_url}/{found.provider}{path}?_subdomain=queue"
        if found.auth == "direct":
            assert found.spec is not None and found.spec.base_url is not None
            return self.provider_urls.get(found.provider, found.spec.base_url) + path
        return f"{self.router_url}/{found.provider}{path}"

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

    def target_headers(self, url: str, found: Target) -> dict[str, str]:
        """The headers of a call to `url`: the token by the route's rule, bill-to on routed calls, provider headers."""
        if found.auth == "endpoint":
            return self.base_headers(url)
        if found.auth == "direct":
            assert found.spec is not None and self._explicit_token is not None
            scheme = "Key" if found.spec.auth == "key" else "Bearer"
            auth = {"Authorization": f"{scheme} {self._explicit_token}"}
            if self.bill_to:
                warnings.warn(
                    f"bill_to={self.bill_to!r} is not sent on a direct call to {found.provider!r} (with its own key, "
                    "the provider bills you): it applies to calls routed through Hugging Face",
                    stacklevel=5,
                )
        else:
            auth = self.hf_auth(url)
        extra = dict(found.spec.headers) if found.spec is not None else {}
        if self.bill_to and found.auth == "routed":
            extra["X-HF-Bill-To"] = self.bill_to
        return checked_headers(Headers({"User-Agent": USER_AGENT, **extra, **self.headers, **auth}))

    def auth_headers(self, url: str) -> dict[str, str]:
        """The Authorization header for a URL, by the token rules (explicit: any host; ambient: HF over https and
        loopback, and never in a request a proxy would carry over plain http: judged by the host contacted)."""
        if self._explicit_token:
            return {"Authorization": f"Bearer {self._explicit_token}"}
        return self._ambient_auth(url)

    def _ambient_auth(self, url: str) -> dict[str, str]:
        """The ambient token's Authorization header where its host rule allows `url` (HF over https, loopback; not
        in a plain-http request a proxy would carry), else none."""
        if self._ambient_token and ambient_token_allowed(url):
            if urlsplit(url).scheme != "https" and self._proxied(url):
                return {}
            return {"Authorization": f"Bearer {self._ambient_token}"}
        return {}

    def _proxied(self, url: str) -> bool:
        """Whether the transport sends `url` through a proxy: its `proxied(url)`, else the environment's rule."""
        check = getattr(getattr(self, "_transport", None), "proxied", None)
        return bool(check(url)) if callable(check) else environment_proxied(url)

    def redact(self, text: str) -> str:
        """The text with this client's tokens masked (a server may echo a request back in its error)."""
        return self.redactor.text(text)

    def redact_bytes(self, data: bytes) -> bytes:
        """`redact` for a raw body."""
        return self.redactor.data(data)

    def base_headers(self, url: str) -> dict[str, str]:
        """Headers sent with every request to `url` (checked: `checked_headers`)."""
        return checked_headers(Headers({"User-Agent": USER_AGENT, **self.headers, **self.auth_headers(url)}))

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
        callback = progress_callback(progress)
        if choice.lookup:  # the Hub comes next: check now what `request_for` would only check after it
            if named is not None:
                check_input(named, choice.provider or "", body, binary)
            if extra_headers:
                checked_headers(Headers(extra_headers))
            if self._explicit_token and not self._explicit_token.startswith("hf_"):
                checked_headers({"Authorization": f"Bearer {self._explicit_token}"})
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
            assert target.provider is not None and target.model is not None
            body = provider_body(target.task, target.provider, target.model, body, call.stream)
            answer = answer_mapper(target.task, target.provider, call.batch)
            if call.stream and target.task.body == "completions":
                events = CompletionEvents(target.provider)
        elif target.kind == "provider":  # an unknown provider's chat: the OpenAI body with the Hub id as its model
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
        """The typed error for an error response."""
        content_type = response.headers.get("content-type", "")
        message, error_type = server_message(response.content, content_type)
        header = response.headers.get("x-error-message")
        if header and (not response.content.strip() or message == response.content.decode("utf-8", "replace")[:500]):
            message = header  # the router's message, where the body holds none of the error forms
        wait = self.retry.server_wait(response.headers, response.content)
        loading = response.status_code == 503 and (
            estimated_time(response.content) is not None or "loading" in message.lower()
        )
        cls = status_error_class(response.status_code, loading=loading)
        request_id = response.headers.get("x-request-id")
        text = f"{response.status_code} from {_redact_url(url)}: {message}"
        if cls is RedirectError:
            from urllib.parse import urljoin

            target = self.redact(_redact_url(urljoin(url, response.headers.get("location", ""))))
            text = (
                f"{response.status_code} from {_redact_url(url)}: redirected to {target}, which would turn this POST"
                " into a GET: not followed (call that URL directly)"
            )
        if request_id:
            text += f" (request id {request_id})"
        error = cls(
            text,
            status_code=response.status_code,
            server_message=message,
            headers=response.headers,
            body=response.content,
            error_type=error_type,
            retry_after=wait,
        )
        return self.redactor.error(error)  # masked before the retry rule logs it

    def deadline(self, total_timeout: float | None = None) -> float:
        """The end of a call starting now, on the retry policy's clock: `total_timeout` (the call's, else the
        client's) from now."""
        return self.retry.clock() + (total_timeout if total_timeout is not None else self.total_timeout)

    def attempts(self, request: Request, deadline: float | None = None) -> Attempts:
        """The retry plan for one call: this client's policy and clock, its deadline (default `total_timeout` from
        now), its status errors."""
        clock = self.retry.clock
        return Attempts(
            request,
            policy=self.retry,
            deadline=deadline if deadline is not None else self.deadline(),
            clock=clock,
            status_error=self.status_error,
            ambient=f"Bearer {self._ambient_token}" if self._ambient_token else None,
        )


_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_METHOD_CHANGING = frozenset({301, 302, 303})  # clients re-send these as GET: never an inference call's POST
MAX_REDIRECTS = 5
ROUTER_HOST = "router.huggingface.co"
WAIT_FOR_MODEL = "X-Wait-For-Model"


def waits_for_model(url: str) -> bool:
    """Whether a loading 503 from `url` is retried at once with `X-Wait-For-Model: true`: hf-inference's route on
    the router (`/hf-inference/...`), or a custom endpoint (any other host: `base_url`, a URL model). Other
    providers' routes and the auto-router do not take the header."""
    parts = urlsplit(url)
    if (parts.hostname or "").lower().rstrip(".") == ROUTER_HOST:
        return parts.path.startswith("/hf-inference/")
    return True


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value, whatever the letter case of its name."""
    lowered = name.lower()
    return next((value for key, value in headers.items() if key.lower() == lowered), None)


StatusErrorFactory = Callable[[Response | AsyncResponse, str], APIStatusError]


@dataclasses.dataclass(frozen=True)
class Step:
    """What the client does after an attempt: return the response, sleep `wait` and retry, retry at once
    ("resend": a loading model's request, now asking the service to hold it), follow a redirect, or raise `error`
    (closing the response first, in every case but "done")."""

    action: Literal["done", "retry", "resend", "redirect", "fail"]
    wait: float = 0.0
    error: InferenceError | None = None


class Attempts:
    """The retry rule applied to one call, I/O-free: sync and async clients run the same plan with their own I/O.

    It owns its inputs: the request, the retry policy, the deadline (on `clock`), a factory for the typed error
    of an error response, and the Authorization value of an ambient token (`ambient`, None for an explicit token).
    Each attempt gets a copy of the request; nothing handed in is changed.
    """

    def __init__(
        self,
        request: Request,
        *,
        policy: RetryPolicy,
        deadline: float,
        clock: Callable[[], float],
        status_error: StatusErrorFactory,
        ambient: str | None = None,
    ) -> None:
        self.request = request
        self.ambient = ambient  # the Authorization value an ambient token gives: its host rule holds on every hop
        self.policy = policy
        self.deadline = deadline
        self.clock = clock
        self.status_error = status_error
        self.per_attempt = request.timeout
        self.total = round(deadline - clock(), 3)
        self.attempt = 0
        self.redirects = 0
        self.holding = False  # the client asked the service to hold the request until the model is loaded

    def next_request(self) -> Request:
        """The request for the next attempt, its socket timeout capped by what is left of `total_timeout` (and
        that whole time when the service holds the request while the model loads)."""
        remaining = self.deadline - self.clock()
        if remaining <= 0:
            raise APITimeoutError(f"total_timeout of {self.total:g} s passed after {self.attempt} attempt(s)")
        timeout = min(self.per_attempt, remaining) if self.per_attempt is not None and not self.holding else remaining
        return dataclasses.replace(self.request, timeout=timeout, deadline=time.monotonic() + remaining)

    def outcome(self, response: Response | AsyncResponse | None, error: TransportError | None) -> Step:
        """What to do after an attempt that returned `response` or raised `error`.

        Enforced here whatever the transport did: a whole body over `max_bytes` is an error, and so is a success
        that arrived after the deadline.
        """
        if response is not None:
            limit = self.request.max_bytes
            if limit is not None and response.chunks is None and len(response.content) > limit:
                response, error = None, ResponseTooLarge(limit)
        if response is None:
            assert error is not None
            return self._after_error(error)
        if response.status_code in _REDIRECTS and "location" in response.headers:
            if response.status_code in _METHOD_CHANGING and self.request.method not in ("GET", "HEAD"):
                return Step("fail", error=self.status_error(response, self.request.url))
            self.redirects += 1
            if self.redirects > MAX_REDIRECTS:
                return Step("fail", error=APIConnectionError(f"too many redirects ({_redact_url(self.request.url)})"))
            try:
                self.request = _redirected(self.request, response.headers["location"], self.ambient)
            except APIConnectionError as refused:
                return Step("fail", error=refused)
            return Step("redirect")
        if response.status_code < 400:
            if self.clock() > self.deadline:
                return Step(
                    "fail",
                    error=APITimeoutError(
                        f"total_timeout of {self.total:g} s passed before the response of attempt {self.attempt + 1}"
                        f" arrived ({_redact_url(self.request.url)})"
                    ),
                )
            return Step("done")
        exc = self.status_error(response, self.request.url)
        if response.status_code not in RETRY_STATUSES or self.attempt >= self.policy.max_retries:
            return Step("fail", error=exc)
        if isinstance(exc, ModelLoadingError):
            wait_for_model = (_header(self.request.headers, WAIT_FOR_MODEL) or "").strip().lower()
            if wait_for_model == "false":  # the caller asked not to wait for the model
                return Step("fail", error=exc)
            if wait_for_model != "true" and waits_for_model(self.request.url):
                return self._hold()
        wait = exc.retry_after if exc.retry_after is not None else self.policy.backoff(self.attempt)
        return self._retry(wait, exc)

    def _hold(self) -> Step:
        """The loading model's request again, at once, asking the service to hold it until the model is ready."""
        logger.debug(
            "retrying %s at once with %s: true (attempt %d: the model is loading)",
            _redact_url(self.request.url),
            WAIT_FOR_MODEL,
            self.attempt + 1,
        )
        headers = {k: v for k, v in self.request.headers.items() if k.lower() != WAIT_FOR_MODEL.lower()}
        self.request = dataclasses.replace(self.request, headers={**headers, WAIT_FOR_MODEL: "true"})
        self.holding = True
        self.attempt += 1
        return Step("resend")

    def check_stream(self, size: int, limit: int | None, *, at_deadline: bool = False) -> None:
        """Raises when a streamed body of `size` bytes so far breaks a limit: `max_bytes`, or the deadline."""
        if limit is not None and size > limit:
            raise ResponseTooLarge(limit)
        if at_deadline or self.clock() > self.deadline:
            raise ReadTimeout(f"total_timeout of {self.total:g} s passed while the stream was arriving")

    def _after_error(self, error: TransportError) -> Step:
        url = _redact_url(self.request.url)
        kind = APITimeoutError if isinstance(error, TransportTimeout) else APIConnectionError
        exc = kind(f"{error} ({url}, attempt {self.attempt + 1})")
        if not error.retryable or self.attempt >= self.policy.max_retries:
            return Step("fail", error=exc)
        return self._retry(self.policy.backoff(self.attempt), exc)

    def _retry(self, wait: float, exc: InferenceError) -> Step:
        """A retry after `wait`, unless it would start past the deadline: then `exc`."""
        if self.clock() + wait > self.deadline:
            return Step("fail", error=exc)
        logger.info(
            "retrying %s %s in %.1f s (attempt %d of %d): %s",
            self.request.method,
            _redact_url(self.request.url),
            wait,
            self.attempt + 2,
            self.policy.max_retries + 1,
            _retry_reason(exc),
        )
        self.attempt += 1
        return Step("retry", wait)


def bounded_chunks(chunks: Iterator[bytes], attempts: Attempts) -> Iterator[bytes]:
    """A streamed body within the call's limits, whatever the transport: `max_response_bytes` on the whole streamed
    body, and `total_timeout` on the stream's life (a chunk arriving after it, a keep-alive comment too, ends it)."""
    limit, size = attempts.request.max_bytes, 0
    for chunk in chunks:
        size += len(chunk)
        attempts.check_stream(size, limit)
        yield chunk


async def async_bounded_chunks(chunks: AsyncIterator[bytes], attempts: Attempts) -> AsyncIterator[bytes]:
    """`bounded_chunks` for an async stream; a stall is cut at the deadline too (not only at the next chunk)."""
    import asyncio

    limit, size = attempts.request.max_bytes, 0
    iterator = aiter(chunks)
    while True:
        try:
            chunk = await asyncio.wait_for(anext(iterator), max(0.0, attempts.deadline - attempts.clock()))
        except StopAsyncIteration:
            return
        except asyncio.TimeoutError:
            attempts.check_stream(size, limit, at_deadline=True)
            raise  # pragma: no cover - check_stream raised
        size += len(chunk)
        attempts.check_stream(size, limit)
        yield chunk


def _retry_reason(exc: InferenceError) -> str:
    """Why an attempt is retried, for the log line: `429 rate limited`, `connection refused`.

    The status and the server's message (tokens already masked), or a transport error without the URL and attempt
    number the log line gives anyway.
    """
    if isinstance(exc, APIStatusError):
        return f"{exc.status_code} {exc.server_message[:200]}".strip()
    return re.sub(r" \([^()]*, attempt \d+\)$", "", str(exc))


def _validated_location(url: str, location: str) -> str:
    """The absolute URL a redirect's `Location` names, relative to `url`, once it is one the client can follow: http
    or https, a host, a port in 1-65535, no whitespace, control character or backslash (HTTP stacks disagree on
    those). Else an APIConnectionError saying why: a hostile `Location` must not end in an untyped error."""
    from urllib.parse import urljoin

    def refused(reason: str) -> APIConnectionError:
        return APIConnectionError(f"redirect to an invalid Location {location[:200]!r}: {reason} ({_redact_url(url)})")

    if re.search(r"[\x00-\x20\x7f\\]", location):
        raise refused("it contains whitespace, a control character or a backslash")
    try:
        target = urljoin(url, location)
        parts = urlsplit(target)
        port = parts.port
    except ValueError as exc:  # "Invalid IPv6 URL", "Port out of range 0-65535", ...
        raise refused(str(exc)) from None
    if parts.scheme not in ("http", "https"):
        raise refused(f"only http and https are followed, not {parts.scheme + ':' if parts.scheme else 'no scheme'}")
    if not parts.hostname:
        raise refused("it names no host")
    if port == 0:
        raise refused("port 0")
    return target


def _redirected(request: Request, location: str, ambient: str | None = None) -> Request:
    """The request to follow a redirect with, the one rule of every path (pool, user session, async): the same
    method and body (307, 308; a 301/302/303 is followed only by a GET or HEAD, as that method). Authorization is
    dropped when the origin (scheme, host, port) changes, and an ambient token (`ambient`) also when its host rule
    refuses the new URL. A `Location` the client cannot follow is an APIConnectionError (`_validated_location`)."""
    url = _validated_location(request.url, location)
    headers = request.headers
    same = _same_origin(url, request.url) and urlsplit(url).netloc == urlsplit(request.url).netloc  # and userinfo
    if not same or (ambient is not None and not ambient_token_allowed(url)):
        headers = {k: v for k, v in headers.items() if k.lower() != "authorization" or (same and v != ambient)}
    return dataclasses.replace(request, url=url, headers=dict(headers))


def _same_origin(a: str, b: str) -> bool:
    """Whether two URLs share scheme, host (any letter case) and port (the scheme's default when absent); a URL
    without a readable origin shares it with nothing."""
    origins = []
    for url in (a, b):
        parts = urlsplit(url)
        try:
            port = parts.port
        except ValueError:
            return False
        scheme = parts.scheme.lower()
        host = parts.hostname
        if not host:
            return False
        origins.append((scheme, host.lower(), port if port is not None else {"http": 80, "https": 443}.get(scheme)))
    return origins[0] == origins[1]


def _redact_url(url: str) -> str:
    """A URL without any user:password part."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        return url.replace(parts.netloc, parts.hostname or "", 1)
    return url
