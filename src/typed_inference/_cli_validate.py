"""`validate`, `tasks`, `schema`, `example` and `call`: the command line over the registry, schemas and client.

Imports stay inside the commands: `validate` loads pydantic and one task's models, never the HTTP stack, and only
`call` imports the client (and with it `requests`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typed_inference._task import TaskSpec
    from typed_inference.client import InferenceClient
    from typed_inference.validate import BatchReport, Entry

KIND_CHOICES = ("input", "parameters", "output", "stream-output")
LINE_SUFFIXES = (".jsonl", ".ndjson")
DEFAULT_GLOBS = ("*.json", "*.jsonl", "*.ndjson")
Run = Callable[[argparse.Namespace], int]


class CommandError(Exception):
    """A usage error found while a command runs (exit code 2), with the message to show."""


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Registers validate, tasks, schema, example and call on the `typed-inference` parser."""
    _add_validate(subparsers)
    _add_tasks(subparsers)
    _add_schema(subparsers)
    _add_example(subparsers)
    _add_call(subparsers)


def guarded(name: str, run: Run) -> Run:
    """A command that reports every failure as a message and an exit code, never as a traceback."""

    def wrapper(args: argparse.Namespace) -> int:
        for stream in (sys.stdout, sys.stderr):
            reconfigure = getattr(stream, "reconfigure", None)
            if reconfigure is not None:
                reconfigure(errors="backslashreplace")
        from typed_inference.validate import UsageError

        try:
            return run(args)
        except (UsageError, CommandError) as exc:
            print(f"typed-inference {name}: error: {exc}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print(f"typed-inference {name}: interrupted", file=sys.stderr)
            return 130
        except BrokenPipeError:
            sys.stderr.close()  # the reader went away (`| head`): nothing left to say
            return 0
        except Exception as exc:
            if os.environ.get("TYPED_INFERENCE_DEBUG"):
                raise
            print(f"typed-inference {name}: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 2

    return wrapper


# -- validate -----------------------------------------------------------------------------------------------------


def _add_validate(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="check JSON / JSONL payloads against a task's schema (exit 0 valid, 1 invalid, 2 usage error)",
        description="Check payloads against a task's schema: .json files (one payload, or an array with --each), "
        ".jsonl files (one payload a line), directories (recursed) or - for stdin.",
    )
    parser.add_argument("--task", required=True, help="task id, e.g. fill-mask (`typed-inference tasks` lists them)")
    parser.add_argument("--kind", default="input", help=f"what the payloads are: {', '.join(KIND_CHOICES)}")
    parser.add_argument("--each", action="store_true", help="a .json file (or stdin) holds an array of payloads")
    parser.add_argument("--jsonl", action="store_true", help="read every file and stdin as JSON Lines")
    parser.add_argument(
        "--glob", action="append", metavar="PATTERN", help="files to take from directories (default: *.json, *.jsonl)"
    )
    parser.add_argument("--strict", action="store_true", help="outputs: reject fields the schema does not know")
    parser.add_argument("--canonical-only", action="store_true", help="outputs: reject the real wire variants")
    parser.add_argument("--format", choices=("text", "json", "github"), default="text", help="report format")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files, directories, or - for stdin")
    parser.set_defaults(run=guarded("validate", run_validate))


@dataclass
class Source:
    """One place payloads are read from: a file, or stdin."""

    name: str
    path: Path | None


@dataclass
class Outcome:
    """What validating one source found."""

    source: Source
    batch: BatchReport
    notes: list[str] = field(default_factory=list)


def run_validate(args: argparse.Namespace) -> int:
    """`typed-inference validate`: checks every payload of every path, prints a report, returns the exit code."""
    import gc

    collecting = gc.isenabled()
    gc.disable()  # the hot loop frees everything it makes: collections would only cost time
    try:
        return _validate_paths(args)
    finally:
        if collecting:
            gc.enable()


def _validate_paths(args: argparse.Namespace) -> int:
    """Validates every path of the command line and prints the report; returns the exit code."""
    from typed_inference.validate import validator

    check = validator(args.task, args.kind, strict=args.strict, canonical_only=args.canonical_only)
    sources = resolve_sources(args.paths, tuple(args.glob or DEFAULT_GLOBS))
    outcomes: list[Outcome] = []
    unreadable: list[str] = []
    for source in sources:
        try:
            data = read_source(source)
        except OSError as exc:
            unreadable.append(f"cannot read {source.name}: {exc.strerror or exc}")
            continue
        outcomes.append(validate_source(check, source, data, args))
    report = FORMATTERS[args.format](outcomes, unreadable, check.spec.task, check.kind)
    sys.stdout.write(report)
    sys.stdout.flush()
    for message in unreadable:
        print(f"typed-inference validate: error: {message}", file=sys.stderr)
    if unreadable:
        return 2
    return 1 if any(not o.batch.valid for o in outcomes) else 0


def resolve_sources(paths: Sequence[str], globs: Sequence[str]) -> list[Source]:
    """The files behind the PATH arguments (directories recursed with the globs); a CommandError for missing ones."""
    sources: list[Source] = []
    problems: list[str] = []
    for raw in paths:
        if raw == "-":
            sources.append(Source("<stdin>", None))
            continue
        path = Path(raw)
        if path.is_dir():
            found = sorted({p for pattern in globs for p in path.rglob(pattern) if p.is_file()})
            if not found:
                problems.append(f"no files matching {', '.join(globs)} under {raw}")
            sources += [Source(str(p), p) for p in found]
        elif path.exists():
            sources.append(Source(raw, path))
        else:
            problems.append(f"no such file or directory: {raw}")
    if problems:
        raise CommandError("; ".join(problems))
    return sources


def read_source(source: Source) -> bytes:
    """The bytes of a source (stdin read whole)."""
    if source.path is None:
        return sys.stdin.buffer.read()
    return source.path.read_bytes()


def validate_source(check: Any, source: Source, data: bytes, args: argparse.Namespace) -> Outcome:
    """The outcome of one source, read as JSON Lines, as an array of payloads (--each), or as one payload."""
    lines = args.jsonl or source.name.endswith(LINE_SUFFIXES)
    if lines:
        return Outcome(source, check.check_lines(data))
    if args.each:
        return Outcome(source, check.check_array(data))
    outcome = Outcome(source, check.check_document(data))
    if outcome.batch.valid:
        return outcome
    if check.kind != "output" and data.lstrip().startswith(b"["):
        outcome.notes.append("the file holds an array: pass --each to check each element as a payload")
    first = outcome.batch.entries[0].report.errors[0].message
    if first.startswith("malformed JSON: Extra data"):
        outcome.notes.append("the file holds several JSON values: pass --jsonl to read it as JSON Lines")
    return outcome


def _counts(outcomes: Sequence[Outcome]) -> tuple[int, int, int]:
    """(payloads checked, invalid payloads, payloads in a wire variant) over every source."""
    checked = invalid = variants = 0
    for outcome in outcomes:
        checked += outcome.batch.checked
        for entry in outcome.batch.entries:
            invalid += not entry.report.valid
            variants += bool(entry.report.valid and entry.report.variant)
    return checked, invalid, variants


def summary(outcomes: Sequence[Outcome], unreadable: Sequence[str], task: str, kind: str) -> str:
    """The closing line of a text report."""
    checked, invalid, variants = _counts(outcomes)
    files = f"{len(outcomes)} file{'s' if len(outcomes) != 1 else ''}"
    payloads = f"{checked:,} payload{'s' if checked != 1 else ''}"
    verdict = f"{invalid:,} of {payloads} invalid" if invalid else f"{payloads} valid"
    if not checked and not invalid:
        verdict = "no payloads found"
    extra = f", {variants:,} in a wire variant" if variants else ""
    failed = f", {len(unreadable)} unreadable" if unreadable else ""
    return f"{task} {kind}: {verdict} in {files}{extra}{failed}\n"


def _where(name: str, line: int | None, column: int | None) -> str:
    """`file:line:column` as far as known."""
    out = name
    if line is not None:
        out += f":{line}"
        if column is not None:
            out += f":{column}"
    return out


def format_text(outcomes: Sequence[Outcome], unreadable: Sequence[str], task: str, kind: str) -> str:
    """The human report: one line per problem (`file:line:col: error: path: message`), then a summary."""
    out: list[str] = []
    for outcome in outcomes:
        name = outcome.source.name
        for entry in outcome.batch.entries:
            report = entry.report
            if report.valid:
                out.append(f"{_where(name, entry.line, None)}: note: wire variant {report.variant!r}\n")
                continue
            for p in report.errors:
                out.append(f"{_where(name, p.line, p.column)}: error: {p.path}: {p.message}\n")
        out += [f"{name}: note: {note}\n" for note in outcome.notes]
    out.append(summary(outcomes, unreadable, task, kind))
    return "".join(out)


def _entry_json(name: str, entry: Entry) -> Iterator[dict[str, Any]]:
    """The JSON records of one entry: one per problem, or one for an output's wire variant."""
    report = entry.report
    if report.valid:
        yield {"file": name, "line": entry.line, "index": entry.index, "variant": report.variant}
        return
    for p in report.errors:
        yield {
            "file": name,
            "line": p.line,
            "column": p.column,
            "index": entry.index,
            "path": p.path,
            "message": p.message,
            "expected": p.expected,
            "found": p.found,
        }


def format_json(outcomes: Sequence[Outcome], unreadable: Sequence[str], task: str, kind: str) -> str:
    """The machine-readable report: totals, per-file counts, every problem and every wire variant seen."""
    checked, invalid, _ = _counts(outcomes)
    problems: list[dict[str, Any]] = []
    variants: list[dict[str, Any]] = []
    files = []
    for outcome in outcomes:
        name = outcome.source.name
        for entry in outcome.batch.entries:
            (variants if entry.report.valid else problems).extend(_entry_json(name, entry))
        bad = len(outcome.batch.invalid)
        files.append({"file": name, "checked": outcome.batch.checked, "invalid": bad, "notes": outcome.notes})
    document = {
        "task": task,
        "kind": kind,
        "valid": not invalid and not unreadable,
        "checked": checked,
        "invalid": invalid,
        "files": files,
        "problems": problems,
        "variants": variants,
        "errors": list(unreadable),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _escape(text: str, *, prop: bool = False) -> str:
    """Text escaped for a GitHub Actions workflow command (its properties also escape `:` and `,`)."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def format_github(outcomes: Sequence[Outcome], unreadable: Sequence[str], task: str, kind: str) -> str:
    """GitHub Actions annotations (`::error file=...,line=...::`), one per problem, then the summary line."""
    title = _escape(f"typed-inference {task} {kind}", prop=True)
    out: list[str] = []
    for outcome in outcomes:
        name = _escape(outcome.source.name, prop=True)
        for entry in outcome.batch.entries:
            report = entry.report
            if report.valid:
                where = f"file={name},line={entry.line or 1}"
                out.append(f"::notice {where},title={title}::{_escape(f'wire variant {report.variant!r}')}\n")
                continue
            for p in report.errors:
                where = f"file={name},line={p.line or 1}" + (f",col={p.column}" if p.column else "")
                out.append(f"::error {where},title={title}::{_escape(f'{p.path}: {p.message}')}\n")
    for message in unreadable:
        out.append(f"::error title={title}::{_escape(message)}\n")
    out.append(summary(outcomes, unreadable, task, kind))
    return "".join(out)


FORMATTERS: dict[str, Callable[[Sequence[Outcome], Sequence[str], str, str], str]] = {
    "text": format_text,
    "json": format_json,
    "github": format_github,
}


# -- tasks --------------------------------------------------------------------------------------------------------


def _add_tasks(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("tasks", help="list the tasks with their input kind and method name")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="table or JSON")
    parser.set_defaults(run=guarded("tasks", run_tasks))


def method_name(spec: TaskSpec) -> str:
    """The client method of a task."""
    return spec.task.replace("-", "_")


def run_tasks(args: argparse.Namespace) -> int:
    """`typed-inference tasks`: one line per task (or a JSON list)."""
    from typed_inference._generated.registry import TASKS
    from typed_inference.validate import kinds_of

    rows = [(spec, method_name(spec), ", ".join(kinds_of(spec))) for spec in TASKS.values()]
    if args.format == "json":
        records = [
            {"task": s.task, "input_kind": s.input_kind, "method": m, "kinds": k.split(", "), "summary": s.summary}
            for s, m, k in rows
        ]
        sys.stdout.write(json.dumps(records, indent=2) + "\n")
        return 0
    width = max(len(s.task) for s, _, _ in rows) + 2
    lines = [f"{'TASK':<{width}}{'INPUT':<8}{'METHOD':<{width}}KINDS"]
    lines += [f"{s.task:<{width}}{s.input_kind:<8}{m:<{width}}{k}" for s, m, k in rows]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


# -- schema -------------------------------------------------------------------------------------------------------


def _add_schema(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("schema", help="print a task's JSON Schema (self-contained) for other tools")
    parser.add_argument("task", help="task id, e.g. fill-mask")
    parser.add_argument("--kind", default="input", help=f"which schema: {', '.join(KIND_CHOICES)}")
    parser.add_argument("--array", action="store_true", help="wrap it as the schema of an array of such payloads")
    parser.set_defaults(run=guarded("schema", run_schema))


def schema_title(spec: TaskSpec, kind: str) -> str:
    """The `$defs` entry holding a kind's schema (any kind the task has, binary outputs included)."""
    from typed_inference.validate import KINDS, UsageError, resolve_kind

    if kind == "output" and spec.output_kind == "binary":
        return spec.output_model
    resolve_kind(spec, kind)
    models = (spec.input_model, spec.parameters_model, spec.output_model, spec.stream_model)
    titles: dict[str, str | None] = dict(zip(KINDS, models, strict=True))
    title = titles[kind]
    if title is None:  # pragma: no cover - resolve_kind refuses kinds a task lacks
        raise UsageError(f"{spec.task} has no {kind} schema")
    return title


def task_bundle(task: str) -> dict[str, Any]:
    """A task's bundled JSON Schema (`$defs` of all its types and the common ones), as shipped or from schemas/."""
    from importlib import resources

    try:
        text = (resources.files("typed_inference") / "schemas" / f"{task}.json").read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return _bundle_from_repo(task)
    bundle: dict[str, Any] = json.loads(text)
    return bundle


def _bundle_from_repo(task: str) -> dict[str, Any]:
    """The bundle built at run time from the repository's schemas/ (a checkout whose codegen did not export them)."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "codegen" / "schemas_export.py").is_file() or not (root / "schemas" / task).is_dir():
        raise CommandError("this installation carries no JSON Schemas (typed_inference/schemas/ is missing)")
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from codegen.schemas_export import bundle_task

    return bundle_task(root / "schemas", task)


def json_schema(spec: TaskSpec, kind: str, *, array: bool = False) -> dict[str, Any]:
    """The self-contained JSON Schema of one kind of a task's payloads (of an array of them with `array`)."""
    bundle = task_bundle(spec.task)
    ref = {"$ref": f"#/$defs/{schema_title(spec, kind)}"}
    body: dict[str, Any] = {"type": "array", "items": ref} if array else ref
    return {"$schema": bundle["$schema"], **body, "$defs": bundle["$defs"]}


def run_schema(args: argparse.Namespace) -> int:
    """`typed-inference schema TASK`: prints the JSON Schema."""
    from typed_inference.validate import resolve_task

    spec = resolve_task(args.task)
    sys.stdout.write(json.dumps(json_schema(spec, args.kind, array=args.array), indent=2, ensure_ascii=False) + "\n")
    return 0


# -- example ------------------------------------------------------------------------------------------------------


def _add_example(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("example", help="print a minimal valid request (or output) of a task")
    parser.add_argument("task", help="task id, e.g. fill-mask")
    parser.add_argument("--kind", default="input", help=f"which payload: {', '.join(KIND_CHOICES)}")
    parser.set_defaults(run=guarded("example", run_example))


# 1×1 PNG and a short silent WAV: base64 samples for binary fields that decode to what their media type says.
_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg=="
_WAV = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YQIAAAAAAA=="
_TEXTS = {
    "question": "What is the capital of France?",
    "context": "Paris is the capital of France.",
    "source_sentence": "That is a happy person.",
    "content": "Hello!",
    "role": "user",
}


def example_value(schema: dict[str, Any], defs: dict[str, Any], name: str = "", depth: int = 0) -> Any:
    """A minimal value valid against `schema`: required properties only, the first choice of every alternative."""
    if depth > 40:
        return None
    if "$ref" in schema:
        target = defs[schema["$ref"].rsplit("/", 1)[-1]]
        return example_value({"description": schema.get("description", ""), **target}, defs, name, depth + 1)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
            inherited = {"description": schema.get("description", ""), **options[0]}
            return example_value(inherited, defs, name, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    return _SCALARS.get(str(kind), _example_string)(schema, defs, name, depth)


def _example_object(schema: dict[str, Any], defs: dict[str, Any], name: str, depth: int) -> Any:
    props = schema.get("properties", {})
    return {key: example_value(props.get(key, {}), defs, key, depth + 1) for key in schema.get("required", [])}


def _example_array(schema: dict[str, Any], defs: dict[str, Any], name: str, depth: int) -> Any:
    count = max(1, schema.get("minItems", 0))
    count = min(count, schema.get("maxItems", count))
    return [example_value(schema.get("items", {}), defs, name, depth + 1) for _ in range(count)]


def _example_number(schema: dict[str, Any], defs: dict[str, Any], name: str, depth: int) -> Any:
    integer = schema.get("type") == "integer"
    step = 1 if integer else 0.5
    value = schema["exclusiveMinimum"] + step if "exclusiveMinimum" in schema else schema.get("minimum", step)
    high = schema.get("maximum", value)
    return int(min(value, high)) if integer else float(min(value, high))


def _example_string(schema: dict[str, Any], defs: dict[str, Any], name: str, depth: int) -> Any:
    if schema.get("contentEncoding") == "base64":
        return _WAV if str(schema.get("contentMediaType", "")).startswith("audio") else _PNG
    if "[MASK]" in schema.get("description", ""):
        return "The goal of life is [MASK]."
    return _TEXTS.get(name, "Hello, world.")


_SCALARS: dict[str, Callable[[dict[str, Any], dict[str, Any], str, int], Any]] = {
    "object": _example_object,
    "array": _example_array,
    "integer": _example_number,
    "number": _example_number,
    "boolean": lambda *_: True,
    "null": lambda *_: None,
    "string": _example_string,
}


def run_example(args: argparse.Namespace) -> int:
    """`typed-inference example TASK`: prints a minimal valid payload of the kind asked."""
    from typed_inference.validate import resolve_kind, resolve_task

    spec = resolve_task(args.task)
    resolve_kind(spec, args.kind)
    bundle = task_bundle(spec.task)
    title = schema_title(spec, args.kind)
    value = example_value(bundle["$defs"][title], bundle["$defs"])
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
    return 0


# -- call ---------------------------------------------------------------------------------------------------------


def _add_call(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "call",
        help="call a task and print the typed result as JSON (a .jsonl --input-file runs a batch)",
        description="Call a task. --input-file with a .jsonl file runs one call per line (a request body or a bare "
        "input) and writes one result or one error per line, in input order.",
    )
    parser.add_argument("task", help="task id, e.g. fill-mask")
    parser.add_argument("--model", required=True, help="model id, or the URL of an endpoint")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--input", help="the input: text, a file path for binary tasks, JSON for object inputs")
    source.add_argument("--input-file", metavar="FILE", help="a file holding the input; .jsonl: one call per line")
    parser.add_argument(
        "--param", action="append", default=[], metavar="KEY=VALUE", help="a parameter; VALUE is JSON, else text"
    )
    parser.add_argument("--base-url", help="the service's base URL (default: HF_INFERENCE_ENDPOINT or the router)")
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
    from typed_inference.validate import resolve_task

    spec = resolve_task(args.task)
    params = parse_params(args.param)
    if args.concurrency < 1:
        raise CommandError("--concurrency must be at least 1")
    if args.input_file and args.input_file.endswith(LINE_SUFFIXES):
        return run_batch(args, spec, params)
    inputs = single_input(spec, args)
    from typed_inference import InferenceError
    from typed_inference.client import InferenceClient

    with InferenceClient(base_url=args.base_url, timeout=args.timeout) as client:
        try:
            result = invoke(client, spec, inputs, params, args.model)
        except InferenceError as exc:
            print(f"typed-inference call: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
    write_result(result, args.output)
    return 0


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
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        if spec.body == "chat":
            return [{"role": "user", "content": raw}]
        raise CommandError(
            f"{spec.task} takes a JSON input (an object of its fields): {raw[:40]!r} is not JSON"
        ) from None


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
    """Calls the task's typed method with an input (request-body form or bare) and parameters."""
    import inspect

    from typed_inference.validate import UsageError

    method = getattr(client, method_name(spec))
    known = [p for p in inspect.signature(method).parameters if p not in ("self", spec.first_argument or "")]
    for name in params:
        if name == "stream":
            raise UsageError("call prints whole results: leave `stream` out")
        if name not in known or name in spec.input_fields:
            import difflib

            hint = difflib.get_close_matches(name, known, n=1)
            raise UsageError(
                f"{spec.task} has no parameter {name!r}" + (f"; did you mean {hint[0]!r}?" if hint else "")
            )
    if spec.first_argument is None:
        if not isinstance(inputs, dict):
            raise UsageError(f"{spec.task} takes an object input with {', '.join(spec.input_fields)}")
        fields = {k: binary_value(v) if k in spec.binary_fields else v for k, v in inputs.items()}
        return method(**fields, **params, model=model)
    primary = inputs
    if spec.first_argument_at and isinstance(inputs, dict) and spec.first_argument_at in inputs:
        primary = inputs[spec.first_argument_at]
    if spec.input_kind == "binary":
        primary = binary_value(primary)
    return method(primary, **params, model=model)


def jsonable(result: Any) -> Any:
    """A typed result as JSON data (binary results as their content type and base64)."""
    import base64

    from pydantic import TypeAdapter

    from typed_inference._binary import BinaryOutput

    if isinstance(result, BinaryOutput):
        return {"content_type": result.content_type, "base64": base64.b64encode(result).decode("ascii")}
    return TypeAdapter(Any).dump_python(result, mode="json", by_alias=True, exclude_unset=True)


def write_result(result: Any, output: str | None) -> None:
    """Prints a single call's result as JSON, or writes it to --output (binary results as raw bytes)."""
    from typed_inference._binary import BinaryOutput

    if output and isinstance(result, BinaryOutput):
        Path(output).write_bytes(result)
        return
    text = json.dumps(jsonable(result), indent=2, ensure_ascii=False) + "\n"
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def line_request(spec: TaskSpec, raw: bytes) -> tuple[Any, dict[str, Any]]:
    """(input, parameters) of one batch line: a request body (checked against the input schema) or a bare input."""
    from typed_inference.validate import validator

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
    """Runs one call per line of a JSON Lines file, writing one result or error per line, in input order."""
    from concurrent.futures import Future, ThreadPoolExecutor

    from typed_inference.client import InferenceClient

    try:
        data = Path(args.input_file).read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read {args.input_file}: {exc.strerror or exc}") from None
    items = [(n, line) for n, line in enumerate(data.split(b"\n"), 1) if line.strip()]
    progress = Progress(len(items), args.quiet)
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout  # noqa: SIM115
    failed = 0
    window: list[Future[dict[str, Any]]] = []
    try:
        with (
            InferenceClient(base_url=args.base_url, timeout=args.timeout) as client,
            ThreadPoolExecutor(args.concurrency) as pool,
        ):

            def one(item: tuple[int, bytes]) -> dict[str, Any]:
                return call_line(client, spec, params, args.model, *item)

            def flush(future: Future[dict[str, Any]]) -> None:
                nonlocal failed
                record = future.result()
                failed += "error" in record
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
                progress.step("error" not in record)

            for item in items:
                window.append(pool.submit(one, item))
                if len(window) >= args.concurrency * 4:
                    flush(window.pop(0))
            for future in window:
                flush(future)
    finally:
        progress.close()
        if out is not sys.stdout:
            out.close()
    return 1 if failed else 0


def call_line(
    client: InferenceClient, spec: TaskSpec, params: dict[str, Any], model: str, line: int, raw: bytes
) -> dict[str, Any]:
    """The output record of one batch line: `{"line", "result"}` or `{"line", "error"}`; never raises."""
    try:
        inputs, own = line_request(spec, raw)
        return {"line": line, "result": jsonable(invoke(client, spec, inputs, {**params, **own}, model))}
    except Exception as exc:  # a failed line is reported in its place and does not stop the batch
        error: dict[str, Any] = {"type": type(exc).__name__, "message": str(exc)}
        status = getattr(exc, "status_code", None)
        if status is not None:
            error["status_code"] = status
        return {"line": line, "error": error}
