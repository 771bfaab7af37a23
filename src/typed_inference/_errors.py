"""The one exception tree of typed-inference: catch `InferenceError` for all, or any branch below it."""

from __future__ import annotations

import logging
import re
import threading
import weakref
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from typed_inference.transport import Headers

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "IncompleteStreamError",
    "InferenceError",
    "InternalServerError",
    "ModelLoadingError",
    "ModelNotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RedirectError",
    "RequestValidationError",
    "ResponseValidationError",
    "ServiceUnavailableError",
    "StreamError",
    "UnprocessableEntityError",
]


class InferenceError(Exception):
    """Root of every error raised by typed-inference."""

    __module__ = "typed_inference"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        # keyword-only constructors cannot be rebuilt from `args`: rebuilt from the attributes instead, so an error
        # crosses a process boundary (a Ray worker's, a multiprocessing pool's) as the same typed error
        return _rebuild, (type(self), self.args, dict(vars(self)))


def _rebuild(cls: type[InferenceError], args: tuple[Any, ...], state: dict[str, Any]) -> InferenceError:
    """An unpickled error: its class, args and attributes, without running its constructor."""
    exc = cls.__new__(cls)
    exc.args = args
    vars(exc).update(state)
    return exc


E = TypeVar("E", bound=BaseException)


class Redactor:
    """Masks secrets (a client's tokens) in everything an error or a log line carries: the one place that does.

    A server may echo a request back (an `Authorization` header in an error body, a request id, a stream event);
    every error the client raises goes through `error`, which masks its text, `args` and every attribute (bodies,
    headers, validation details), so the token shows nowhere, whichever part of the answer it came back in.
    """

    MASK = "***"

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._secrets = tuple(sorted({s for s in secrets if s}, key=len, reverse=True))

    def __repr__(self) -> str:
        return f"Redactor({len(self._secrets)} secret(s))"

    def text(self, text: str) -> str:
        """The text with every secret masked."""
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, self.MASK)
        return text

    def data(self, data: bytes) -> bytes:
        """`text` for raw bytes (a body)."""
        for secret in self._secrets:
            raw = secret.encode("utf-8", "replace")
            if raw in data:
                data = data.replace(raw, self.MASK.encode())
        return data

    def value(self, value: Any) -> Any:
        """Any value an error holds, masked: strings, bytes, and the lists, tuples and dicts holding them."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, (bytes, bytearray)):
            return self.data(bytes(value))
        if type(value) is list:
            return [self.value(item) for item in value]
        if type(value) is tuple:
            return tuple(self.value(item) for item in value)
        if isinstance(value, dict):
            masked = {self.value(k): self.value(v) for k, v in value.items()}
            return Headers(masked) if isinstance(value, Headers) else masked
        return value

    def watch_logs(self) -> None:
        """Masks these secrets in the log lines of this library and of the HTTP stacks below it, from now on while
        this redactor lives (httpcore2 logs response headers at DEBUG: an echoed token would show there)."""
        if self._secrets:
            with _WATCHING_LOCK:
                _WATCHING.add(self)
            _install_log_mask()

    def error(self, exc: E) -> E:
        """The error with every secret masked in its text, args and attributes (changed in place, and returned).

        A context the error suppresses (`raise ... from None`: a parser's or pydantic's error quoting the raw
        answer) is dropped, and a cause is masked the same way."""
        if self._secrets:
            seen: list[BaseException] = []
            item: BaseException | None = exc
            while item is not None and all(item is not other for other in seen):
                seen.append(item)
                self._mask(item)
                if item.__suppress_context__:
                    item.__context__ = None
                item = item.__cause__ or item.__context__
        return exc

    def _mask(self, exc: BaseException) -> None:
        try:
            for name, item in list(vars(exc).items()):
                setattr(exc, name, self.value(item))
            exc.args = tuple(self.value(arg) for arg in exc.args)
        except (AttributeError, TypeError):  # an exception type that keeps its text elsewhere: left as it is
            pass


_WATCHING: weakref.WeakSet[Redactor] = weakref.WeakSet()
_WATCHING_LOCK = threading.Lock()
_LOGGERS = (
    "typed_inference",
    "urllib3.connectionpool",
    "urllib3.connection",
    "urllib3.response",
    "urllib3.util.retry",
    "httpx2",
    "httpx",
    *(
        f"{core}.{part}"
        for core in ("httpcore2", "httpcore")
        for part in ("connection", "http11", "http2", "proxy", "socks")
    ),
)


class _MaskLogs(logging.Filter):
    """Masks the secrets of every live client in a log record's message (filters run only for enabled levels)."""

    def filter(self, record: logging.LogRecord) -> bool:
        with _WATCHING_LOCK:
            redactors = list(_WATCHING)
        if redactors:
            try:
                message = masked = record.getMessage()
            except Exception:  # a malformed record: the handler reports it, as without this filter
                return True
            for redactor in redactors:
                masked = redactor.text(masked)
            if masked != message:
                record.msg, record.args = masked, ()
        return True


_LOG_MASK = _MaskLogs()


def _install_log_mask() -> None:
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        if _LOG_MASK not in logger.filters:
            logger.addFilter(_LOG_MASK)


class RequestValidationError(InferenceError, ValueError):
    """The request does not match the task's input schema; raised before any network I/O."""

    __module__ = "typed_inference"

    def __init__(self, message: str, errors: Sequence[Mapping[str, Any]] = ()) -> None:
        super().__init__(message)
        self.errors = list(errors)


