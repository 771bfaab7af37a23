"""Where a task call goes: a `base_url` endpoint, hf-inference, the auto-router or a provider; decided before sending.

Two steps, I/O-free: `choose` reads the call (task, model, provider, token kind) and says whether the Hub's
provider mapping is needed; `target` finishes with the mapping's entries. Every refusal is a RequestValidationError
(or ModelNotSupportedError) naming the provider and the task or model, raised before any request to the router.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from typed_inference._errors import ModelNotSupportedError, RequestValidationError
from typed_inference._generated.providers import PROVIDERS
from typed_inference._provider_spec import ProviderSpec, ProviderTask

if TYPE_CHECKING:
    from typed_inference.providers._mapping import ProviderMapping

AUTO = "auto"
_NAME = re.compile(r"[a-z0-9][a-z0-9-]*")
POLICIES = ("fastest", "cheapest", "preferred")  # auto-router suffixes that pick no provider by name
Kind = Literal["endpoint", "hf-inference", "auto-router", "provider"]
Auth = Literal["endpoint", "routed", "direct"]


def hub_task(task: str) -> str:
    """The Hub's name of a task in provider mappings (chat is "conversational")."""
    return "conversational" if task == "chat-completion" else task


def known_providers() -> str:
    return ", ".join(sorted(PROVIDERS))


@dataclass(frozen=True)
class Choice:
    """The first step's answer: the route kind, the provider, the Hub model id, and whether a mapping is needed."""

    kind: Kind
    model: str | None  # the Hub id (suffix removed where it named the provider), or a URL, or None (endpoint)
    provider: str | None = None  # a provider name, AUTO, or None for an endpoint
    auth: Auth = "endpoint"
    lookup: bool = False  # the Hub's mapping of `model` is needed to finish


@dataclass(frozen=True)
class Target:
    """Where the call goes: the kind, the provider and its id for the model, how it is authorised, its task spec."""

    kind: Kind
    provider: str | None
    model: str | None  # what the body's `model` is (provider id, Hub id as given, or the caller's model)
    hub_model: str | None
    auth: Auth
    task: ProviderTask | None = None  # None: the task's own wire format (hf-inference, endpoints, auto-router)
    spec: ProviderSpec | None = None
    entry: ProviderMapping | None = None


def choose(
    task: str, model: str | None, provider: str | None, *, key_kind: Literal["hf", "direct", "none"], endpoint: bool
) -> Choice:
    """The route kind of a call. `endpoint`: the client has a `base_url` (explicit, or HF_INFERENCE_ENDPOINT with
    no provider asked for); `key_kind`: the explicit token is an `hf_` token, another key, or absent."""
    if model is None:
        raise RequestValidationError(
            f"{task}: no model given: pass model= to the method or to the client (a model id or a URL)"
        )
    if model.startswith(("http://", "https://")) or endpoint:
        if provider is not None:
            where = "a URL model" if model.startswith(("http://", "https://")) else "a client with base_url="
            raise RequestValidationError(
                f"{task}: provider={provider!r} with {where}: the call goes to that URL; drop one of the two"
            )
        return Choice("endpoint", model)
    provider = provider or AUTO
    name, _, suffix = model.partition(":")
    if suffix and provider == AUTO and task != "chat-completion" and suffix not in POLICIES:
        provider, model = suffix, name  # `org/model:together` names the provider for any task
    elif (suffix and task != "chat-completion") or (suffix and provider != AUTO):
        if suffix not in POLICIES and suffix != provider:
            raise RequestValidationError(
                f"{task}: model {model!r} names provider {suffix!r} but provider={provider!r}: drop one of the two"
            )
        model = name
    if provider == AUTO:
        if key_kind == "direct":
            raise RequestValidationError(
                f'{task}: provider "auto" goes through the Hugging Face router, which takes an hf_ token: with another '
                "provider's key, name that provider (provider=...)"
            )
        if task == "chat-completion":
            return Choice("auto-router", model, AUTO, "routed")
        return Choice("provider", model, AUTO, "routed", lookup=True)
    spec = PROVIDERS.get(provider)
    if spec is None and not _NAME.fullmatch(provider):
        raise RequestValidationError(
            f"{task}: invalid provider name {provider!r}: a provider is named with lower-case letters, digits and '-'"
        )
    if spec is None:
        if task == "chat-completion" and key_kind != "direct":
            return Choice("provider", model, provider, "routed")
        why = "" if task == "chat-completion" else f" (an unknown provider is tried for chat only, not {task})"
        raise RequestValidationError(f"{task}: unknown provider {provider!r}{why}; known: auto, {known_providers()}")
    if not spec.serves(task):
        served = ", ".join(sorted(spec.tasks or {})) or "none yet in this SDK"
        raise RequestValidationError(
            f"{task}: provider {provider!r} does not serve task {task!r} (it serves: {served})"
        )
    auth = _auth(task, spec, key_kind)
    if spec.name == "hf-inference":
        return Choice("hf-inference", model, provider, auth)
    return Choice("provider", model, provider, auth, lookup=spec.model_ids == "mapped")


