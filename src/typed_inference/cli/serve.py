"""`typed-inference serve` and `typed-inference demo-models`; their heavy imports happen only when they run."""

from __future__ import annotations

import argparse
import errno
import socket
import sys
from pathlib import Path
from typing import Any

from typed_inference.server.config import offline


def add_commands(subparsers: Any) -> None:
    """Registers `serve` and `demo-models` on the main parser's subcommands."""
    serve = subparsers.add_parser(
        "serve",
        help="run a local Inference API server (needs the server extra)",
        description="Serve local models over the Hugging Face Inference API's protocol. Nothing is downloaded.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080)")
    serve.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="ID=PATH[@TASK]",
        help="serve the model folder PATH as ID; the task is read from the folder unless given (repeatable)",
    )
    serve.add_argument(
        "--models-dir",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="serve every model a demo-models DIR holds",
    )
    serve.add_argument("--no-embedded", action="store_true", help="do not serve the embedded all-MiniLM-L6-v2")
    serve.add_argument("--hf-cache", type=Path, help="Hugging Face cache to serve models from (default: the hub's)")
    serve.add_argument("--workers", type=int, default=1, help="inference threads (default 1)")
    serve.add_argument("--threads", type=int, help="torch threads per forward pass (default: half the cores)")
    serve.add_argument("--max-queue", type=int, default=64, help="requests in flight before 429 (default 64)")
    serve.add_argument("--no-batching", action="store_true", help="run feature-extraction requests one by one")
    serve.add_argument("--batch-wait-ms", type=float, default=4.0, help="micro-batch collection window (default 4)")
    serve.add_argument("--max-batch", type=int, default=32, help="most texts in one forward pass (default 32)")
    serve.add_argument(
        "--max-body-bytes",
        type=int,
        default=32 * 1024 * 1024,
        help="larger request bodies get 413 (default 32 MiB; long uncompressed WAV needs more)",
    )
    serve.add_argument(
        "--max-audio-seconds", type=float, default=600.0, help="longer audio inputs get 400 (default 600)"
    )
    serve.add_argument(
        "--max-loaded-models",
        type=int,
        default=4,
        help="models from the Hugging Face cache kept loaded; the least recently used idle one goes (default 4)",
    )
    serve.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also answer requests for this Host name (repeatable; required with a wildcard --host; '*': any)",
    )
    serve.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="let web pages of this origin (https://example.org) call the server (repeatable; default none)",
    )
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    ray = serve.add_argument_group("Ray Serve", "serve from replicas on a Ray cluster (needs the ray extra)")
    ray.add_argument("--ray", action="store_true", help="run as a Ray Serve deployment (Serve's proxy on --port)")
    scale = ray.add_mutually_exclusive_group()
    scale.add_argument("--replicas", type=int, metavar="N", help="replicas, each loading the models (default 1)")
    scale.add_argument("--autoscale", metavar="MIN:MAX", help="let Serve scale the replicas between MIN and MAX")
    ray.add_argument("--replica-cpus", type=float, metavar="CPUS", help="CPUs each replica reserves (default 0.5)")
    serve.set_defaults(run=run_serve)

    demo = subparsers.add_parser(
        "demo-models",
        help="build tiny random demo models for every servable task",
        description="Build tiny, randomly initialised models (tokenizers trained on the fly) into DIR. "
        "Their outputs are random: they show shapes and types, not answers.",
    )
    demo.add_argument("directory", type=Path, metavar="DIR")
    demo.add_argument("--task", action="append", help="build only the model of this task (repeatable)")
    demo.set_defaults(run=run_demo_models)


def _needs_server_extra(command: str, exc: ImportError) -> int:
    """The hint, instead of a traceback, when a command runs without the server extra installed."""
    print(
        f"typed-inference {command} needs the server extra: pip install 'typed-inference[server]' ({exc})",
        file=sys.stderr,
    )
    return 1


