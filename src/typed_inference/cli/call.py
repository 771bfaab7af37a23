"""`typed-inference call`: one call of a task, or a batch of calls from a JSON Lines file, printed as JSON."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from typed_inference._jsonable import to_jsonable
from typed_inference.cli._common import LINE_SUFFIXES, CommandError, Subparsers, guarded, http_url

if TYPE_CHECKING:
    from typed_inference._task import TaskSpec
    from typed_inference.client import InferenceClient


def add_commands(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "call",
        help="call a task and print the typed result as JSON (a .jsonl --input-file runs a batch)",
        description="Call a task. --input-file with a .jsonl file runs one call per line (a request body or a bare "
        "input) and writes one result or one error per line, in input order.",
    )
    parser.add_argument("task", help="task id, e.g. fill-mask")
    parser.add_argument("--model", required=True, help="model id, or the URL of an endpoint")
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--input",
        help="the input: text (a JSON array of texts for tasks that take a list), a file path for binary tasks, JSON "
        "for object inputs",
    )
    source.add_argument("--input-file", metavar="FILE", help="a file holding the input; .jsonl: one call per line")
    parser.add_argument(
        "--param", action="append", default=[], metavar="KEY=VALUE", help="a parameter; VALUE is JSON, else text"
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--base-url", help="an endpoint every call goes to (default: HF_INFERENCE_ENDPOINT, else --provider's route)"
    )
    where.add_argument(
        "--provider",
        metavar="NAME",
        help="the inference provider: 'auto' (the default), 'hf-inference', 'together', ... (`typed-inference "
        "providers MODEL` lists a model's providers); overrides HF_INFERENCE_ENDPOINT",
    )
    parser.add_argument(
        "--router-url", type=http_url, metavar="URL", help="the router's base URL (default: HF_ROUTER_URL or HF's)"
    )
    parser.add_argument(
        "--hub-url",
        type=http_url,
        metavar="URL",
        help="the Hub, for provider mappings (default: HF_ENDPOINT or huggingface.co)",
    )
    parser.add_argument("--bill-to", metavar="ORG", help="bill routed provider calls to this organization")
    parser.add_argument("--output", metavar="FILE", help="write the result (or the batch's results) to FILE")
    parser.add_argument("--concurrency", type=int, default=4, metavar="N", help="calls in flight in a batch")
    parser.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS", help="per-attempt timeout")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    parser.set_defaults(run=guarded("call", run_call))


def parse_params(items: Sequence[str]) -> dict[str, Any]:
    """`--param key=value` pairs as a dict; values are read as JSON when they parse, as text otherwise."""
    params: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise CommandError(f"--param {item!r}: expected KEY=VALUE")
        try:
            params[key.strip()] = json.loads(raw)
        except ValueError:
            params[key.strip()] = raw
    return params


def run_call(args: argparse.Namespace) -> int:
    """`typed-inference call`: one call, or a batch for a .jsonl --input-file."""
    from typed_inference.validation import resolve_task

    spec = resolve_task(args.task)
    params = parse_params(args.param)
    if args.concurrency < 1:
        raise CommandError("--concurrency must be at least 1")
    if args.input_file and args.input_file.endswith(LINE_SUFFIXES):
        return run_batch(args, spec, params)
    inputs = single_input(spec, args)
    from typed_inference import InferenceError, ModelNotSupportedError, RequestValidationError

    with make_client(args) as client:
        try:
            result = invoke(client, spec, inputs, params, args.model)
        except ModelNotSupportedError as exc:  # the Hub's mapping has no usable provider: not a usage error
            print(f"typed-inference call: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
        except RequestValidationError as exc:
            # raised before anything is sent: a misspelt --param, or a value (of --param or --input) the schema
            # refuses; either way the command line's fault, a usage error
            raise CommandError(str(exc)) from None
        except InferenceError as exc:
            print(f"typed-inference call: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
    write_result(result, args.output)
    return 0


def make_client(args: argparse.Namespace) -> InferenceClient:
    """The client of a `call`: its endpoint or provider, the router, the Hub, bill-to and the timeout."""
    from typed_inference.client import InferenceClient

    try:
        return InferenceClient(
            base_url=args.base_url,
            provider=args.provider,
            router_url=args.router_url,
            hub_url=args.hub_url,
            bill_to=args.bill_to,
            timeout=args.timeout,
        )
    except ValueError as exc:  # a combination the client refuses (base_url= with provider=)
        raise CommandError(str(exc)) from None


def single_input(spec: TaskSpec, args: argparse.Namespace) -> Any:
    """The input of a single call from --input or --input-file, as the task's method takes it."""
    if args.input is None and args.input_file is None:
        raise CommandError("give the input with --input TEXT or --input-file FILE")
    if spec.input_kind == "binary":
        return args.input if args.input is not None else args.input_file
    if args.input is not None:
        raw: str = args.input
    else:
        try:
            raw = Path(args.input_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {args.input_file}: {exc}") from None
        raw = raw.removesuffix("\n")
    if spec.input_kind == "text":
        return texts(raw) if spec.batch else raw
    try:
        return json.loads(raw)
    except ValueError:
        if spec.body == "chat":
            return [{"role": "user", "content": raw}]
        raise CommandError(
            f"{spec.task} takes a JSON input (an object of its fields): {raw[:40]!r} is not JSON"
        ) from None


def texts(raw: str) -> str | list[str]:
    """A batch task's input: a JSON array of strings is a list of texts (one result each), anything else one text."""
    if raw.lstrip().startswith("["):
        try:
            value = json.loads(raw)
        except ValueError:
            return raw
        if isinstance(value, list) and value and all(isinstance(item, str) for item in value):
            return value
    return raw


def binary_value(value: Any) -> Any:
    """A binary input as the methods take it: a path that exists stays a path, other text is read as base64."""
    import base64
    import binascii

    if not isinstance(value, str) or Path(value).is_file():
        return value
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return value


def invoke(client: InferenceClient, spec: TaskSpec, inputs: Any, params: dict[str, Any], model: str) -> Any:
    """`client.call` with an input (request-body form or bare), parameters, and binary text read as base64."""
    for name in ("stream", "model"):
        if name in params:
            raise CommandError(f"leave --param {name} out: call prints whole results, and --model names the model")
    if spec.first_argument is None and isinstance(inputs, dict):
        inputs = {k: binary_value(v) if k in spec.binary_fields else v for k, v in inputs.items()}
    elif spec.input_kind == "binary":
        inputs = binary_value(inputs)
    return client.call(spec.task, inputs, **params, model=model)


def write_result(result: Any, output: str | None) -> None:
    """Prints a single call's result as JSON, or writes it to --output (binary results as raw bytes)."""
    from typed_inference._binary import BinaryOutput

    if output and isinstance(result, BinaryOutput):
        Path(output).write_bytes(result)
        return
    value = to_jsonable(result)
    # numbers (embeddings, scores) on one compact line: indented, a 384-wide row is 384 lines
    indent = None if _numbers_only(value) else 2
    text = json.dumps(value, indent=indent, ensure_ascii=False) + "\n"
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def _numbers_only(value: Any) -> bool:
    """Whether a JSON value is a number or (nested) lists of numbers only."""
    if isinstance(value, list):
        return all(_numbers_only(item) for item in value)
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def line_request(spec: TaskSpec, raw: bytes) -> tuple[Any, dict[str, Any]]:
    """(input, parameters) of one batch line: a request body (checked against the input schema) or a bare input."""
    from typed_inference.validation import validator

    value = json.loads(raw)
    key = "messages" if spec.body == "chat" else "inputs"
    if not (isinstance(value, dict) and key in value):
        return value, {}
    report = validator(spec.task, "input").check(value)
    if not report.valid:
        raise ValueError("invalid request: " + "; ".join(str(p) for p in report.errors))
    params: dict[str, Any] = dict(value.get("options") or {})
    if spec.body == "nested":
        params.update(value.get("parameters") or {})
    else:
        params.update({k: v for k, v in value.items() if k not in (key, "model", "stream", "options")})
    return value[key], params


@dataclass
class Progress:
    """Progress of a batch on stderr: a tqdm bar when tqdm is installed, a plain counter line otherwise."""

    total: int
    quiet: bool
    done: int = 0
    failed: int = 0
    bar: Any = None

    def __post_init__(self) -> None:
        if self.quiet:
            return
        try:
            from tqdm import tqdm  # type: ignore[import-untyped, unused-ignore]
        except ImportError:
            return
        self.bar = tqdm(total=self.total, unit="call", file=sys.stderr, dynamic_ncols=True)

    def step(self, ok: bool) -> None:
        """Counts one finished call."""
        self.done += 1
        self.failed += not ok
        if self.quiet:
            return
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(failed=self.failed, refresh=False)
        elif sys.stderr.isatty() or self.done == self.total or self.done % max(1, self.total // 10) == 0:
            end = "\n" if self.done == self.total or not sys.stderr.isatty() else ""
            print(f"\r{self.done}/{self.total} calls, {self.failed} failed", end=end, file=sys.stderr, flush=True)

    def close(self) -> None:
        """Ends the progress display."""
        if self.bar is not None:
            self.bar.close()


def run_batch(args: argparse.Namespace, spec: TaskSpec, params: dict[str, Any]) -> int:
    """Runs one call per line of a JSON Lines file, writing one result or error per line, in input order.

    Ctrl-C stops it at once (no new request; the ones in flight are closed) and still writes a record for every
    line, in order: the results received, and an `Interrupted` error for each line whose result never came.
    """
    from typed_inference._map import run_threads

    try:
        data = Path(args.input_file).read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read {args.input_file}: {exc.strerror or exc}") from None
    items = [(n, line) for n, line in enumerate(data.split(b"\n"), 1) if line.strip()]
    progress = Progress(len(items), args.quiet)
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout  # noqa: SIM115
    failed = 0
    received: dict[int, dict[str, Any]] = {}  # results that arrived ahead of an earlier line's
    written = 0

    def write(record: dict[str, Any]) -> None:
        out.write(json.dumps(record, ensure_ascii=False) + "\n")

    try:
        with make_client(args) as client:

            def call(item: tuple[int, bytes]) -> Callable[[], dict[str, Any]]:
                return lambda: call_line(client, spec, params, args.model, *item)

            try:
                for position, record in run_threads([call(item) for item in items], args.concurrency):
                    failed += "error" in record
                    progress.step("error" not in record)
                    received[position] = record
                    while written in received:
                        write(received.pop(written))
                        written += 1
            except KeyboardInterrupt:
                for position in range(written, len(items)):
                    write(received.get(position) or interrupted(items[position][0]))
                raise
    finally:
        progress.close()
        if out is not sys.stdout:
            out.close()
        else:
            out.flush()
    return 1 if failed else 0


def interrupted(line: int) -> dict[str, Any]:
    """The record of a line whose result never arrived: the batch was interrupted first."""
    message = "interrupted (Ctrl-C) before its result arrived"
    return {"line": line, "error": {"type": "Interrupted", "message": message}}


def call_line(
    client: InferenceClient, spec: TaskSpec, params: dict[str, Any], model: str, line: int, raw: bytes
) -> dict[str, Any]:
    """The output record of one batch line: `{"line", "result"}` or `{"line", "error"}`; never raises."""
    try:
        inputs, own = line_request(spec, raw)
        return {"line": line, "result": to_jsonable(invoke(client, spec, inputs, {**params, **own}, model))}
    except Exception as exc:  # a failed line is reported in its place and does not stop the batch
        error: dict[str, Any] = {"type": type(exc).__name__, "message": str(exc)}
        status = getattr(exc, "status_code", None)
        if status is not None:
            error["status_code"] = status
        return {"line": line, "error": error}
