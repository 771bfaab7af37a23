"""The local server as a Ray Serve deployment: the same FastAPI app in every replica, behind Serve's HTTP proxy.

Each replica builds its own app from the `ServerConfig` and loads its models before it takes traffic;
micro-batching stays inside a replica, and Serve spreads the requests. The Host rule is the one a server bound to
Serve's HTTP host would apply. Needs the ray extra: `pip install 'typed-inference[ray]'`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Any

from typed_inference.server.config import ServerConfig

LOAD_TIMEOUT = 600.0  # seconds a replica waits for its models before it gives up starting


class ReplicaSettingsError(ValueError):
    """Replica counts or CPUs that Serve cannot run."""


@dataclasses.dataclass(frozen=True)
class Scaling:
    """How many replicas: a fixed `replicas`, or `autoscale` between a minimum and a maximum; CPUs per replica."""

    replicas: int = 1
    autoscale: tuple[int, int] | None = None
    replica_cpus: float = 0.5

    def __post_init__(self) -> None:
        if isinstance(self.replicas, bool) or not isinstance(self.replicas, int) or self.replicas < 1:
            raise ReplicaSettingsError(f"replicas must be a whole number of at least 1, not {self.replicas!r}")
        if self.autoscale is not None:
            low, high = self.autoscale
            if not (isinstance(low, int) and isinstance(high, int)) or low < 1 or high < low:
                raise ReplicaSettingsError(f"autoscale must be MIN:MAX with 1 <= MIN <= MAX, not {low}:{high}")
        cpus = self.replica_cpus
        if isinstance(cpus, bool) or not isinstance(cpus, (int, float)) or not cpus > 0:
            raise ReplicaSettingsError(f"replica_cpus must be a number above 0, not {cpus!r}")

    def options(self) -> dict[str, Any]:
        """`serve.deployment` options."""
        options: dict[str, Any] = {"ray_actor_options": {"num_cpus": self.replica_cpus}}
        if self.autoscale is None:
            options["num_replicas"] = self.replicas
        else:
            low, high = self.autoscale
            options["autoscaling_config"] = {"min_replicas": low, "max_replicas": high, "initial_replicas": low}
        return options


def parse_autoscale(text: str) -> tuple[int, int]:
    """`MIN:MAX` as two numbers; ReplicaSettingsError naming the flag otherwise."""
    low, sep, high = text.partition(":")
    try:
        if not sep:
            raise ValueError
        return int(low), int(high)
    except ValueError:
        raise ReplicaSettingsError(f"--autoscale takes MIN:MAX (two whole numbers, 1:4), not {text!r}") from None


def serve_http_host() -> str:
    """The host Serve's HTTP proxies listen on: the running Serve instance's, else Serve's default."""
    from ray.serve.config import HTTPOptions

    try:
        from ray.serve.context import _get_global_client

        client = _get_global_client(raise_if_no_controller_running=False)
    except Exception:  # an API this Ray version lacks, or no cluster: Serve's default applies
        client = None
    host = client.http_config.host if client is not None else HTTPOptions().host
    return str(host or "127.0.0.1")


class LocalServer:
    """A replica of the local server: builds the app from its config, loads the models, then serves."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config

    async def __serve_build_asgi_app__(self) -> Any:
        """The replica's app, returned once its models are loaded (or failed to), so Serve routes no request to a
        replica still loading."""
        from typed_inference.server.app import create_app
        from typed_inference.server.config import offline

        offline()
        app = create_app(self.config)
        server = app.state.server
        server.start()  # the app's own start (its lifespan) finds them already queued
        deadline = time.monotonic() + LOAD_TIMEOUT
        while any(entry.state in ("queued", "loading") for entry in server.store.entries()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the models were still loading after {LOAD_TIMEOUT:.0f} s")
            await asyncio.sleep(0.1)
        return app


def deployment(
    config: ServerConfig | None = None,
    *,
    replicas: int = 1,
    autoscale: tuple[int, int] | None = None,
    replica_cpus: float = 0.5,
    name: str = "typed-inference",
) -> Any:
    """The local server as a Ray Serve application (`serve.run(deployment(config, replicas=2))`).

    The config's `host` is set to Serve's HTTP host (its Host rule follows), so call `serve.start(http_options=...)`
    first when Serve is not to use its defaults.
    """
    from ray import serve

    scaling = Scaling(replicas, autoscale, replica_cpus)
    config = dataclasses.replace(config or ServerConfig(), host=serve_http_host())
    ingress = serve.ingress()(LocalServer)
    return serve.deployment(ingress, name=name, **scaling.options()).bind(config)