def run_serve(args: argparse.Namespace) -> int:
    """Runs the server until interrupted."""
    offline()
    try:
        import uvicorn

        from typed_inference.server.app import create_app
    except ImportError as exc:
        return _needs_server_extra("serve", exc)
    from typed_inference.server.app import WILDCARD
    from typed_inference.server.backends import check_source, check_task_fits
    from typed_inference.server.config import ServerConfig
    from typed_inference.server.demo import read_manifest
    from typed_inference.server.resolve import ModelSource, ResolveError, describe_folder, from_mapping

    if not 0 <= args.port <= 65535:
        print(f"typed-inference serve: --port {args.port} is not a TCP port (0 to 65535)", file=sys.stderr)
        return 2
    if args.host in WILDCARD and not args.allow_host:
        print(
            f"typed-inference serve: --host {args.host} answers on every address: name the Host names clients use "
            "with --allow-host (--allow-host '*' answers any, which lets web pages reach the server via DNS rebinding)",
            file=sys.stderr,
        )
        return 2
    try:
        sources = [from_mapping(text) for text in args.model]
        for directory in args.models_dir:
            for model_id, (path, task) in read_manifest(directory).items():
                _, library, tags = describe_folder(path)
                sources.append(ModelSource(model_id, path.resolve(), task, library, tags, "explicit"))
        for source in sources:
            check_source(source)
        listening = None if args.ray else listen(args.host, args.port)  # Ray Serve's proxy binds its own
        for source in sources:
            check_task_fits(source)  # reads each config.json, loads no weights
    except (ResolveError, OSError, ValueError) as exc:
        print(f"typed-inference serve: {exc}", file=sys.stderr)
        return 2
    ray_flags = [
        flag
        for flag, value in (
            ("--replicas", args.replicas),
            ("--autoscale", args.autoscale),
            ("--replica-cpus", args.replica_cpus),
        )
        if value is not None
    ]
    if ray_flags and not args.ray:
        print(f"typed-inference serve: {', '.join(ray_flags)} needs --ray", file=sys.stderr)
        return 2
    config = ServerConfig(
        models=sources,
        embedded=not args.no_embedded,
        hf_cache=args.hf_cache,
        workers=args.workers,
        max_queue=args.max_queue,
        batching=not args.no_batching,
        batch_wait_ms=args.batch_wait_ms,
        max_batch=args.max_batch,
        max_body_bytes=args.max_body_bytes,
        max_audio_seconds=args.max_audio_seconds,
        max_loaded_models=args.max_loaded_models,
        host=args.host,
        allow_hosts=args.allow_host,
        allow_origins=args.allow_origin,
    )
    if args.threads:
        config.torch_threads = args.threads
    import logging

    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if "*" in args.allow_host:
        logging.getLogger("typed_inference.server").warning(
            "--allow-host '*': the Host check is off, so a web page can reach this server through DNS rebinding"
        )
    if args.ray:
        from typed_inference.ray._serve_cli import run_on_ray

        return run_on_ray(args, config)
    assert listening is not None
    settings = uvicorn.Config(create_app(config), log_level=args.log_level, access_log=False)
    uvicorn.Server(settings).run(sockets=[listening])
    return 0


def listen(host: str, port: int) -> socket.socket:
    """The server's socket, bound before any model loads: a busy port is one clear error, not a half start."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn: a restart reuses a port in TIME_WAIT
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise OSError(f"{host}:{port} is already in use (another server? pick another --port)") from None
        raise OSError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def run_demo_models(args: argparse.Namespace) -> int:
    """Builds the demo models and says plainly that they are random."""
    offline()
    try:
        import tokenizers  # noqa: F401  (building needs all three: fail before writing anything)
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as exc:
        return _needs_server_extra("demo-models", exc)
    from typed_inference.server.backends._hf import quiet
    from typed_inference.server.demo import DEMO_MODELS, MANIFEST, RANDOM_NOTE, build_demo_models

    known = {m.task for m in DEMO_MODELS}
    unknown = sorted(set(args.task or ()) - known)
    if unknown:
        print(
            f"demo-models: no demo model for {', '.join(unknown)} (known: {', '.join(sorted(known))})", file=sys.stderr
        )
        return 2
    quiet()
    manifest = build_demo_models(args.directory, set(args.task) if args.task else None)
    for model_id, entry in manifest.items():
        print(f"{model_id:36} {entry['task']:30} {args.directory / entry['path']}")
    print(f"\n{len(manifest)} demo models in {args.directory} ({MANIFEST}). WARNING: {RANDOM_NOTE}")
    print(f"Serve them: typed-inference serve --models-dir {args.directory}")
    return 0
