"""The settings of an `InferenceMapper`, checked where they are given (the driver) before any actor starts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from typed_inference._call import call_arguments, task_spec
from typed_inference._errors import RequestValidationError
from typed_inference._generated.names import ProviderName
from typed_inference._task import TaskSpec
from typed_inference.ray._arrow import OutputColumn, output_column

OnError = Literal["column", "raise"]


@dataclass(frozen=True)
class MapperConfig:
    """What one mapper does: the task and model, the columns, how it batches, and where errors go. No token: the
    token is read on the worker from `token_env`."""

    task: str
    model: str | None
    input_column: str
    output_column: str
    request_batch_size: int = 32
    requests_in_flight: int = 8
    provider: ProviderName | None = None
    base_url: str | None = None
    token_env: str = "HF_TOKEN"
    on_error: OnError = "column"
    error_column: str = "error"
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def spec(self) -> TaskSpec:
        """The task's registry entry."""
        return task_spec(self.task)

    @property
    def column(self) -> OutputColumn:
        """The output column's Arrow type and converter."""
        return output_column(self.spec)


def require_ray_extra() -> None:
    """An ImportError with the install line when the ray extra (ray, pyarrow) is missing, not a bare
    ModuleNotFoundError from deep inside a call."""
    try:
        import pyarrow  # noqa: F401
        import ray  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            f"typed_inference.ray needs the ray extra: pip install 'typed-inference[ray]' ({exc})"
        ) from None


def _name(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RequestValidationError(f"{what} must be a non-empty column name, not {value!r}")
    return value


def _count(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise RequestValidationError(f"{what} must be a whole number of at least 1, not {value!r}")
    return value


def make_config(
    task: str,
    model: str | None,
    input_column: str,
    output_column: str,
    *,
    request_batch_size: int = 32,
    requests_in_flight: int = 8,
    provider: ProviderName | None = None,
    base_url: str | None = None,
    token_env: str = "HF_TOKEN",
    on_error: str = "column",
    error_column: str = "error",
    **task_parameters: Any,
) -> MapperConfig:
    """The checked settings; a RequestValidationError naming the field for anything wrong."""
    require_ray_extra()
    if not isinstance(task, str):
        raise RequestValidationError(f"task must be a task name such as 'feature-extraction', not {task!r}")
    spec = task_spec(task)
    if model is not None and (not isinstance(model, str) or not model.strip()):
        raise RequestValidationError(f"model must be a model id, not {model!r}")
    names = {
        "input_column": _name(input_column, "input_column"),
        "output_column": _name(output_column, "output_column"),
        "error_column": _name(error_column, "error_column"),
    }
    if len(set(names.values())) < len(names):
        raise RequestValidationError(f"input_column, output_column and error_column must differ: {names}")
    if on_error not in ("column", "raise"):
        raise RequestValidationError(f"on_error must be 'column' or 'raise', not {on_error!r}")
    if not isinstance(token_env, str) or not token_env.strip():
        raise RequestValidationError(f"token_env must name an environment variable, not {token_env!r}")
    for what, value in (("provider", provider), ("base_url", base_url)):
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise RequestValidationError(f"{what} must be a non-empty string or None, not {value!r}")
    if task_parameters.get("stream"):
        raise RequestValidationError("stream: a mapper collects whole answers; leave stream unset")
    call_arguments(spec.task, {} if spec.first_argument is None else "-", task_parameters)  # unknown keywords
    config = MapperConfig(
        task=spec.task,
        model=model,
        input_column=input_column,
        output_column=output_column,
        request_batch_size=_count(request_batch_size, "request_batch_size"),
        requests_in_flight=_count(requests_in_flight, "requests_in_flight"),
        provider=provider,
        base_url=base_url,
        token_env=token_env,
        on_error="raise" if on_error == "raise" else "column",
        error_column=error_column,
        parameters=dict(task_parameters),
    )
    config.column  # noqa: B018  (an unsupported output fails here, at construction)
    return config
