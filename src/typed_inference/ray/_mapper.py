"""`InferenceMapper`: a callable class for `Dataset.map_batches` that runs one task over a column, per actor."""

from __future__ import annotations

import os
import threading
from typing import Any

from typed_inference._errors import InferenceError, RequestValidationError, ResponseValidationError
from typed_inference._generated.names import ProviderName
from typed_inference._transport import RequestsTransport
from typed_inference.client import InferenceClient
from typed_inference.ray._arrow import float_rows
from typed_inference.ray._config import make_config
from typed_inference.transport import Request, Response, Transport

METRICS = {
    "requests": "Inference requests sent (one per batch of request_batch_size inputs for batch tasks)",
    "retries": "HTTP attempts beyond one per request (retries, loading-model resends, followed redirects)",
    "errors": "Rows whose inference ended in an error",
}


class CountingTransport:
    """The client's transport, counting the HTTP attempts it sends (one per `send`)."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.sends = 0
        self._lock = threading.Lock()

    def send(self, request: Request) -> Response:
        """One attempt, counted."""
        with self._lock:
            self.sends += 1
        return self.inner.send(request)

    def close(self) -> None:
        """Closes the wrapped transport."""
        self.inner.close()


class InferenceMapper:
    """A callable class for `Dataset.map_batches(InferenceMapper, fn_constructor_kwargs=..., batch_format="pyarrow")`:
    each actor builds one client on its worker, reading the token there from `token_env` (never pickled, never
    logged), and adds `output_column` (and `error_column`) to each block, in row order.

    `task_parameters` go to every call (`normalize=True`, `candidate_labels=[...]`). Batch tasks send
    `request_batch_size` inputs per request; every task keeps up to `requests_in_flight` requests in flight.
    """

    def __init__(
        self,
        *,
        task: str,
        model: str | None,
        input_column: str,
        output_column: str,
        request_batch_size: int = 32,
        requests_in_flight: int = 8,
        provider: ProviderName | None = None,
        base_url: str | None = None,
        token_env: str = "HF_TOKEN",
        on_error: str = "column",
        error_column: str = "error",
        **task_parameters: Any,
    ) -> None:
        self.config = make_config(
            task,
            model,
            input_column,
            output_column,
            request_batch_size=request_batch_size,
            requests_in_flight=requests_in_flight,
            provider=provider,
            base_url=base_url,
            token_env=token_env,
            on_error=on_error,
            error_column=error_column,
            **task_parameters,
        )
        self.spec = self.config.spec
        self.column = self.config.column
        self.transport = CountingTransport(RequestsTransport())
        options: dict[str, Any] = {"token": self._token(), "base_url": base_url, "transport": self.transport}
        if provider is not None:  # only when given: a client without provider support still takes the rest
            options["provider"] = provider
        self.client = InferenceClient(model, **options)
        self.counts = {"requests": 0, "retries": 0, "errors": 0}
        self._retries_seen = 0
        self._metrics = _counters(self.spec.task)

    def _token(self) -> str | None:
        """The token from `token_env`, read here on the worker. HF_TOKEN (the default) is left to the client, which
        reads it (or the token file) itself and sends it only where its ambient-token rule allows."""
        if self.config.token_env == "HF_TOKEN":
            return None
        return os.environ.get(self.config.token_env, "").strip() or None

    def __repr__(self) -> str:
        return f"InferenceMapper(task={self.spec.task!r}, model={self.config.model!r})"

    def __call__(self, batch: Any) -> Any:
        """The block with the output column (and, with on_error="column", the error column) appended."""
        import pyarrow as pa

        table = _as_table(batch)
        config = self.config
        if config.input_column not in table.column_names:
            raise RequestValidationError(
                f"input_column {config.input_column!r} is not a column of the dataset "
                f"(its columns: {', '.join(table.column_names)})"
            )
        values = table.column(config.input_column).to_pylist()
        results: list[Any] = [None] * len(values)
        errors: list[str | None] = [None] * len(values)
        rows = [row for row, value in enumerate(values) if value is not None]
        for row, value in enumerate(values):
            if value is None:
                self._fail(row, errors, RequestValidationError(f"input_column {config.input_column!r} is null"))
        self._run(rows, [_input(values[row]) for row in rows], results, errors)
        output = self._array(results, errors)
        table = _without(table, (config.output_column, config.error_column))
        table = table.append_column(pa.field(config.output_column, self.column.type), output)
        if config.on_error == "column":
            table = table.append_column(pa.field(config.error_column, pa.string()), pa.array(errors, pa.string()))
        return table

    def _run(self, rows: list[int], inputs: list[Any], results: list[Any], errors: list[str | None]) -> None:
        """Calls the task over the inputs, filling `results` and `errors` at each input's row."""
        if not inputs:
            return
        config = self.config
        options: dict[str, Any] = {"concurrency": config.requests_in_flight, **config.parameters}
        if self.spec.batch:
            options["batch_size"] = config.request_batch_size
        method = getattr(self.client, self.spec.task.replace("-", "_"))
        outcomes = self.client.imap(method, inputs, **options)
        try:
            for index, outcome in outcomes:
                if isinstance(outcome, InferenceError):
                    self._fail(rows[index], errors, outcome)
                else:
                    results[rows[index]] = outcome
        finally:
            outcomes.close()
            self._count(outcomes.requests)  # a batch split to isolate a bad input counts each of its requests

    def _fail(self, row: int, errors: list[str | None], exc: InferenceError) -> None:
        """Records a row's error (class and message, tokens masked), or raises it with on_error="raise"."""
        exc = self.client.redactor.error(exc)
        if self.config.on_error == "raise":
            raise exc
        errors[row] = f"{type(exc).__name__}: {self.client.redact(str(exc))}"
        self.counts["errors"] += 1
        self._metrics["errors"].inc(1)

    def _array(self, results: list[Any], errors: list[str | None]) -> Any:
        """The output column; a result that does not fit its type is a row error (ResponseValidationError)."""
        import pyarrow as pa

        convert, arrow_type = self.column.convert, self.column.type
        unfit = (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError)
        values: list[Any] = [None] * len(results)
        for row, result in enumerate(results):
            if result is not None:
                try:
                    values[row] = convert(result)
                except unfit as exc:
                    self._unfit(row, errors, exc)
        fast = float_rows(values, arrow_type)
        if fast is not None:
            return fast
        try:
            return pa.array(values, arrow_type)
        except unfit:
            pass
        for row, value in enumerate(values):  # the whole column did not fit: find the rows that do not
            if value is not None:
                try:
                    pa.array([value], arrow_type)
                except unfit as exc:
                    values[row] = None
                    self._unfit(row, errors, exc)
        return pa.array(values, arrow_type)

    def _unfit(self, row: int, errors: list[str | None], exc: Exception) -> None:
        """Records a result that does not fit the output column as the row's ResponseValidationError."""
        message = f"{self.spec.task}: a result does not fit the column type {self.column.type}: {exc}"
        self._fail(row, errors, ResponseValidationError(message, status_code=200, body=b""))

    def _count(self, requests: int) -> None:
        """Adds a block's requests, and the retries seen since the last block, to the counters."""
        self.counts["requests"] += requests
        self._metrics["requests"].inc(requests)
        retries = max(0, self.transport.sends - self.counts["requests"])
        if retries > self._retries_seen:
            self.counts["retries"] += retries - self._retries_seen
            self._metrics["retries"].inc(retries - self._retries_seen)
            self._retries_seen = retries