def _auth(task: str, spec: ProviderSpec, key_kind: Literal["hf", "direct", "none"]) -> Auth:
    if key_kind == "direct":
        if spec.routing == "routed":
            raise RequestValidationError(
                f"{task}: provider {spec.name!r} is reached through the Hugging Face router only, which takes an hf_ "
                "token: pass an hf_ token (or none, for HF_TOKEN)"
            )
        return "direct"
    if spec.routing == "direct":
        what = "an hf_ token" if key_kind == "hf" else "no key"
        raise RequestValidationError(
            f"{task}: provider {spec.name!r} is called directly, with its own API key (token=...); {what} given, and "
            "Hugging Face's router does not serve it"
        )
    return "routed"


def target(task: str, choice: Choice, entries: list[ProviderMapping] | None) -> Target:
    """Where the call goes, from the first step's choice and, when it asked for it, the model's mapping entries."""
    if choice.kind == "endpoint":
        return Target("endpoint", None, choice.model, None, "endpoint")
    if choice.kind in ("auto-router", "hf-inference"):
        return Target(choice.kind, choice.provider, choice.model, choice.model, choice.auth)
    assert choice.provider is not None and choice.model is not None
    if choice.provider == AUTO:
        assert entries is not None
        entry = _auto(task, choice.model, entries)
        chosen = PROVIDERS[entry.provider]
        if chosen.name == "hf-inference":
            return Target("hf-inference", chosen.name, choice.model, choice.model, "routed", entry=entry)
        return Target(
            "provider", chosen.name, entry.provider_id, choice.model, "routed", _task(chosen, task), chosen, entry
        )
    spec = PROVIDERS.get(choice.provider)
    if spec is None:  # an unknown provider, for chat: the router decides, with the Hub id as the model
        return Target("provider", choice.provider, choice.model, choice.model, choice.auth)
    if not choice.lookup:
        return Target("provider", spec.name, choice.model, choice.model, choice.auth, _task(spec, task), spec)
    assert entries is not None
    entry = _explicit(task, choice.model, spec, entries)
    return Target("provider", spec.name, entry.provider_id, choice.model, choice.auth, _task(spec, task), spec, entry)


def decided(choice: Choice) -> bool:
    """Whether the choice already names who answers (all but "auto" on a task needing the Hub's mapping)."""
    return choice.provider != AUTO or choice.kind == "auto-router"


def named_task(task: str, choice: Choice) -> ProviderTask | None:
    """The named provider's declaration of the task, known before any mapping is read (None: the task's own wire
    format, or a provider "auto" has yet to pick)."""
    spec = PROVIDERS.get(choice.provider) if choice.kind == "provider" and choice.provider else None
    return _task(spec, task) if spec is not None else None


def _task(spec: ProviderSpec, task: str) -> ProviderTask | None:
    return None if spec.tasks is None else spec.tasks[task]


def _auto(task: str, model: str, entries: list[ProviderMapping]) -> ProviderMapping:
    """The first live entry, in the Hub's order, for this task and implemented here; else ModelNotSupportedError."""
    wanted = hub_task(task)
    skipped = []
    for entry in entries:
        spec = PROVIDERS.get(entry.provider)
        if entry.status != "live":
            skipped.append(f"{entry.provider}: status {entry.status!r}, not 'live'")
        elif entry.task != wanted:
            skipped.append(f"{entry.provider}: mapped for task {entry.task!r}")
        elif spec is None:
            skipped.append(f"{entry.provider}: a provider this SDK does not know")
        elif not spec.serves(task):
            skipped.append(f"{entry.provider}: this SDK does not implement {task} on it")
        else:
            return entry
    if not entries:
        raise ModelNotSupportedError(
            f"{task}: no provider serves model {model!r}: the Hub lists no inference provider mapping for it (pass "
            'provider="hf-inference" to try HF\'s own backend, or base_url= for your endpoint)'
        )
    raise ModelNotSupportedError(
        f'{task}: no provider usable for model {model!r} and task {task!r} (provider "auto"); skipped:\n  '
        + "\n  ".join(skipped)
    )


def _explicit(task: str, model: str, spec: ProviderSpec, entries: list[ProviderMapping]) -> ProviderMapping:
    """The entry of the named provider; a staging or failing one with a warning, a missing one an error."""
    mine = [entry for entry in entries if entry.provider == spec.name]
    if not mine:
        others = ", ".join(sorted({entry.provider for entry in entries})) or "none"
        raise ModelNotSupportedError(
            f"{task}: model {model!r} is not served by provider {spec.name!r} (the Hub maps it to: {others})"
        )
    wanted = hub_task(task)
    entry = next((entry for entry in mine if entry.task == wanted), None)
    if entry is None:
        tasks = ", ".join(sorted({entry.task for entry in mine}))
        raise ModelNotSupportedError(
            f"{task}: model {model!r} is mapped on provider {spec.name!r} for task {tasks}, not {wanted!r}"
        )
    if entry.status != "live":
        why = (
            "staging (meant for tests; it may answer only the provider's members)"
            if entry.status == "staging"
            else (f"{entry.status!r} (its latest health check failed)")
        )
        warnings.warn(f"model {model!r} on provider {spec.name!r} is {why}; calling it anyway", stacklevel=6)
    return entry
