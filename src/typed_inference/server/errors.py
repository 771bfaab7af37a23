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

    def body(self) -> dict[str, Any]:
        """The JSON body of the answer."""
        return {"error": self.message, **self.extra}


def unprocessable(message: str) -> ServerError:
    """422: a value the schema allows but this model cannot take (TGI's `Input validation error`)."""
    return ServerError(422, f"Input validation error: {message}", error_type="validation")


def bad_input(message: str) -> ServerError:
    """400: an input the model cannot work with (no mask token, an unreadable file)."""
    return ServerError(400, message)
