"""Tokens and where each goes: the ambient token's host rule, the Authorization headers, header checks."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Literal, TypeVar
from urllib.parse import urlsplit

from typed_inference._errors import RequestValidationError
from typed_inference._urls import is_ambiguous, is_loopback
from typed_inference._version import __version__

USER_AGENT = f"typed-inference/{__version__}"
_HF_SUFFIXES = (".huggingface.co", ".hf.co", ".huggingface.cloud")
H = TypeVar("H", bound=Mapping[str, str])
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_BAD_VALUE = re.compile(r"[^\t\x20-\x7e]")


def ambient_token() -> str | None:
    """The token from HF_TOKEN, else from the token file ($HF_HOME/token, default ~/.cache/huggingface/token)."""
    token = os.environ.get("HF_TOKEN", "").strip()
    if token:
        return token
    home = os.environ.get("HF_HOME") or os.path.join(os.path.expanduser("~"), ".cache", "huggingface")
    try:
        token = Path(home, "token").read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return token or None


def ambient_token_allowed(url: str) -> bool:
    """An ambient token goes only to Hugging Face hosts over https, and to loopback."""
    parts = urlsplit(url)
    if is_ambiguous(url):
        return False  # parsers disagree on such URLs' host (requests may connect elsewhere than urlsplit says)
    host = (parts.hostname or "").lower()
    if is_loopback(host):
        return True
    hf = host in ("huggingface.co", "hf.co") or host.endswith(_HF_SUFFIXES)
    return hf and parts.scheme == "https"


def checked_headers(headers: H) -> H:
    """The headers, unchanged, once each is one header: a token name and a value of printable ASCII on one line.

    A CR or LF would end the header (and smuggle others in: a token pasted with its newline); HTTP stacks refuse
    them with their own untyped errors, and do not agree on characters beyond ASCII. The message never quotes a
    value (it may be a token)."""
    for name, value in headers.items():
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            raise RequestValidationError(
                f"invalid header name {name!r}: a header name is letters, digits and !#$%&'*+-.^_`|~"
            )
        if not isinstance(value, str):
            raise RequestValidationError(f"header {name!r}: the value must be a string, not {type(value).__name__}")
        bad = _BAD_VALUE.search(value)
        if bad is not None:
            char = bad.group()
            what = (
                "a line break (CR or LF)"
                if char in "\r\n"
                else (
                    f"the control character {char!r}"
                    if char < " " or char == "\x7f"
                    else f"the non-ASCII character {char!r}"
                )
            )
            hint = " (is the token, or HF_TOKEN, pasted with a newline?)" if name.lower() == "authorization" else ""
            raise RequestValidationError(
                f"header {name!r}: the value contains {what} at position {bad.start()}; a header value is one line of "
                f"printable ASCII{hint}"
            )
    return headers


class Tokens:
    """A client's tokens and the rule of where each goes.

    `explicit` (token=) goes to any host the client talks to; an `hf_` one also to the router and the Hub beside a
    provider's own key. The ambient token (HF_TOKEN, the token file; read only when token= is not an hf_ token)
    goes to Hugging Face hosts over https and to loopback, never in a plain-http request that `proxied` says a
    proxy would carry.
    """

    def __init__(self, explicit: str | None, proxied: Callable[[str], bool]) -> None:
        self.explicit = explicit
        self.ambient = None if explicit and explicit.startswith("hf_") else ambient_token()
        self.proxied = proxied  # the transport's proxy rule, set by the client that owns the transport

    @property
    def key_kind(self) -> Literal["hf", "direct", "none"]:
        """What token= is: an hf_ token, a provider's own key, or absent."""
        return "none" if not self.explicit else "hf" if self.explicit.startswith("hf_") else "direct"

    def for_url(self, url: str) -> dict[str, str]:
        """The Authorization header for a call to `url`: token= anywhere, else the ambient token where allowed."""
        if self.explicit:
            return {"Authorization": f"Bearer {self.explicit}"}
        return self.ambient_for(url)

    def hf(self, url: str) -> dict[str, str]:
        """The Authorization header with the HF token for the router or the Hub: token= when it is an hf_ token,
        else the ambient one where its host rule allows."""
        if self.key_kind == "hf":
            return {"Authorization": f"Bearer {self.explicit}"}
        return self.ambient_for(url)

    def ambient_for(self, url: str) -> dict[str, str]:
        """The ambient token's Authorization header where its host rule allows `url`, else none."""
        if self.ambient and ambient_token_allowed(url):
            if urlsplit(url).scheme != "https" and self.proxied(url):
                return {}
            return {"Authorization": f"Bearer {self.ambient}"}
        return {}

    def direct(self, scheme: str) -> dict[str, str]:
        """The Authorization header of a direct call with a provider's own key (`Key …` or `Bearer …`)."""
        assert self.explicit is not None
        return {"Authorization": f"{scheme} {self.explicit}"}
