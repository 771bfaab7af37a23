"""The repository's `validate` config: `[[tool.typed-inference.validate]]` tables in pyproject.toml (or --config)."""

from __future__ import annotations

import difflib
import os
import sys
from pathlib import Path
from typing import Any

from typed_inference.cli._common import CommandError
from typed_inference.cli._validate_jobs import DEFAULT_GLOBS, Job

TABLE = "[[tool.typed-inference.validate]]"
# key → what its value must be: "str", "strs" (a string or a list of strings) or "bool"
KEYS = {
    "paths": "strs",
    "task": "str",
    "kind": "str",
    "each": "bool",
    "jsonl": "bool",
    "glob": "strs",
    "strict": "bool",
    "canonical-only": "bool",
}
_WANTED = {"str": "a string", "strs": "a string or a list of strings", "bool": "true or false"}


def _load_toml(path: Path) -> dict[str, Any]:
    """A TOML file parsed; a CommandError naming the file and the place for unreadable or invalid TOML."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        try:
            import tomli as tomllib  # type: ignore[import-not-found]
        except ModuleNotFoundError:
            raise CommandError(f"reading {path} needs Python 3.11+ or the tomli package (pip install tomli)") from None
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read config {path}: {exc.strerror or exc}") from None
    try:
        parsed: dict[str, Any] = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CommandError(f"{_name(path)}: not valid TOML: {exc}") from None
    return parsed


def _tables(document: dict[str, Any]) -> Any:
    """The value under tool.typed-inference.validate, or None."""
    tool = document.get("tool")
    section = tool.get("typed-inference") if isinstance(tool, dict) else None
    return section.get("validate") if isinstance(section, dict) else None


def find_config(start: Path) -> Path:
    """The nearest pyproject.toml (the working directory, then its parents) holding validate tables."""
    seen: list[Path] = []
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            seen.append(candidate)
            if _tables(_load_toml(candidate)) is not None:
                return candidate
    found = f" ({_name(seen[0])} has none)" if seen else ""
    raise CommandError(
        f"nothing to validate: no pyproject.toml with {TABLE} tables in {start} or its parents{found}; "
        "pass --task and paths, or --config FILE"
    )


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return f"{str(value).lower()} (boolean)"
    if isinstance(value, str):
        return f"{value!r} (string)"
    kind = {int: "integer", float: "number", list: "array", dict: "table"}.get(type(value), type(value).__name__)
    return f"{value!r} ({kind})"


def _name(path: Path) -> str:
    """A config file's name as messages show it: relative to the working directory when below it."""
    if not path.is_absolute():
        return str(path)
    relative = os.path.relpath(path)
    return str(path) if relative.startswith("..") else relative


def _entry(path: Path, number: int, table: Any) -> Job:
    """One table as a Job; a CommandError naming the file and entry for an unknown key or a value of a wrong type."""
    origin = f"{_name(path)}: {TABLE} entry {number}"
    if not isinstance(table, dict):
        raise CommandError(f"{origin}: expected a table of keys ({', '.join(KEYS)}), found {_show(table)}")
    if isinstance(table.get("task"), str):
        origin += f" (task {table['task']!r})"
    values: dict[str, Any] = {}
    for key, value in table.items():
        wanted = KEYS.get(key)
        if wanted is None:
            hint = difflib.get_close_matches(key, KEYS, n=1)
            suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
            raise CommandError(f"{origin}: unknown key {key!r}{suggestion} (keys: {', '.join(KEYS)})")
        if wanted == "strs" and isinstance(value, str):
            value = [value]
        good = (
            isinstance(value, bool)
            if wanted == "bool"
            else isinstance(value, str)
            if wanted == "str"
            else isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)
        )
        if not good:
            raise CommandError(f"{origin}: {key!r} should be {_WANTED[wanted]}, found {_show(value)}")
        values[key] = value
    for required in ("task", "paths"):
        if required not in values:
            raise CommandError(f"{origin}: missing key {required!r} (keys: {', '.join(KEYS)})")
    return Job(
        task=values["task"],
        kind=values.get("kind", "input"),
        paths=tuple(values["paths"]),
        each=values.get("each", False),
        jsonl=values.get("jsonl", False),
        globs=tuple(values.get("glob", DEFAULT_GLOBS)),
        strict=values.get("strict", False),
        canonical_only=values.get("canonical-only", False),
        origin=origin,
        base=path.resolve().parent,
    )


def read_config(path: Path) -> list[Job]:
    """The jobs of a config file's validate tables, in order; a CommandError when it has none or a bad one."""
    tables = _tables(_load_toml(path))
    if tables is None:
        raise CommandError(f"{_name(path)}: no {TABLE} tables")
    if isinstance(tables, dict):
        tables = [tables]
    if not isinstance(tables, list) or not tables:
        raise CommandError(
            f"{_name(path)}: tool.typed-inference.validate should be {TABLE} tables, found {_show(tables)}"
        )
    return [_entry(path, number, table) for number, table in enumerate(tables, 1)]
