"""Reads schemas/client.json (the clients' settings, declared once) and writes `_generated/settings.py`: the
configuration type `ClientSettings` and each client's constructor, with every keyword in its signature and
docstring (what editors show: jedi and pyright read the signature, not a `**kwargs` declaration)."""

from __future__ import annotations

import json
import textwrap
from typing import Any

from codegen.schemas import SCHEMAS

SETTINGS_FILE = SCHEMAS / "client.json"
_KEYS = {"name", "type", "default", "doc"}


def load_settings() -> dict[str, Any]:
    """The declaration, checked: every setting has exactly a name, a type, a default and a doc; names unique."""
    doc: dict[str, Any] = json.loads(SETTINGS_FILE.read_text(encoding="utf-8"))
    for client in doc["clients"].values():
        names = [item["name"] for item in [*doc["settings"], *client["own"]]]
        for item in [*doc["settings"], *client["own"]]:
            if set(item) != _KEYS:
                raise SystemExit(f"schemas/client.json: {item.get('name', item)}: keys must be {sorted(_KEYS)}")
        if len(set(names)) != len(names):
            raise SystemExit(f"schemas/client.json: a keyword is declared twice in {names}")
    return doc


def _docstring(summary: str, items: list[dict[str, str]], indent: str) -> str:
    lines = [summary, "", "Args:"]
    for item in items:
        wrapped = textwrap.wrap(f"{item['name']}: {item['doc']}", width=108, subsequent_indent="    ")
        lines += [f"    {line}" for line in wrapped]
    body = "\n".join(f"{indent}{line}" if line else "" for line in lines)
    return f'{indent}"""{body.lstrip()}\n{indent}"""\n'


def _constructor(name: str, client: dict[str, Any], doc: dict[str, Any]) -> str:
    settings, own, model = doc["settings"], client["own"], doc["model"]
    params = [f"        {s['name']}: {s['type']} = {s['default']}," for s in [*settings, *own]]
    forwarded = ", ".join(f"{s['name']}={s['name']}" for s in settings)
    own_args = ", ".join(f"{s['name']}={s['name']}" for s in own)
    own_params = ", ".join(f"{s['name']}: {s['type']}" for s in own)
    items = [{"name": "model", **model}, *settings, *own]
    return (
        f"class {name}Init:\n"
        f'    """`{name}`\'s constructor: its keywords, from schemas/client.json."""\n\n'
        "    def __init__(\n"
        "        self,\n"
        f"        model: {model['type']} = {model['default']},\n"
        "        *,\n" + "\n".join(params) + "\n"
        "    ) -> None:\n"
        + _docstring(client["summary"], items, "        ")
        + f"        self._configure(model, ClientSettings({forwarded}), {own_args})\n\n"
        f"    def _configure(self, model: {model['type']}, settings: ClientSettings, *, {own_params}) -> None:\n"
        f'        """Sets the client up from its settings and its own keywords (`{name}` implements it)."""\n'
        "        raise NotImplementedError\n"
    )


def settings_source(doc: dict[str, Any]) -> str:
    """The source of `_generated/settings.py`."""
    fields = []
    for s in doc["settings"]:
        fields += [f"    {s['name']}: {s['type']} = {s['default']}", f'    """{s["doc"]}"""', ""]
    constructors = "\n\n".join(_constructor(name, client, doc) for name, client in doc["clients"].items())
    return (
        f'"""{doc["description"]}"""\n\n'
        "from __future__ import annotations\n\n"
        "from collections.abc import Mapping\n"
        "from dataclasses import dataclass\n"
        "from typing import TYPE_CHECKING, Any\n\n"
        "from typed_inference.transport import DEFAULT_MAX_RESPONSE_BYTES\n\n"
        "if TYPE_CHECKING:\n"
        "    import requests\n\n"
        "    from typed_inference._generated.names import ProviderName\n"
        "    from typed_inference._task import ValidationMode\n"
        "    from typed_inference.transport import AsyncTransport, RetryPolicy, Transport\n\n\n"
        "@dataclass(frozen=True)\n"
        "class ClientSettings:\n"
        '    """What every client is configured with, whatever its I/O (a field per shared keyword)."""\n\n'
        + "\n".join(fields).rstrip()
        + "\n\n\n"
        + constructors
    )
