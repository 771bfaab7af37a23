"""URL rules: the default hosts, loopback and Hub hosts, model ids as URL paths, origins and redaction."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlsplit

from typed_inference._errors import RequestValidationError

if TYPE_CHECKING:
    from typed_inference._task import TaskSpec

DEFAULT_ROUTER_URL = "https://router.huggingface.co"
DEFAULT_BASE_URL = f"{DEFAULT_ROUTER_URL}/hf-inference"
DEFAULT_HUB_URL = "https://huggingface.co"
ROUTER_HOST = "router.huggingface.co"
_HUB_NAME = r"[A-Za-z0-9][A-Za-z0-9._-]*"
_HUB_ID = re.compile(rf"{_HUB_NAME}(?:/{_HUB_NAME})?(?::{_HUB_NAME})?")
_ALTERED = re.compile(r"[\s\\]")  # whitespace and backslashes: HTTP stacks strip, refuse or reread them
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"  # RFC 3986 path characters, and `%` (escapes already made stay as they are)


def is_loopback(host: str) -> bool:
    """Whether a host name is this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_ambiguous(url: str) -> bool:
    """Whether HTTP stacks may read another host in a URL than urlsplit does (a backslash, a user-info part)."""
    parts = urlsplit(url)
    return "\\" in url or parts.username is not None or parts.password is not None


def is_loopback_url(url: str) -> bool:
    """Whether a URL unambiguously names this machine (such requests never go through a proxy)."""
    return not is_ambiguous(url) and is_loopback((urlsplit(url).hostname or "").lower())


def is_hub_url(url: str) -> bool:
    """Whether a base URL is Hugging Face's (the router, the Inference API, the Hub), where model ids are Hub ids."""
    host = (urlsplit(url).hostname or "").lower()
    return host in ("huggingface.co", "hf.co") or host.endswith((".huggingface.co", ".hf.co"))


def hub_model_path(model_id: str) -> str:
    """A Hub model id as a URL path: one or two names (`model`, `org/model`) of letters, digits, `.`, `_` and `-`,
    each starting with a letter or digit, and an optional `:suffix` (`org/model:provider`, `:fastest`); anything
    else could retarget the request (`../../api/whoami-v2`), so it is a RequestValidationError before sending."""
    if not _HUB_ID.fullmatch(model_id):
        raise RequestValidationError(
            f"invalid model id {model_id!r}: a Hub model id is 'name' or 'org/name' (letters, digits, '.', '_', '-', "
            "each part starting with a letter or digit), optionally followed by ':suffix'"
        )
    return quote(model_id, safe="/")


def _segments(model_id: str, kind: str) -> None:
    """Rejects ids with an empty, `.` or `..` path segment (they would move the request to another path)."""
    bad = [part for part in model_id.split("/") if part in ("", ".", "..")]
    if bad:
        found = "an empty segment" if "" in bad else f"a {bad[0]!r} segment"
        raise RequestValidationError(
            f"invalid {kind} {model_id!r}: it has {found} (it would send the request to another path)"
        )


def endpoint_model_path(model_id: str) -> str:
    """A model id for a `base_url` endpoint (the local server, TGI) as a URL path: any non-empty segments but
    `.` and `..`, percent-quoted but for `/`."""
    _segments(model_id, "model id")
    return quote(model_id, safe="/")


def provider_model_path(model_id: str) -> str:
    """A provider's model id (from a provider mapping) as a URL path: any number of non-empty segments, none `.` or
    `..`; characters other than `A-Za-z0-9._~-`, `/` and `:` are percent-quoted."""
    _segments(model_id, "provider model id")
    return quote(model_id, safe="/:")


def endpoint_url(spec: TaskSpec, model: str | None, base: str) -> str:
    """The URL a task call posts to on an endpoint `base`: model route, pipeline route, chat route, or a full-URL
    model."""
    if not model:
        raise RequestValidationError(
            f"{spec.task}: no model given: pass model= to the method or to the client (a model id or a URL)"
        )
    if model.startswith(("http://", "https://")):
        url = model.rstrip("/")
        if spec.route == "chat" and not url.endswith("/v1/chat/completions"):
            url += "/v1/chat/completions"
        return url
    quoted = hub_model_path(model) if is_hub_url(base) else endpoint_model_path(model)
    if spec.route == "pipeline":
        if "api-inference.huggingface.co" in base:
            return f"{base}/pipeline/{spec.task}/{quoted}"
        return f"{base}/models/{quoted}/pipeline/{spec.task}"
    if spec.route == "chat":
        return f"{base}/models/{quoted}/v1/chat/completions"
    return f"{base}/models/{quoted}"


