"""Positions in JSON text: the line and column of a JSON path, and the elements of an array, without parsing twice."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace

from typed_inference.validation.report import Report

_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()
_SCANSTRING: Callable[[str, int], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]


def text_position(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def position(data: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of a byte offset in UTF-8 text."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", "replace")) + 1
    return data.count(b"\n", 0, offset) + 1, column


def rebase(report: Report, line: int, column: int) -> Report:
    """A report whose problem positions, relative to a payload, are made relative to the file it starts in."""
    if not report.errors:
        return report
    moved = []
    for p in report.errors:
        if p.line is None:
            moved.append(replace(p, line=line, column=None))
        else:
            moved.append(
                replace(p, line=line + p.line - 1, column=(column + (p.column or 1) - 1) if p.line == 1 else p.column)
            )
    return replace(report, errors=tuple(moved))


def locate(text: str, loc: Sequence[int | str], *, key: bool = False) -> tuple[int, int] | None:
    """Line and column of the value at a JSON path in `text` (of its key with `key`; the nearest existing parent)."""
    try:
        pos = _skip(text, 0)
        for depth, part in enumerate(loc):
            found = _member(text, pos, part)
            if found is None:
                break
            pos = found[0] if key and depth == len(loc) - 1 else found[1]
    except (ValueError, IndexError, StopIteration, RecursionError):
        return None
    return text_position(text, pos)


def _skip(text: str, pos: int) -> int:
    return _WS.match(text, pos).end()  # type: ignore[union-attr]


def _member(text: str, pos: int, part: int | str) -> tuple[int, int] | None:
    """(key offset, value offset) of member `part` of the object or array that starts at `pos`."""
    if text.startswith("{", pos) and isinstance(part, str):
        i = _skip(text, pos + 1)
        while text.startswith('"', i):
            name, end = _SCANSTRING(text, i + 1)
            value = _skip(text, _skip(text, end) + 1)
            if name == part:
                return i, value
            _, after = _DECODER.raw_decode(text, value)
            i = _skip(text, _skip(text, after) + 1)
    elif text.startswith("[", pos) and isinstance(part, int):
        i = _skip(text, pos + 1)
        for _ in range(part):
            _, after = _DECODER.raw_decode(text, i)
            i = _skip(text, _skip(text, after) + 1)
        return i, i
    return None


def iter_array(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) offsets of each element of the JSON array `text`; a ValueError at the first syntax error."""
    i = _skip(text, 0)
    if not text.startswith("["):
        raise ValueError("expected a JSON array of payloads (--each)")
    i = _skip(text, i + 1)
    if text.startswith("]", i):
        i = _skip(text, i + 1)
    else:
        while True:
            _, end = _DECODER.raw_decode(text, i)
            yield i, end
            i = _skip(text, end)
            if text.startswith(",", i):
                i = _skip(text, i + 1)
                continue
            if text.startswith("]", i):
                i = _skip(text, i + 1)
                break
            json.loads(text)  # raises the parser's own error at the right place
            raise ValueError("expected ',' or ']' after an element")
    if i != len(text):
        json.loads(text)
        raise ValueError("extra data after the array")


_SEAM = re.compile(rb"\}[ \t\r\n]*,[ \t\r\n]*\{")


def split_array(data: bytes) -> tuple[list[bytes], int, int] | None:
    """A JSON array of objects cut at its first `},{` seam's bytes: (elements, offset of the first, seam length).

    Cheap and only sometimes right: a cut inside a string or a nested object leaves an element that is not
    complete JSON, so the caller trusts the cut only when every element parses.
    """
    body = data.strip()
    if not (body.startswith(b"[") and body.endswith(b"]")) or b"\x00" in body:
        return None
    start = data.index(b"[") + 1
    inner = body[1:-1]
    if not inner.strip():
        return [], start, 0
    seam = _SEAM.search(inner)
    if seam is None:
        return [inner], start, 0
    cut = seam.group()
    return inner.replace(cut, b"}\x00{").split(b"\x00"), start, len(cut) - 2


_SSE_FRAMING = (b"event:", b"id:", b"retry:", b":")


def jsonl_payload_lines(data: bytes, *, events: bool = False) -> list[int]:
    """The 1-based line of each payload of JSON Lines, as `Validator.check_lines` counts them.

    Blank lines hold no payload; with `events` (stream outputs) neither do server-sent-event framing lines nor
    `data: [DONE]`.
    """
    found: list[int] = []
    for number, line in enumerate(data.split(b"\n"), 1):
        text = line.strip()
        if not text:
            continue
        if events:
            if text.startswith(b"data:"):
                if text[5:].strip() == b"[DONE]":
                    continue
            elif text.startswith(_SSE_FRAMING):
                continue
        found.append(number)
    return found


def array_payload_lines(data: bytes) -> list[int]:
    """The 1-based line each element of a JSON array starts on (as far as the array parses)."""
    found: list[int] = []
    try:
        text = data.decode("utf-8")
        for start, _ in iter_array(text):
            found.append(text_position(text, start)[0])
    except (ValueError, RecursionError):
        pass
    return found


def document_payload_line(data: bytes) -> int:
    """The 1-based line a file's one payload starts on (its first non-blank line)."""
    start = len(data) - len(data.lstrip())
    return data.count(b"\n", 0, start) + 1
