"""`InferenceClient`: one typed method per task over one shared transport."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from typed_inference._attempts import bounded_chunks
from typed_inference._base_client import BaseClient
from typed_inference._call import call_arguments
from typed_inference._errors import APIConnectionError, APIStatusError, InferenceError
from typed_inference._generated.methods import RawTaskMethods, TaskMethods
from typed_inference._generated.settings import ClientSettings, InferenceClientInit
from typed_inference._map import (
    Job,
    Outcomes,
    Progress,
    Tally,
    check,
    map_target,
    per_input,
    plan,
    run_job,
    run_threads,
)
from typed_inference._response import RawResponse
from typed_inference._stop import current_scope
from typed_inference._urls import proxy_rule
from typed_inference.transport import Request, Response, Transport, TransportError

if TYPE_CHECKING:
    import requests

    from typed_inference.providers._jobs import JobResult, JobRun
    from typed_inference.providers._mapping import ProviderMapping

R = TypeVar("R")


class InferenceClient(InferenceClientInit, BaseClient, TaskMethods):
    """A client for the Hugging Face Inference API (or any server speaking its protocol), one method per task.

    `timeout` bounds each attempt (connect, and each read); `total_timeout` bounds the whole call, retries and
    backoff included. An ambient token (HF_TOKEN or the token file) is sent only to Hugging Face hosts over https
    and to loopback (which never goes through a proxy), and never in a plain-http request a proxy would carry; a
    `token=` passed here is sent to whatever host the client talks to. A body read whole (an
    answer, a download) larger than `max_response_bytes` (128 MiB by default; None: no cap) is an
    `APIConnectionError`; streams are capped only by a `max_response_bytes` you set, and by `total_timeout`.
    """

    def _configure(
        self,
        model: str | None,
        settings: ClientSettings,
        *,
        session: requests.Session | None,
        transport: Transport | None,
    ) -> None:
        self.configure(model, settings)
        if transport is None:
            from typed_inference._transport import RequestsTransport  # http.client and requests: on first use

            transport = RequestsTransport(session)
        self._transport: Transport = transport
        self.tokens.proxied = proxy_rule(self._transport)  # the ambient token's rule follows this transport

    def __enter__(self) -> InferenceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Releases pooled connections (a user-supplied session is left open)."""
        self._transport.close()

    def imap(
        self,
        method: Callable[..., R],
        inputs: Iterable[Any],
        *,
        concurrency: int = 8,
        progress: bool = False,
        batch_size: int | None = None,
        **kwargs: Any,
    ) -> Outcomes[R | InferenceError]:
        """Calls a task method once per input on `concurrency` threads, yielding `(index, result or error)` as each
        call completes (index: the input's position). The inputs and keywords are `map`'s.

        KeyboardInterrupt (or closing the iterator) stops it at once: no new request or retry starts, the
        connections in flight are closed, and the interrupt is re-raised unchanged; what was yielded is yours.
        """
        spec, target = map_target(self, method)
        jobs = plan(spec, inputs, kwargs, batch_size)
        counter = Progress(sum(job.size for job in jobs), progress)

        tally = Tally()

        def call(job: Job) -> Callable[[], Any]:
            return lambda: run_job(target, job, tally)

        return Outcomes(per_input(jobs, run_threads([call(job) for job in jobs], concurrency), counter), tally)

    def map(
        self,
        method: Callable[..., R],
        inputs: Iterable[Any],
        *,
        concurrency: int = 8,
        return_exceptions: bool = True,
        progress: bool = False,
        batch_size: int | None = None,
        **kwargs: Any,
    ) -> list[R | InferenceError]:
        """Calls a task method once per input on `concurrency` threads; one result or error per input, in order.

        Each input is the method's first argument (a dict of keywords for object-input tasks); `kwargs` go to every
        call. `batch_size` sends lists of that many inputs per request (batch tasks such as feature-extraction); a
        batch failing with an input's fault (400, 413, 422, an unfit answer) is halved down to the bad inputs.
        Errors are returned in place of results, or raised (the first one) with `return_exceptions=False`.
        Built on `imap`: KeyboardInterrupt stops it at once, closing the connections in flight.
        """
        results: list[Any] = []
        for index, outcome in self.imap(
            method, inputs, concurrency=concurrency, progress=progress, batch_size=batch_size, **kwargs
        ):
            results.extend([None] * (index + 1 - len(results)))
            results[index] = outcome
        return check(results, return_exceptions)

    @property
    def with_raw_response(self) -> RawTaskMethods:
        """The same methods, returning `RawResponse` (status, headers, typed result)."""
        return RawTaskMethods(self)

    def send(self, request: Request, *, deadline: float | None = None) -> Response:
        """Sends a request with the retry rule: retries, backoff, `Retry-After`, bounded by `total_timeout` (or by
        `deadline`, on the retry policy's clock: the end of a call that sent requests before this one).

        Whatever the transport, a whole body over `max_response_bytes` and a response arriving after
        `total_timeout` are errors here (`APIConnectionError`, `APITimeoutError`).
        """
        attempts = self.attempts(request, deadline)
        scope = current_scope()  # set when the call runs in a batch (`imap`), which may be stopped
        while True:
            if scope is not None:
                scope.check()
            response: Response | None = None
            error: TransportError | None = None
            try:
                response = self._transport.send(attempts.next_request())
            except TransportError as exc:
                if scope is not None:
                    scope.check()  # its connection was shut by the stop: not a failure to retry
                error = exc
            step = attempts.outcome(response, error)
            if step.action == "done":
                assert response is not None
                if response.chunks is not None:  # the call's limits hold on a stream too, whatever the transport
                    response.chunks = bounded_chunks(response.chunks, attempts)
                return response
            if response is not None and response.close is not None:
                response.close()
            if step.error is not None:
                raise self.redactor.error(step.error)
            if step.action == "retry":
                sleep = self.retry.sleep
                (scope.sleep if scope is not None and sleep is time.sleep else sleep)(step.wait)

    def run_job(self, job: JobRun, deadline: float) -> JobResult:
        """Runs a provider job's plan (`JobRun.steps`): its requests through `send`, its waits through the retry
        policy's sleep. KeyboardInterrupt stops it at once (no further poll)."""
        from typed_inference.providers._jobs import Wait

        steps = job.steps()
        try:
            action = next(steps)
            while True:
                if isinstance(action, Wait):
                    sleep = self.retry.sleep
                    scope = current_scope()
                    (scope.sleep if scope is not None and sleep is time.sleep else sleep)(action.seconds)
                    action = steps.send(None)
                    continue
                try:
                    response = self.send(action.request, deadline=deadline)
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

    def provider_mapping(self, model: str, deadline: float | None = None) -> list[ProviderMapping]:
        """The Hub's inference provider mapping of a model (cached per process for 5 minutes; errors are not)."""
        from typed_inference.providers._mapping import MAPPINGS

        request, key = self.mapping_request(model)
        cached = MAPPINGS.get(key)
        if cached is not None:
            return cached
        try:
            response = self.send(request, deadline=deadline)
        except (APIStatusError, APIConnectionError) as exc:
            raise self.hub_error(exc, model) from None
        entries = self.mapping_from(response, request, model)
        MAPPINGS.put(key, entries)
        return entries

    def call(self, task: str, primary: Any = None, /, **params: Any) -> Any:
        """Calls a task by name: `primary` is what its method takes first (a mapping of the input's fields for
        object-input tasks, which may also come as keywords); `params` are its keywords (parameters, `model=`,
        `timeout=`, ...). Returns the typed result as `Any`: typed code calls the task's method instead.

        Raises RequestValidationError, before anything is sent, for an unknown task or keyword (with a suggestion).
        """
        args = call_arguments(task, primary, params)
        return self._call(args.task, args.primary, args.inputs, args.parameters, **args.options)

    def _call(
        self, task: str, primary: Any, inputs: Mapping[str, Any], parameters: Mapping[str, Any], **options: Any
    ) -> Any:
        return self._call_raw(task, primary, inputs, parameters, **options).parsed

    def _call_raw(
        self, task: str, primary: Any, inputs: Mapping[str, Any], parameters: Mapping[str, Any], **options: Any
    ) -> RawResponse[Any]:
        from typed_inference._decode import decode

        deadline = self.deadline(options.pop("total_timeout", None))
        call = self.prepare(task, primary, inputs, parameters, **options)  # no I/O: every local check
        choice = call.choice
        entries = self.provider_mapping(choice.model, deadline) if choice.lookup and choice.model else None
        target = self.route_target(task, choice, entries)
        request, ctx = self.request_for(call, target)
        if target.task is not None and target.task.answer is not None:  # a media task on a provider: a job
            result = self.run_job(self.job(task, target, request, deadline, call.progress), deadline)
            parsed = decode(ctx, result.status_code, result.headers, result.body)
            return RawResponse(result.status_code, result.headers, parsed)
        response = self.send(request, deadline=deadline)
        if ctx.stream and response.chunks is not None:
            from typed_inference._streaming import EventDecoder, Stream

            decoder = EventDecoder.for_task(ctx.spec, ctx.redactor, ctx.events)
            stream = Stream(response.chunks, response.close, decoder)
            return RawResponse(response.status_code, response.headers, stream)
        parsed = decode(ctx, response.status_code, response.headers, response.content)
        return RawResponse(response.status_code, response.headers, parsed)