def url_problem(url: str) -> str | None:
    """Why `url` is no URL the client sends as it is (None: it is one): not http(s), no host, a port outside
    1-65535, a bracket left open, whitespace, a control character, a backslash or a character that does not encode
    (HTTP stacks raise their own untyped errors on those, or silently send another URL)."""
    if _ALTERED.search(url) or not url.isprintable():
        return "it contains whitespace, a control character, a backslash or a character that does not encode"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:  # "Invalid IPv6 URL", "Port out of range 0-65535", ...
        return str(exc)
    if parts.scheme not in ("http", "https"):
        return f"only http and https are sent, not {parts.scheme + ':' if parts.scheme else 'no scheme'}"
    if not parts.hostname:
        return "it names no host"
    if port == 0:
        return "port 0"
    return None


def has_userinfo(url: str) -> bool:
    """Whether a URL carries a `user:password@` part."""
    return "@" in urlsplit(url).netloc


def check_base(what: str, url: str | None) -> None:
    """A ValueError at construction for a base URL the client could not send to (`url_problem`) or one carrying a
    user name or password (refused, never logged: credentials go in `token=` or `headers=`)."""
    if url is None:
        return
    problem = url_problem(url)
    if problem is not None:
        raise ValueError(f"{what} must be an http:// or https:// URL with a host, not {redact_url(url)!r}: {problem}")
    if has_userinfo(url):
        raise ValueError(
            f"{what} must not carry a user name or password ({redact_url(url)}): pass credentials as token= or "
            'headers= (for example {"Authorization": "Basic ..."})'
        )


def path_on(base: str, url: str) -> str:
    """`base` followed by the path of `url`, a URL (or path) a provider's answer names for its job: the path only,
    never its host, quoted; a ValueError saying why when the path is not one to follow (not absolute, a `.` or `..`
    segment, a character HTTP stacks alter) or the result would leave `base`'s origin."""
    if _ALTERED.search(url) or not url.isprintable():
        raise ValueError("it contains whitespace, a control character, a backslash or a character that does not encode")
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise ValueError(str(exc)) from None
    problem = url_problem(url) if parts.scheme or parts.netloc else None
    if problem is not None:  # a full URL must be a sendable one, though only its path is used
        raise ValueError(problem)
    path = parts.path
    if not path.startswith("/") or path.startswith("//"):
        raise ValueError(f"its path {path[:80]!r} is not an absolute path")
    if any(part in (".", "..") for part in unquote(path).split("/")):
        raise ValueError("its path has a '.' or '..' segment")
    joined = base + quote(path, safe=_PATH_SAFE)
    if not same_origin(joined, base) or urlsplit(joined).netloc != urlsplit(base).netloc:
        raise ValueError(f"it would leave {redact_url(base)}")
    return joined


def path_segment(value: str) -> str:
    """A value from a provider's answer (a job id) as one URL path segment, percent-quoted; a ValueError for one
    that would move the request (empty, `.`, `..`) or that holds a control character."""
    if value in ("", ".", "..") or not value.isprintable():
        raise ValueError(f"{value[:80]!r} is no path segment (empty, '.', '..' or a control character)")
    return quote(value, safe="")


def environment_proxied(url: str) -> bool:
    """Whether the proxy environment variables (`HTTP_PROXY`, `ALL_PROXY`, … less `NO_PROXY`) name a proxy for `url`:
    what requests and httpx do by default, assumed for a transport that does not say (`proxied`)."""
    import urllib.request

    parts = urlsplit(url)
    proxies = urllib.request.getproxies_environment()
    if not (proxies.get(parts.scheme) or proxies.get("all")):
        return False
    bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]  # public, missing from typeshed
    return not bypass(parts.netloc.rpartition("@")[2], proxies)


def proxy_rule(transport: object) -> Callable[[str], bool]:
    """A transport's proxy rule: its `proxied(url)` where it defines one (the transport protocol's optional
    method), else the environment's (`environment_proxied`)."""
    check = getattr(transport, "proxied", None)
    return check if callable(check) else environment_proxied


def same_origin(a: str, b: str) -> bool:
    """Whether two URLs share scheme, host (any letter case) and port (the scheme's default when absent); a URL
    without a readable origin shares it with nothing."""
    origins = []
    for url in (a, b):
        parts = urlsplit(url)
        try:
            port = parts.port
        except ValueError:
            return False
        scheme = parts.scheme.lower()
        host = parts.hostname
        if not host:
            return False
        origins.append((scheme, host.lower(), port if port is not None else {"http": 80, "https": 443}.get(scheme)))
    return origins[0] == origins[1]


def redact_url(url: str) -> str:
    """A URL with any user:password part masked (`http://***@host:port/...`), for logs, reprs and errors."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    netloc = rest[:end]
    if "@" not in netloc:
        return url
    return f"{scheme}://***@{netloc.rpartition('@')[2]}{rest[end:]}"
