"""Problems with a file as a whole: binary content, text that is not UTF-8, malformed JSON."""

from __future__ import annotations

import json
import re

from typed_inference.validation.positions import position
from typed_inference.validation.report import Problem

_AT = re.compile(r" at line (\d+) column (\d+)$")


def strip_bom(data: bytes) -> bytes:
    """The data without a leading UTF-8 byte order mark (some editors write one)."""
    return data[3:] if data.startswith(b"\xef\xbb\xbf") else data


def binary_problem(data: bytes) -> Problem | None:
    """A problem for binary content (a NUL byte: not JSON text), placed at its first NUL byte."""
    at = data.find(b"\x00")
    if at < 0:
        return None
    line, column = position(data, at)
    return Problem(
        "(body)",
        "binary content, not JSON text (a NUL byte)",
        "JSON text",
        "binary data",
        line,
        column,
        "binary-content",
    )


def utf8_problem(data: bytes, exc: UnicodeDecodeError) -> Problem:
    """A problem for text that is not UTF-8, placed at the first byte that is not."""
    line, column = position(data, exc.start)
    byte = data[exc.start]
    return Problem(
        "(body)", f"not UTF-8 text: byte 0x{byte:02x}", "UTF-8 text", f"byte 0x{byte:02x}", line, column, "not-utf8"
    )


def malformed_problem(text: str, exc: ValueError | RecursionError) -> Problem:
    """A problem for malformed JSON, worded and placed by Python's JSON parser (pydantic's when only it objects)."""
    try:
        json.loads(text)
    except json.JSONDecodeError as err:
        found = text[err.pos : err.pos + 20] or "the end of the text"
        return Problem(
            "(body)", f"malformed JSON: {err.msg}", "valid JSON", repr(found), err.lineno, err.colno, "malformed-json"
        )
    except (ValueError, RecursionError):
        pass
    message = str(exc).splitlines()[0] if str(exc) else "malformed JSON"
    at = _AT.search(message)
    line, column = (int(at.group(1)), max(1, int(at.group(2)))) if at else (None, None)
    if isinstance(exc, RecursionError) or "recursion" in message:
        return Problem(
            "(body)",
            "JSON nested too deeply to check",
            "less deeply nested JSON",
            "deep nesting",
            line,
            column,
            "too-deep",
        )
    message = _AT.sub("", message).removeprefix("Invalid JSON: ")
    return Problem(
        "(body)", f"malformed JSON: {message}", "valid JSON", "text that is not JSON", line, column, "malformed-json"
    )
