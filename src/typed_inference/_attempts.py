"""The retry and redirect plan of one call, I/O-free: which attempt comes next, and the limits streams keep."""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Literal
from urllib.parse import urlsplit

from typed_inference._auth import ambient_token_allowed
from typed_inference._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    InferenceError,
    ModelLoadingError,
    RequestValidationError,
)
from typed_inference._urls import ROUTER_HOST, has_userinfo, redact_url, same_origin, url_problem
from typed_inference.transport import (
    RETRY_STATUSES,
    AsyncResponse,
    ReadTimeout,
    Request,
    Response,
    ResponseTooLarge,
    RetryPolicy,
    TransportError,
    TransportTimeout,
    sensitive_header,
    stream_limit,
)

logger = logging.getLogger("typed_inference")

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_METHOD_CHANGING = frozenset({301, 302, 303})  # clients re-send these as GET: never an inference call's POST
MAX_REDIRECTS = 5
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
        problem = url_problem(request.url)
        if problem is None and has_userinfo(request.url):  # never logged, never silently dropped
            problem = "a user name or password in the URL is not sent: pass credentials as token= or headers="
        if problem is not None:  # HTTP stacks raise untyped errors on such URLs, or silently send another one
            raise RequestValidationError(f"cannot send to {redact_url(request.url)[:200]!r}: {problem}")
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
                return Step("fail", error=APIConnectionError(f"too many redirects ({redact_url(self.request.url)})"))
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
                        f" arrived ({redact_url(self.request.url)})"
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
            redact_url(self.request.url),
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
        url = redact_url(self.request.url)
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
            redact_url(self.request.url),
            wait,
            self.attempt + 2,
            self.policy.max_retries + 1,
            _retry_reason(exc),
        )
        self.attempt += 1
        return Step("retry", wait)


def bounded_chunks(chunks: Iterator[bytes], attempts: Attempts) -> Iterator[bytes]:
    """A streamed body within the call's limits, whatever the transport: `max_response_bytes` on the whole streamed
    body when the caller set it, and `total_timeout` on the stream's life (a chunk arriving after it, a keep-alive
    comment too, ends it)."""
    limit, size = stream_limit(attempts.request.max_bytes), 0
    for chunk in chunks:
        size += len(chunk)
        attempts.check_stream(size, limit)
        yield chunk


async def async_bounded_chunks(chunks: AsyncIterator[bytes], attempts: Attempts) -> AsyncIterator[bytes]:
    """`bounded_chunks` for an async stream; a stall is cut at the deadline too (not only at the next chunk)."""
    import asyncio

    limit, size = stream_limit(attempts.request.max_bytes), 0
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
        return APIConnectionError(f"redirect to an invalid Location {location[:200]!r}: {reason} ({redact_url(url)})")

    if re.search(r"[\x00-\x20\x7f\\]", location):
        raise refused("it contains whitespace, a control character or a backslash")
    try:
        target = urljoin(url, location)
    except ValueError as exc:  # "Invalid IPv6 URL", ...
        raise refused(str(exc)) from None
    problem = url_problem(target)
    if problem is not None:
        raise refused(problem.replace("are sent", "are followed"))
    return target


def _redirected(request: Request, location: str, ambient: str | None = None) -> Request:
    """The request to follow a redirect with, the one rule of every path (pool, user session, async): the same
    method and body (307, 308; a 301/302/303 is followed only by a GET or HEAD, as that method). Every credential
    header (`Authorization`, `Proxy-Authorization`, `Cookie`, `X-Api-Key`, `Api-Key`, `X-Auth-Token`: whatever
    `sensitive_header` names) is dropped when the origin (scheme, host, port) changes, and an ambient token
    (`ambient`) also when its host rule refuses the new URL. A `Location` the client cannot follow is an
    APIConnectionError (`_validated_location`)."""
    url = _validated_location(request.url, location)
    headers = request.headers
    same = same_origin(url, request.url) and urlsplit(url).netloc == urlsplit(request.url).netloc  # and userinfo
    if not same:
        headers = {k: v for k, v in headers.items() if not sensitive_header(k)}
    elif ambient is not None and not ambient_token_allowed(url):
        headers = {k: v for k, v in headers.items() if k.lower() != "authorization" or v != ambient}
    return dataclasses.replace(request, url=url, headers=dict(headers))
