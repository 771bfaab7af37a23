"""Files arriving as bytes: images through Pillow, WAV/FLAC audio through soundfile (or the standard wave module)."""

from __future__ import annotations

import io
from typing import Any

from typed_inference.server.errors import bad_input

# the most seconds of audio decoded per input (`--max-audio-seconds`); set once by the server at start-up
MAX_AUDIO_SECONDS = [600.0]
# the largest upsampling accepted: 2 kHz audio to a 16 kHz model; a file declaring 1 Hz would otherwise be
# resampled into millions of samples from a few bytes
MAX_RESAMPLE_RATIO = 8


def load_image(data: bytes) -> Any:
    """An RGB Pillow image from the bytes of a PNG, JPEG, GIF, WebP, … file."""
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except Image.DecompressionBombError as exc:
        raise bad_input(f"the image is too large to decode: {exc}") from None
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise bad_input(f"the input is not an image Pillow can read: {exc}") from None
    return image.convert("RGB")


def _read_wave(data: bytes) -> tuple[Any, int]:
    """Samples (float32, channels last) and rate of a PCM WAV file, with the standard library alone."""
    import wave

    import numpy as np

    with wave.open(io.BytesIO(data), "rb") as wav:
        width, channels, rate = wav.getsampwidth(), wav.getnchannels(), wav.getframerate()
        frames = wav.readframes(wav.getnframes())
    kinds = {1: (np.uint8, 128.0, 128.0), 2: (np.int16, 0.0, 32768.0), 4: (np.int32, 0.0, 2147483648.0)}
    if width not in kinds:
        raise ValueError(f"{8 * width}-bit WAV is not supported")
    dtype, offset, scale = kinds[width]
    samples = (np.frombuffer(frames, dtype=dtype).astype(np.float32) - offset) / scale
    return samples.reshape(-1, channels), rate


def load_audio(data: bytes, rate: int) -> Any:
    """Mono float32 samples at `rate` Hz from the bytes of a WAV, FLAC or OGG file (resampled linearly if needed)."""
    import numpy as np

    try:
        try:
            import soundfile  # type: ignore[import-untyped, import-not-found, unused-ignore]

            samples, found_rate = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
        except ImportError:
            samples, found_rate = _read_wave(data)
    except Exception as exc:  # soundfile and wave raise many kinds of errors for a broken or unknown file
        raise bad_input(f"the input is not audio this server can decode (WAV, FLAC, OGG): {exc}") from None
    if not len(samples):
        raise bad_input("the audio holds no samples")
    seconds, limit = len(samples) / found_rate, MAX_AUDIO_SECONDS[0]
    if seconds > limit:
        raise bad_input(f"the audio lasts {seconds:.0f} s, more than this server's {limit:g} s (--max-audio-seconds)")
    if rate > found_rate * MAX_RESAMPLE_RATIO:
        raise bad_input(
            f"the audio's sample rate, {found_rate} Hz, is too low for this model's {rate} Hz "
            f"(at least {-(-rate // MAX_RESAMPLE_RATIO)} Hz)"
        )
    mono = samples.mean(axis=1).astype(np.float32)
    if found_rate != rate:
        length = max(1, round(len(mono) * rate / found_rate))
        mono = np.interp(np.linspace(0, len(mono) - 1, length), np.arange(len(mono)), mono).astype(np.float32)
    return mono
