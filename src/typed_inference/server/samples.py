"""Small sample files made on the spot, for the demo and the tests: a PNG picture and a WAV tone."""

from __future__ import annotations

import io
import math
import struct
import wave


def sample_png(width: int = 48, height: int = 40) -> bytes:
    """A small PNG picture (a gradient with a square), made with Pillow."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height))
    image.putdata([(x * 5 % 256, y * 6 % 256, 128) for y in range(height) for x in range(width)])
    ImageDraw.Draw(image).rectangle((10, 8, 30, 28), fill=(250, 200, 0))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def sample_wav(seconds: float = 1.0, rate: int = 16000, frequency: float = 440.0) -> bytes:
    """A mono 16-bit WAV file holding a tone, written with the standard `wave` module."""
    frames = int(seconds * rate)
    samples = (int(12000 * math.sin(2 * math.pi * frequency * i / rate)) for i in range(frames))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"".join(struct.pack("<h", s) for s in samples))
    return buffer.getvalue()
