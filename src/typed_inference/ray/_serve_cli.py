"""`typed-inference serve --ray`: the local server on Ray Serve until Ctrl-C (or SIGTERM), then a clean stop."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from typing import Any

from typed_inference.server.config import ServerConfig


def run_on_ray(args: argparse.Namespace, config: ServerConfig) -> int:
    """Starts Ray (or joins the cluster RAY_ADDRESS names), deploys the server, and waits for Ctrl-C."""
    try:
        import ray
        from ray import serve
    except ImportError as exc:
        print(
            f"typed-inference serve --ray needs the ray extra: pip install 'typed-inference[ray]' ({exc})",
            file=sys.stderr,
        )
        return 1
    from typed_inference.ray.serve import ReplicaSettingsError, Scaling, deployment, parse_autoscale

    try:
        autoscale = parse_autoscale(args.autoscale) if args.autoscale is not None else None
        scaling = Scaling(
            args.replicas if args.replicas is not None else 1,
            autoscale,
            args.replica_cpus if args.replica_cpus is not None else 0.5,
        )
    except ReplicaSettingsError as exc:
        print(f"typed-inference serve: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if os.environ.get("RAY_ADDRESS"):
        ray.init()
    else:
        ray.init(include_dashboard=False)
    try:
        serve.start(http_options={"host": args.host, "port": args.port})
        app: Any = deployment(
            config, replicas=scaling.replicas, autoscale=scaling.autoscale, replica_cpus=scaling.replica_cpus
        )
        serve.run(app, name="typed-inference", route_prefix="/")
        count = f"{scaling.autoscale[0]}-{scaling.autoscale[1]}" if scaling.autoscale else str(scaling.replicas)
        print(
            f"typed-inference: serving on http://{args.host}:{args.port} from {count} Ray Serve replica(s); "
            "Ctrl-C stops",
            file=sys.stderr,
            flush=True,
        )
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        print("typed-inference: stopping the replicas", file=sys.stderr, flush=True)
        signal.signal(signal.SIGTERM, previous)
        serve.shutdown()
        ray.shutdown()
    return 0
