"""`infer(dataset, task, model, ...)`: a Dataset with the task's output column, through an `InferenceMapper` pool."""

from __future__ import annotations

from typing import Any

from typed_inference._errors import RequestValidationError
from typed_inference._generated.names import ProviderName
from typed_inference.ray._config import make_config
from typed_inference.ray._mapper import InferenceMapper


def infer(
    dataset: Any,
    task: str,
    model: str | None,
    *,
    input_column: str,
    output_column: str,
    request_batch_size: int = 32,
    requests_in_flight: int = 8,
    provider: ProviderName | None = None,
    base_url: str | None = None,
    token_env: str = "HF_TOKEN",
    on_error: str = "column",
    error_column: str = "error",
    actors: int = 1,
    actor_cpus: float = 0.25,
    batch_size: int = 256,
    **task_parameters: Any,
) -> Any:
    """A new Dataset: `dataset` with `output_column` (and `error_column`) added by `actors` InferenceMapper actors,
    each asking for `actor_cpus` CPUs (their work is waiting on the network) and taking blocks of `batch_size` rows.

    The settings are checked here, in the driver: a wrong one raises RequestValidationError before any actor starts.
    """
    kwargs = dict(
        task=task,
        model=model,
        input_column=input_column,
        output_column=output_column,
        request_batch_size=request_batch_size,
        requests_in_flight=requests_in_flight,
        provider=provider,
        base_url=base_url,
        token_env=token_env,
        on_error=on_error,
        error_column=error_column,
        **task_parameters,
    )
    make_config(**kwargs)
    for name, value in (("actors", actors), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise RequestValidationError(f"{name} must be a whole number of at least 1, not {value!r}")
    if isinstance(actor_cpus, bool) or not isinstance(actor_cpus, (int, float)) or not actor_cpus > 0:
        raise RequestValidationError(f"actor_cpus must be a number above 0, not {actor_cpus!r}")
    import ray.data

    mapped = dataset.map_batches(
        InferenceMapper,
        fn_constructor_kwargs=kwargs,
        batch_size=batch_size,
        batch_format="pyarrow",
        compute=ray.data.ActorPoolStrategy(size=actors),
        num_cpus=actor_cpus,
    )
    if on_error == "raise":  # the typed error itself, not Ray Data's UserCodeException around it (this Dataset only)
        mapped.context.raise_original_map_exception = True
    return mapped
