"""The check-only validator: the generated models' core schema rewritten to decide valid or not without models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic_core import SchemaValidator
from pydantic_core import core_schema as cs

from typed_inference._decode import strict_adapter

_NOT_SCHEMA = frozenset({"cls", "function", "default", "config", "metadata", "serialization", "ref", "expected"})


def check_only_schema(node: Any) -> Any:
    """A core schema accepting exactly what `node` accepts, building plain dicts instead of model objects.

    Models become typed dicts with the same fields, config and extra-field rule. Everything else is kept. The
    payloads it rejects are re-checked by the real models, which also word the errors.
    """
    if isinstance(node, (list, tuple)):
        return type(node)(check_only_schema(item) for item in node)
    if not isinstance(node, dict):
        return node
    kind = node.get("type")
    if kind == "model" and _plain_model(node):
        return _typed_dict(node)
    return {k: (v if k in _NOT_SCHEMA else check_only_schema(v)) for k, v in node.items()}


def _plain_model(node: dict[str, Any]) -> bool:
    """Whether a model schema is a plain field container (no root model, custom init or post-init hook)."""
    inner = node.get("schema", {})
    return (
        inner.get("type") == "model-fields"
        and not node.get("root_model")
        and not node.get("custom_init")
        and not node.get("post_init")
        and not inner.get("computed_fields")
    )


def _typed_dict(node: dict[str, Any]) -> dict[str, Any]:
    """The typed-dict schema equivalent to a plain model schema, for validation only."""
    inner = node["schema"]
    config = node.get("config", {})
    extra = inner.get("extra_behavior") or config.get("extra_fields_behavior") or "ignore"
    fields = {}
    for name, spec in inner["fields"].items():
        item = {
            "type": "typed-dict-field",
            "schema": check_only_schema(spec["schema"]),
            "required": spec["schema"].get("type") != "default",
        }
        if "validation_alias" in spec:
            item["validation_alias"] = spec["validation_alias"]
        fields[name] = item
    out = {
        "type": "typed-dict",
        "fields": fields,
        "extra_behavior": "forbid" if extra == "forbid" else "ignore",
        "config": config,
    }
    if "ref" in node:
        out["ref"] = node["ref"]
    return out


def check_only_validator(tp: Any) -> SchemaValidator:
    """The check-only twin of `strict_adapter(tp)`: same verdicts, no model objects (its config for non-models)."""
    config = None
    if not (isinstance(tp, type) and issubclass(tp, BaseModel)):
        config = cs.CoreConfig(strict=True, allow_inf_nan=True)
    return SchemaValidator(check_only_schema(strict_adapter(tp).core_schema), config)
