"""Agreement between the JSON Schemas (jsonschema) and the generated models (pydantic), on valid and mutated data."""

from __future__ import annotations

import copy
import functools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from pydantic import TypeAdapter, ValidationError

from codegen.schemas import load_common, load_tasks, schema_for
from typed_inference._decode import extra_paths, null_paths, strict_adapter

COMMON = load_common()
TASKS = {task.id: task for task in load_tasks()}


@dataclass(frozen=True, eq=False)
class Target:
    """One schema checked against one generated type."""

    task: str
    kind: str  # input | parameters | output | stream-output
    title: str

    @property
    def input_side(self) -> bool:
        return self.kind in ("input", "parameters")

    @functools.cached_property
    def validators(self) -> tuple[Draft202012Validator, Draft202012Validator]:
        """jsonschema validators for lenient validation (a null optional field reads as absent: inputs since issue 35,
        outputs since issue 36) and for strict output mode (the schema as written, closed)."""
        lenient = _null_optional(self.schema())
        return Draft202012Validator(lenient), Draft202012Validator(self.schema(closed=not self.input_side))

    @functools.cached_property
    def type_adapter(self) -> TypeAdapter[Any]:
        return self.adapter()

    def schema(self, *, closed: bool = False) -> dict[str, Any]:
        schema = schema_for(TASKS[self.task], COMMON, self.title)
        return _closed(schema) if closed else schema

    def adapter(self) -> TypeAdapter[Any]:
        from typed_inference._generated.registry import TASKS as REGISTRY

        return strict_adapter(REGISTRY[self.task].lookup(self.title))


def targets() -> list[Target]:
    """Every JSON schema of every task, binary outputs aside."""
    found = []
    for task in TASKS.values():
        found.append(Target(task.id, "input", f"{task.name}Input"))
        found.append(Target(task.id, "parameters", f"{task.name}Parameters"))
        if task.meta["output_kind"] == "json":
            found.append(Target(task.id, "output", f"{task.name}Output"))
        if task.stream_output is not None:
            found.append(Target(task.id, "stream-output", f"{task.name}StreamOutput"))
    return found


def _closed(node: Any) -> Any:
    """A copy of a schema in which objects with declared properties admit no others (strict output mode)."""
    if isinstance(node, dict):
        out = {k: _closed(v) for k, v in node.items()}
        if "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [_closed(v) for v in node]
    return node


def _null_optional(node: Any) -> Any:
    """A copy of a schema in which every optional property also admits null (None as "not given", issues 35 and 36)."""
    if isinstance(node, dict):
        out = {k: _null_optional(v) for k, v in node.items()}
        if isinstance(out.get("properties"), dict):
            required = set(node.get("required", ()))
            out["properties"] = {
                name: prop if name in required else {"anyOf": [prop, {"type": "null"}]}
                for name, prop in out["properties"].items()
            }
        return out
    if isinstance(node, list):
        return [_null_optional(v) for v in node]
    return node


def json_equal(a: Any, b: Any) -> bool:
    """JSON equality where 1 and 1.0 are equal but booleans are not numbers."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def model_accepts(adapter: TypeAdapter[Any], value: Any, *, strict_output: bool) -> bool:
    try:
        result = adapter.validate_python(copy.deepcopy(value))
    except ValidationError:
        return False
    return not (strict_output and (extra_paths(result) or null_paths(result)))


def round_trip(adapter: TypeAdapter[Any], value: Any) -> Any:
    """Validates and dumps back to JSON data."""
    result = adapter.validate_python(copy.deepcopy(value))
    return adapter.dump_python(result, mode="json", by_alias=True, exclude_unset=True)


_REPLACEMENTS: list[Any] = [None, "x", "", 12345, -1, 0, 0.5, -0.5, 1e12, -1e12, True, False, [], {}, [1], {"zz": 1}]


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _paths(item, (*path, i))


def _set(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    parent = value
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = new
    return value


def mutations(value: Any, rng: random.Random, count: int) -> Iterator[tuple[str, Any]]:
    """Values derived from a valid one: wrong types, out-of-range numbers, missing and unknown keys."""
    paths = list(_paths(value))
    for _ in range(count):
        mutated = copy.deepcopy(value)
        path = rng.choice(paths)
        node: Any = mutated
        for key in path:
            node = node[key]
        choice = rng.random()
        if isinstance(node, dict) and node and choice < 0.3:
            key = rng.choice(sorted(node))
            del node[key]
            yield f"remove {(*path, key)}", mutated
        elif isinstance(node, dict) and choice < 0.6:
            node["zz_unknown_field"] = rng.choice(["x", 1, None])
            yield f"unknown key at {path}", mutated
        else:
            new = rng.choice(_REPLACEMENTS)
            if isinstance(new, float) and new.is_integer():
                new = new + 0.5  # JSON Schema counts 1e12 as an integer; strict models do not (the known divergence)
            yield f"replace {path} with {new!r}", _set(mutated, path, copy.deepcopy(new))


def check_instance(target: Target, value: Any, rng: random.Random, mutation_count: int = 8) -> list[str]:
    """Disagreements for one valid instance and its mutations (empty when schema and model agree)."""
    problems = []
    adapter = target.type_adapter
    validator, strict_validator = target.validators
    if not model_accepts(adapter, value, strict_output=False):
        problems.append(f"valid instance rejected by the model: {value!r}")
        return problems
    dumped = round_trip(adapter, value)
    if not json_equal(dumped, value):
        problems.append(f"round trip changed the value: {value!r} -> {dumped!r}")
    for what, mutated in mutations(value, rng, mutation_count):
        expected = validator.is_valid(mutated)
        if model_accepts(adapter, mutated, strict_output=False) != expected:
            problems.append(f"{what}: jsonschema says {'valid' if expected else 'invalid'}, the model disagrees")
        if not target.input_side:
            strict_expected = strict_validator.is_valid(mutated)
            if model_accepts(adapter, mutated, strict_output=True) != strict_expected:
                problems.append(f"{what} (strict output mode): jsonschema and the model disagree")
    return problems
