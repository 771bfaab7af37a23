"""The one exception tree of typed-inference: catch `InferenceError` for all, or any branch below it."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

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


class RequestValidationError(InferenceError, ValueError):
    """The request does not match the task's input schema; raised before any network I/O."""

    __module__ = "typed_inference"

    def __init__(self, message: str, errors: Sequence[Mapping[str, Any]] = ()) -> None:
        super().__init__(message)
        self.errors = list(errors)


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
        self.headers = dict(headers or {})


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
        self.headers = dict(headers)
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
