"""`client.with_raw_response`: every task method returning `RawResponse[...]`, loaded on first use."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from typed_inference._async_raw_methods import AsyncRawTaskMethods
from typed_inference._raw_methods import RawTaskMethods

if TYPE_CHECKING:
    from typed_inference.async_client import AsyncInferenceClient
    from typed_inference.client import InferenceClient


class RawInferenceClient(RawTaskMethods):
    """`InferenceClient.with_raw_response`: status, headers and the typed result of each call."""

    def __init__(self, client: InferenceClient) -> None:
        self._client = client

    def _call(
        self, task: str, primary: Any, inputs: Mapping[str, Any], parameters: Mapping[str, Any], **options: Any
    ) -> Any:
        return self._client._call_raw(task, primary, inputs, parameters, **options)


class AsyncRawInferenceClient(AsyncRawTaskMethods):
    """`AsyncInferenceClient.with_raw_response`: status, headers and the typed result of each call."""

    def __init__(self, client: AsyncInferenceClient) -> None:
        self._client = client

    async def _call(
        self, task: str, primary: Any, inputs: Mapping[str, Any], parameters: Mapping[str, Any], **options: Any
    ) -> Any:
        return await self._client._call_raw(task, primary, inputs, parameters, **options)
