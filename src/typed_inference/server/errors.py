"""The server's error answers: a status, a message and extra fields, sent as `{"error": ..., ...}`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class ServerError(Exception):
    """An answer other than 200, raised anywhere below a route and turned into `{"error": message, **extra}`."""

    def __init__(self, status: int, message: str, *, headers: Mapping[str, str] | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})
        self.extra = extra

    def body(self, *, openai: bool = False) -> dict[str, Any]:
        """The JSON body of the answer: `{"error": message, ...}`, or OpenAI's shape for the `/v1/...` routes."""
        if openai:
            return openai_body(self.status, self.message, self.extra)
        return {"error": self.message, **self.extra}


def unprocessable(message: str) -> ServerError:
    """422: a value the schema allows but this model cannot take (TGI's `Input validation error`)."""
    return ServerError(422, f"Input validation error: {message}", error_type="validation")


def bad_input(message: str) -> ServerError:
    """400: an input the model cannot work with (no mask token, an unreadable file)."""
    return ServerError(400, message)


# OpenAI's error `type` (and our `code`) for each status: what OpenAI clients read from `/v1/...` routes' errors.
_OPENAI_TYPES = {
    400: ("invalid_request_error", "bad_request"),
    401: ("authentication_error", "unauthorized"),
    403: ("permission_error", "forbidden"),
    404: ("invalid_request_error", "not_found"),
    405: ("invalid_request_error", "method_not_allowed"),
    413: ("invalid_request_error", "payload_too_large"),
    421: ("invalid_request_error", "misdirected_request"),
    422: ("invalid_request_error", "unprocessable_entity"),
    429: ("rate_limit_error", "rate_limit_exceeded"),
    503: ("server_error", "model_loading"),
}


def openai_body(status: int, message: str, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The body OpenAI clients read: `{"error": {"message", "type", "code"}}`; extra fields (`estimated_time`,
    `error_type`) stay beside `error`, where clients of the Inference API read them."""
    kind, code = _OPENAI_TYPES.get(status, ("server_error", "internal_error"))
    return {"error": {"message": message, "type": kind, "code": code}, **(extra or {})}
