"""The `typed_inference` logger, switched on from the environment: `TYPED_INFERENCE_LOG=info` (each retry) or
`debug` (each attempt too), written to stderr. Applications that configure logging themselves need neither."""

from __future__ import annotations

import logging
import os

ENVIRONMENT_VARIABLE = "TYPED_INFERENCE_LOG"
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


class _EnvironmentHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The stderr handler `TYPED_INFERENCE_LOG` adds (one, however many clients are made)."""


def log_from_environment() -> None:
    """Sets the `typed_inference` logger's level, with a stderr handler, when TYPED_INFERENCE_LOG names a level."""
    level = _LEVELS.get(os.environ.get(ENVIRONMENT_VARIABLE, "").strip().lower())
    if level is None:
        return
    logger = logging.getLogger("typed_inference")
    logger.setLevel(level)
    if not any(isinstance(handler, _EnvironmentHandler) for handler in logger.handlers):
        handler = _EnvironmentHandler()
        handler.setFormatter(logging.Formatter("typed_inference: %(levelname)s: %(message)s"))
        logger.addHandler(handler)
