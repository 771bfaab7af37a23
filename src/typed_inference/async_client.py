"""`AsyncInferenceClient`: the same typed methods as InferenceClient, `async def`, over httpx2/httpx (extra `async`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from typed_inference._attempts import async_bounded_chunks
from typed_inference._base_client import BaseClient
from typed_inference._call import call_arguments
from typed_inference._errors import APIConnectionError, APIStatusError, InferenceError
from typed_inference._generated.async_methods import AsyncRawTaskMethods, AsyncTaskMethods
from typed_inference._map import Job, Progress, check, map_target, per_input_async, plan, run_tasks
from typed_inference._response import RawResponse
from typed_inference._urls import proxy_rule
from typed_inference.transport import (
    DEFAULT_MAX_RESPONSE_BYTES,
    AsyncResponse,
    AsyncTransport,
    Request,
    RetryPolicy,
    TransportError,
)

if TYPE_CHECKING:
    from typed_inference._task import ValidationMode
    from typed_inference.providers._jobs import JobResult, JobRun
    from typed_inference.providers._mapping import ProviderMapping

R = TypeVar("R")


class AsyncInferenceClient(BaseClient, AsyncTaskMethods):
    """The async client: every task method of InferenceClient as a coroutine; `async with` closes it.

    Request building, validation, the retry rule, error mapping and wire normalisation are the sync client's;
    only the I/O differs.
    """

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
        http_client: Any = None,
        response_validation: ValidationMode = "lenient",
        retry_policy: RetryPolicy | None = None,
        transport: AsyncTransport | None = None,
        max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        super().__init__(
            model,
            provider=provider,
            token=token,
            base_url=base_url,
            router_url=router_url,
            hub_url=hub_url,
            bill_to=bill_to,
            provider_urls=provider_urls,
            timeout=timeout,
            total_timeout=total_timeout,
            max_retries=max_retries,
            headers=headers,
            response_validation=response_validation,
            retry_policy=retry_policy,
            max_response_bytes=max_response_bytes,
        )
        if transport is None:
            from typed_inference._async_transport import HttpxTransport  # httpx: on first use

            transport = HttpxTransport(http_client)
        self._transport: AsyncTransport = transport
        self.tokens.proxied = proxy_rule(self._transport)  # the ambient token's rule follows this transport

    async def __aenter__(self) -> AsyncInferenceClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Releases pooled connections (a user-supplied httpx client is left open)."""
        await self._transport.aclose()

    @property
    def with_raw_response(self) -> AsyncRawTaskMethods:
        """The same methods, returning `RawResponse` (status, headers, typed result)."""
        return AsyncRawTaskMethods(self)

    async def send(self, request: Request, *, deadline: float | None = None) -> AsyncResponse:
        """Sends a request with the retry rule (the sync client's `Attempts`), sleeping without blocking the loop.

        The same checks as `InferenceClient.send`, whatever the transport: `max_response_bytes`, `total_timeout`.
        """
        attempts = self.attempts(request, deadline)
        while True:
            response: AsyncResponse | None = None
            error: TransportError | None = None
            try:
                response = await self._transport.send(attempts.next_request())
            except TransportError as exc:
                error = exc
            step = attempts.outcome(response, error)
            if step.action == "done":
                assert response is not None
                if response.chunks is not None:  # the call's limits hold on a stream too, whatever the transport
                    response.chunks = async_bounded_chunks(response.chunks, attempts)
                return response
            if response is not None and response.close is not None:
                await response.close()
            if step.error is not None:
                raise self.redactor.error(step.error)
            if step.action == "retry":
                await (self.retry.async_sleep or asyncio.sleep)(step.wait)

    def imap(
        self,
        method: Callable[..., Awaitable[R]],
        inputs: Iterable[Any],
        *,
        concurrency: int = 8,
        progress: bool = False,
        batch_size: int | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[tuple[int, R | InferenceError]]:
        """Awaits a task method once per input, at most `concurrency` at a time, yielding `(index, result or
        error)` as each call completes (`async for`). The inputs and keywords are `map`'s.

        Cancellation (Ctrl-C under `asyncio.run`) or KeyboardInterrupt stops it at once: no new request starts, the
        requests in flight are cancelled (closing their connections), and the stop propagates unchanged.
        """
        spec, target = map_target(self, method)
        jobs = plan(spec, inputs, kwargs, batch_size)
        counter = Progress(sum(job.size for job in jobs), progress)

        def call(job: Job) -> Callable[[], Awaitable[Any]]:
            async def one() -> Any:
                try:
                    return await target(*job.args, **job.kwargs)
                except InferenceError as exc:
                    return exc

            return one

        return per_input_async(jobs, run_tasks([call(job) for job in jobs], concurrency), counter)

    async def map(
        self,
        method: Callable[..., Awaitable[R]],
        inputs: Iterable[Any],
        *,
        concurrency: int = 8,
        return_exceptions: bool = True,
        progress: bool = False,
        batch_size: int | None = None,
        **kwargs: Any,
    ) -> list[R | InferenceError]:
        """Awaits a task method once per input, at most `concurrency` at a time; results in input order.

        The same rules as `InferenceClient.map`: one result or error per input, `batch_size` for batch tasks.
        Built on `imap`: cancelling it cancels the requests in flight.
        """
        results: list[Any] = []
        outcomes = self.imap(
            method, inputs, concurrency=concurrency, progress=progress, batch_size=batch_size, **kwargs
        )
        async for index, outcome in outcomes:
            results.extend([None] * (index + 1 - len(results)))
            results[index] = outcome
        return check(results, return_exceptions)

    async def run_job(self, job: JobRun, deadline: float) -> JobResult:
        """Runs a provider job's plan (`JobRun.steps`): its requests through `send`, its waits through the retry
        policy's async sleep. Cancellation stops it at once (no further poll)."""
        from typed_inference.providers._jobs import Wait

        steps = job.steps()
        try:
            action = next(steps)
            while True:
                if isinstance(action, Wait):
                    await (self.retry.async_sleep or asyncio.sleep)(action.seconds)
                    action = steps.send(None)
                    continue
                try:
                    response = await self.send(action.request, deadline=deadline)
                except APIStatusError as exc:
                    action = steps.throw(exc)
                    continue
                action = steps.send(response)
        except StopIteration as done:
            result: JobResult = done.value
            return result
        except InferenceError as exc:
            raise self.redactor.error(exc) from exc.__cause__
        finally:
            steps.close()

    async def provider_mapping(self, model: str, deadline: float | None = None) -> list[ProviderMapping]:
        """The Hub's inference provider mapping of a model (cached per process for 5 minutes; errors are not)."""
        from typed_inference.providers._mapping import MAPPINGS

        request, key = self.mapping_request(model)
        cached = MAPPINGS.get(key)
        if cached is not None:
            return cached
        try:
            response = await self.send(request, deadline=deadline)
        except (APIStatusError, APIConnectionError) as exc:
            raise self.hub_error(exc, model) from None
        entries = self.mapping_from(response, request, model)
        MAPPINGS.put(key, entries)
        return entries

    async def call(self, task: str, primary: Any = None, /, **params: Any) -> Any:
        """Calls a task by name: `primary` is what its method takes first (a mapping of the input's fields for
        object-input tasks, which may also come as keywords); `params` are its keywords (parameters, `model=`,
        `timeout=`, ...). Returns the typed result as `Any`: typed code calls the task's method instead.

        Raises RequestValidationError, before anything is sent, for an unknown task or keyword (with a suggestion).
        """
        args = call_arguments(task, primary, params)
        return await self._call(args.task, args.primary, args.inputs, args.parameters, **args.options)

    async def _call(
        self, task: str, primary: Any, inputs: Mapping[str, Any], parameters: Mapping[str, Any], **options: Any
    ) -> Any:
        return (await self._call_raw(task, primary, inputs, parameters, **options)).parsed

    async def _call_raw(
        self, task: str, primary: Any, inputs: Mapping[str, Any], parameters: Mapping[str, Any], **options: Any
    ) -> RawResponse[Any]:
        from typed_inference._decode import decode

        deadline = self.deadline(options.pop("total_timeout", None))
        call = self.prepare(task, primary, inputs, parameters, **options)  # no I/O: every local check
        choice = call.choice
        entries = await self.provider_mapping(choice.model, deadline) if choice.lookup and choice.model else None
        target = self.route_target(task, choice, entries)
        request, ctx = self.request_for(call, target)
        if target.task is not None and target.task.answer is not None:  # a media task on a provider: a job
            result = await self.run_job(self.job(task, target, request, deadline, call.progress), deadline)
            parsed = decode(ctx, result.status_code, result.headers, result.body)
            return RawResponse(result.status_code, result.headers, parsed)
        response = await self.send(request, deadline=deadline)
        if ctx.stream and response.chunks is not None:
            from typed_inference._streaming import AsyncStream, EventDecoder

            decoder = EventDecoder.for_task(ctx.spec, ctx.redactor, ctx.events)
            stream = AsyncStream(response.chunks, response.close, decoder)
            return RawResponse(response.status_code, response.headers, stream)
        parsed = decode(ctx, response.status_code, response.headers, response.content)
        return RawResponse(response.status_code, response.headers, parsed)