class _Counter:
    """A `ray.util.metrics.Counter` tagged with the task, skipping zero increments (which Ray refuses)."""

    def __init__(self, name: str, description: str, task: str) -> None:
        from ray.util.metrics import Counter

        self.counter = Counter(name, description=description, tag_keys=("task",))
        self.counter.set_default_tags({"task": task})

    def inc(self, value: int) -> None:
        if value > 0:
            self.counter.inc(value)


def _counters(task: str) -> dict[str, _Counter]:
    """The three counters: typed_inference_requests, typed_inference_retries, typed_inference_errors."""
    return {key: _Counter(f"typed_inference_{key}", text, task) for key, text in METRICS.items()}


def _as_table(batch: Any) -> Any:
    """A block as a pyarrow Table (batch_format="pyarrow" gives one; a dict of columns or a DataFrame is turned
    into one)."""
    import pyarrow as pa

    if isinstance(batch, pa.Table):
        return batch
    if isinstance(batch, dict):
        return pa.table({name: list(column) for name, column in batch.items()})
    if hasattr(batch, "to_dict") and hasattr(batch, "columns"):
        return pa.Table.from_pandas(batch, preserve_index=False)
    raise RequestValidationError(f"InferenceMapper takes pyarrow blocks (batch_format='pyarrow'), not {type(batch)}")


def _input(value: Any) -> Any:
    """A cell as the task's input: a struct's null fields are left out (they were absent in that row)."""
    if isinstance(value, dict):
        return {key: item for key, item in value.items() if item is not None}
    return value


def _without(table: Any, names: tuple[str, ...]) -> Any:
    """The table without the columns it is about to get anew."""
    keep = [name for name in table.column_names if name not in names]
    return table.select(keep) if len(keep) < len(table.column_names) else table
