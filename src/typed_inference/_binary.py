"""Files in and out: reading binary inputs the user passes, and the typed bytes result of binary outputs."""

from __future__ import annotations

import base64
import io
import mimetypes
import os
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Union

if TYPE_CHECKING:
    from PIL.Image import Image  # type: ignore[import-not-found, unused-ignore]

BinaryInput = Union[bytes, bytearray, memoryview, "os.PathLike[str]", str, IO[bytes]]
"""A file to send: its bytes, a path (str or PathLike), or a binary file object opened by the caller."""

_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF8", "image/gif"),
    (b"fLaC", "audio/flac"),
    (b"OggS", "audio/ogg"),
    (b"ID3", "audio/mpeg"),
    (b"\x1aE\xdf\xa3", "video/webm"),
)


def sniff(data: bytes) -> str | None:
    """The content type of common image, audio and video formats, from their first bytes."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "audio/wav"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp":
        return "video/mp4"
    return None


def read_binary(value: Any, field: str) -> tuple[bytes, str | None]:
    """The bytes and content type of a binary input; a clear error names the field when it cannot be read."""
    from typed_inference._errors import RequestValidationError

    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        return data, sniff(data)
    if isinstance(value, (str, os.PathLike)):
        path = Path(value)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise RequestValidationError(f"{field}: cannot read file {str(path)!r}: {exc.strerror or exc}") from None
        return data, sniff(data) or mimetypes.guess_type(path.name)[0]
    if hasattr(value, "read"):
        data = value.read()
        if not isinstance(data, bytes):
            raise RequestValidationError(f"{field}: expected a file opened in binary mode, got text")
        return data, sniff(data)
    raise RequestValidationError(f"{field}: expected bytes, a path or a binary file object, got {type(value).__name__}")


class BinaryOutput(bytes):
    """Bytes returned by a binary task (an image, audio, a video), carrying the response's content type."""

    content_type: str

    def __new__(cls, data: bytes, content_type: str = "application/octet-stream") -> BinaryOutput:
        self = super().__new__(cls, data)
        self.content_type = content_type
        return self

    def __repr__(self) -> str:
        return f"BinaryOutput({len(self)} bytes, content_type={self.content_type!r})"

    @classmethod
    def from_base64(cls, text: str, content_type: str = "application/octet-stream") -> BinaryOutput:
        """Decodes a base64 field of a JSON output (a segmentation mask, an audio blob)."""
        return cls(base64.b64decode(text), content_type)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Writes the bytes to `path` and returns it."""
        target = Path(path)
        target.write_bytes(self)
        return target

    def to_image(self) -> Image:
        """The bytes as a Pillow image (needs `pip install 'typed-inference[image]'`)."""
        try:
            from PIL import Image as PILImage  # type: ignore[import-not-found, unused-ignore]
        except ImportError:  # pragma: no cover - depends on the environment
            raise ImportError("to_image() needs Pillow: pip install 'typed-inference[image]'") from None
        return PILImage.open(io.BytesIO(self))
