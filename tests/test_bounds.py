"""Every numeric bound and length constraint of schemas/ is one docs/schemas.md lists with its reason (issue 35)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minItems", "maxItems", "minLength")
ROW = re.compile(r"^\| `(\w+)` \| (\w+ -?[\d.]+) \| ([^|]+) \| [^|]+ \|$", re.MULTILINE)


def bounds(node: Any, name: str, where: str) -> Iterator[tuple[str, str, str]]:
    """(holder's name, "keyword value", file) of every bound under `node`."""
    if isinstance(node, dict):
        for keyword in KEYWORDS:
            if keyword in node:
                yield name, f"{keyword} {node[keyword]}", where
        for key, value in node.items():
            if key in ("properties", "$defs") and isinstance(value, dict):
                for child, schema in value.items():
                    yield from bounds(schema, child, where)
            else:
                yield from bounds(value, name, where)
    elif isinstance(node, list):
        for item in node:
            yield from bounds(item, name, where)


def found() -> set[tuple[str, str, str]]:
    out: set[tuple[str, str, str]] = set()
    for file in sorted((ROOT / "schemas").rglob("*.json")):
        if "providers" in file.parts or file.name in ("task.json", "client.json"):
            continue
        where = "common" if file.name == "common.json" else f"{file.parent.name}/{file.stem}"
        doc = json.loads(file.read_text(encoding="utf-8"))
        out |= set(bounds(doc, doc.get("title", ""), where))
    return out


def listed() -> set[tuple[str, str, str]]:
    text = (ROOT / "docs" / "schemas.md").read_text(encoding="utf-8")
    return {(name, bound, where.strip()) for name, bound, places in ROW.findall(text) for where in places.split(",")}


def test_every_bound_is_listed_with_its_reason() -> None:
    missing = sorted(found() - listed())
    assert not missing, f"bounds docs/schemas.md does not list (keep only what the service enforces): {missing}"


def test_every_listed_bound_exists() -> None:
    assert not sorted(listed() - found())


def test_seed_has_no_bound_anywhere() -> None:
    assert not [b for b in found() if b[0] == "seed"]
    kept = listed()
    assert ("top_k", "minimum 1", "common") in kept
    assert ("messages", "minItems 1", "chat-completion/input") in kept
