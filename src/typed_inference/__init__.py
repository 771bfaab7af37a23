"""typed-inference: a typed Python SDK for the Hugging Face Inference API, validated both ways."""

from __future__ import annotations

from typing import TYPE_CHECKING

from typed_inference._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    IncompleteStreamError,
    InferenceError,
    InternalServerError,
    ModelLoadingError,
    ModelNotFoundError,
    ModelNotSupportedError,
    PayloadTooLargeError,
    PermissionDeniedError,
    ProviderJobError,
    RateLimitError,
    RedirectError,
    RequestValidationError,
    ResponseValidationError,
    ServiceUnavailableError,
    StreamError,
    UnprocessableEntityError,
)
from typed_inference._version import __version__

if TYPE_CHECKING:
    from typed_inference._binary import BinaryOutput
    from typed_inference._generated.names import ProviderName
    from typed_inference._jsonable import to_jsonable
    from typed_inference._response import RawResponse
    from typed_inference._streaming import AsyncStream, Stream
    from typed_inference.async_client import AsyncInferenceClient
    from typed_inference.client import InferenceClient
    from typed_inference.inference_api import InferenceApi
    from typed_inference.transport import RetryPolicy
    from typed_inference.validate import validate

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncInferenceClient",
    "AsyncStream",
    "AuthenticationError",
    "BadRequestError",
    "BinaryOutput",
    "IncompleteStreamError",
    "InferenceApi",
    "InferenceClient",
    "InferenceError",
    "InternalServerError",
    "ModelLoadingError",
    "ModelNotFoundError",
    "ModelNotSupportedError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "ProviderJobError",
    "ProviderName",
    "RateLimitError",
    "RawResponse",
    "RedirectError",
    "RequestValidationError",
    "ResponseValidationError",
    "RetryPolicy",
    "ServiceUnavailableError",
    "Stream",
    "StreamError",
    "UnprocessableEntityError",
    "__version__",
    "to_jsonable",
    "validate",
]

_LAZY = {
    "InferenceClient": "typed_inference.client",
    "RawResponse": "typed_inference._response",
    "BinaryOutput": "typed_inference._binary",
    "ProviderName": "typed_inference._generated.names",
    "InferenceApi": "typed_inference.inference_api",
    "AsyncInferenceClient": "typed_inference.async_client",
    "Stream": "typed_inference._streaming",
    "AsyncStream": "typed_inference._streaming",
    "validate": "typed_inference.validate",
    "RetryPolicy": "typed_inference.transport",
    "to_jsonable": "typed_inference._jsonable",
}


def __getattr__(name: str) -> object:
    import importlib

    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