class ModelNotSupportedError(RequestValidationError):
    """No provider can serve this model for this task (the Hub's provider mapping says why); nothing was sent."""

    __module__ = "typed_inference"


class ResponseValidationError(InferenceError):
    """A complete response whose body is not valid JSON or not the shape the task's output schema expects."""

    __module__ = "typed_inference"

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        body: bytes,
        errors: Sequence[Mapping[str, Any]] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.body = body
        self.errors = list(errors)
        self.headers = Headers(headers or {})


class APIConnectionError(InferenceError):
    """The service could not be reached, or the connection broke before a complete response arrived."""

    __module__ = "typed_inference"


class APITimeoutError(APIConnectionError):
    """An attempt or the whole call ran past its time limit."""

    __module__ = "typed_inference"


class IncompleteStreamError(APIConnectionError):
    """A stream ended before its final event."""

    __module__ = "typed_inference"


class StreamError(InferenceError):
    """An error event inside a stream, with the server's message and `error_type`."""

    __module__ = "typed_inference"

    def __init__(self, message: str, error_type: str | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type


class ProviderJobError(InferenceError):
    """A provider's job (a queued generation, a prediction) that failed, or ended without a result, on its side."""

    def __init__(self, message: str, *, provider: str, job_id: str | None, status: str, provider_message: str) -> None:
        super().__init__(message)
        self.provider = provider
        self.job_id = job_id
        self.status = status  # the provider's own status word ("FAILED", "failed", "FAIL", ...)
        self.provider_message = provider_message  # what the provider said, as sent


class APIStatusError(InferenceError):
    """The service answered with an error status; carries status, server message, request id and headers."""

    __module__ = "typed_inference"

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        server_message: str,
        headers: Mapping[str, str],
        body: bytes,
        error_type: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.server_message = server_message
        self.headers = Headers(headers)
        self.request_id = self.headers.get("x-request-id")
        self.body = body
        self.error_type = error_type
        self.retry_after = retry_after


class BadRequestError(APIStatusError):
    """400: the service rejected the input. `unused_parameters` names the parameters a model said it does not use
    (a plain transformers model given generation parameters it lacks); the client drops none by itself."""

    __module__ = "typed_inference"

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        server_message: str,
        headers: Mapping[str, str],
        body: bytes,
        error_type: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(
            message,
            status_code=status_code,
            server_message=server_message,
            headers=headers,
            body=body,
            error_type=error_type,
            retry_after=retry_after,
        )
        self.unused_parameters: list[str] = unused_parameters(self.server_message)
        if self.unused_parameters:
            names = ", ".join(self.unused_parameters)
            self.message = (
                f"{message}\nThis model does not use the parameters {names}: call again without them "
                "(typed-inference sends every parameter you pass and drops none)."
            )


_UNUSED = re.compile(r"The following `model_kwargs` are not used by the model: \[(.*?)\]", re.DOTALL)
_QUOTED = re.compile(r"'([^']*)'|\"([^\"]*)\"")


def unused_parameters(server_message: str) -> list[str]:
    """The names in `The following `model_kwargs` are not used by the model: ['a', 'b']` (transformers)."""
    found = _UNUSED.search(server_message)
    if found is None:
        return []
    names = [a or b for a, b in _QUOTED.findall(found.group(1))]
    return names or [n.strip() for n in found.group(1).split(",") if n.strip()]


class AuthenticationError(APIStatusError):
    """401: the token is missing or invalid."""

    __module__ = "typed_inference"


class PermissionDeniedError(APIStatusError):
    """403: the token has no access to this model."""

    __module__ = "typed_inference"


class ModelNotFoundError(APIStatusError):
    """404: no such model (or no access to a private one)."""

    __module__ = "typed_inference"


class PayloadTooLargeError(APIStatusError):
    """413: the request body is larger than the service takes (send fewer or smaller inputs)."""

    __module__ = "typed_inference"


class UnprocessableEntityError(APIStatusError):
    """422: the body was understood but failed the service's own validation."""

    __module__ = "typed_inference"


class RateLimitError(APIStatusError):
    """429: too many requests; `retry_after` holds the wait the server asked for, if any."""

    __module__ = "typed_inference"


class ServiceUnavailableError(APIStatusError):
    """503 for a reason other than a loading model."""

    __module__ = "typed_inference"


class ModelLoadingError(ServiceUnavailableError):
    """503 while the model loads; `estimated_time` is the server's estimate in seconds."""

    __module__ = "typed_inference"

    @property
    def estimated_time(self) -> float | None:
        """The server's estimate of the loading time, in seconds."""
        return self.retry_after


class RedirectError(APIStatusError):
    """301, 302 or 303 answering a POST: following it would turn the inference call into a GET, so the client
    refuses; `location` is where the server pointed (call that URL directly). 307 and 308 are followed."""

    __module__ = "typed_inference"

    @property
    def location(self) -> str | None:
        """The redirect's target, as the server sent it in `Location`."""
        return self.headers.get("location")


class InternalServerError(APIStatusError):
    """5xx other than 503."""

    __module__ = "typed_inference"


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: ModelNotFoundError,
    413: PayloadTooLargeError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error_class(status: int, *, loading: bool) -> type[APIStatusError]:
    """The error class for an HTTP status (a 503 with `estimated_time` or a loading message is ModelLoadingError)."""
    if status == 503:
        return ModelLoadingError if loading else ServiceUnavailableError
    if status in (301, 302, 303):
        return RedirectError
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return InternalServerError
    return APIStatusError
