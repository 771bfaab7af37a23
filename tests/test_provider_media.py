"""Media tasks on Inference Providers over the loopback fake (tests/media_fake.py): one test per provider × task,
sync and async, the job runner's polls and waits (injected sleep and clock), failures, cancellation, downloads."""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import pytest

from tests.conftest import FakeClock
from tests.media_fake import MP3, PNG, MediaFake
from tests.server import Received, Reply
from typed_inference import (
    APIConnectionError,
    APITimeoutError,
    AsyncInferenceClient,
    BinaryOutput,
    InferenceClient,
    InferenceError,
    ProviderJobError,
    RequestValidationError,
    ResponseValidationError,
)
from typed_inference.providers import PROVIDERS, JobStatus
from typed_inference.providers._mapping import MAPPINGS
from typed_inference.transport import RetryPolicy
from typed_inference.types import AutomaticSpeechRecognitionOutput, ImageSegmentationOutputElement

HF = "hf_test_media_token"
MODEL = "org/model"
PNG_URL = "data:image/png;base64," + base64.b64encode(PNG).decode()
MP3_URL = "data:audio/mpeg;base64," + base64.b64encode(MP3).decode()
JPEG_LABELLED = "data:image/jpeg;base64," + base64.b64encode(PNG).decode()  # wavespeed labels every image jpeg
MEDIA_PAIRS = sorted(
    (name, task)
    for name, spec in PROVIDERS.items()
    for task, entry in (spec.tasks or {}).items()
    if entry.answer is not None
)
SCOPE = {
    "fal-ai": {"text-to-image", "text-to-speech", "automatic-speech-recognition", "text-to-video", "image-to-video",
               "image-to-image", "image-segmentation"},
    "together": {"text-to-image", "image-to-image", "text-to-speech", "text-to-video", "image-to-video"},
    "replicate": {"text-to-image", "text-to-speech", "text-to-video", "image-to-image", "automatic-speech-recognition"},
    "novita": {"text-to-video"},
    "nscale": {"text-to-image"},
    "wavespeed": {"text-to-image", "text-to-video", "image-to-image", "image-to-video"},
    "zai-org": {"text-to-image"},
    "deepinfra": {"text-to-speech", "automatic-speech-recognition"},
}  # fmt: skip


class Clock(FakeClock):
    """The shared fake clock (tests/conftest.py), here from 0: the sleeps the job runner asked for, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0


@pytest.fixture
def fake() -> Iterator[MediaFake]:
    fake = MediaFake()
    fake.start()
    yield fake
    fake.stop()


def remap(fake: MediaFake, *entries: tuple[str, str, str]) -> None:
    """A new mapping of MODEL, the process's mapping cache emptied (it would keep the earlier one)."""
    fake.map(MODEL, *entries)
    MAPPINGS.clear()


def make(fake: MediaFake, clock: Clock | None = None, *, kind: str = "sync", **kwargs: Any) -> Any:
    kwargs.setdefault("token", HF)
    clock = clock or Clock()
    policy = RetryPolicy(sleep=clock.sleep, async_sleep=clock.async_sleep, clock=clock, max_retries=0)
    cls = InferenceClient if kind == "sync" else AsyncInferenceClient
    return cls(retry_policy=policy, **fake.client_kwargs(), **kwargs)


INPUTS: dict[str, tuple[str, Any, dict[str, Any]]] = {
    "text-to-image": ("text_to_image", "cat", {"width": 64, "height": 32, "num_inference_steps": 3}),
    "image-to-image": ("image_to_image", PNG, {"prompt": "blue", "target_size": {"width": 64, "height": 32}}),
    "text-to-video": ("text_to_video", "a cat running", {"num_inference_steps": 3}),
    "image-to-video": ("image_to_video", PNG, {"prompt": "run"}),
    "text-to-speech": ("text_to_speech", "hello", {}),
    "automatic-speech-recognition": ("automatic_speech_recognition", MP3, {}),
    "image-segmentation": ("image_segmentation", PNG, {}),
}


def run(client: Any, task: str, **kwargs: Any) -> Any:
    """One call of `task` with the typical input above, sync or async."""
    method, primary, params = INPUTS[task]
    if isinstance(client, AsyncInferenceClient):

        async def once() -> Any:
            async with client:
                return await getattr(client, method)(primary, **{**params, **kwargs})

        return asyncio.run(once())
    with client:
        return getattr(client, method)(primary, **{**params, **kwargs})


def pid(task: str) -> str:
    """The provider id the tests map `MODEL` to: it names the task (the fake tells videos by it)."""
    return f"prov/{task}"


SIZE = {"width": 64, "height": 32}
EXPECTED: dict[tuple[str, str], dict[str, Any]] = {
    ("fal-ai", "text-to-image"): {"prompt": "cat", "num_inference_steps": 3, "image_size": SIZE},
    ("fal-ai", "image-to-image"): {"image_url": PNG_URL, "image_urls": [PNG_URL], "prompt": "blue", "image_size": SIZE},
    ("fal-ai", "text-to-video"): {"prompt": "a cat running", "num_inference_steps": 3},
    ("fal-ai", "image-to-video"): {"image_url": PNG_URL, "prompt": "run"},
    ("fal-ai", "text-to-speech"): {"text": "hello"},
    ("fal-ai", "automatic-speech-recognition"): {"audio_url": MP3_URL},
    ("fal-ai", "image-segmentation"): {"image_url": PNG_URL, "sync_mode": True},
    ("together", "text-to-image"): {
        "prompt": "cat", "steps": 3, "width": 64, "height": 32, "response_format": "base64",
        "model": pid("text-to-image"),
    },
    ("together", "image-to-image"): {
        "reference_images": [PNG_URL], "prompt": "blue", "target_size": SIZE, "response_format": "base64",
        "model": pid("image-to-image"),
    },
    ("together", "text-to-speech"): {"input": "hello", "model": pid("text-to-speech")},
    ("together", "text-to-video"): {"prompt": "a cat running", "steps": 3, "model": pid("text-to-video")},
    ("together", "image-to-video"): {
        "frame_images": [{"input_image": PNG_URL, "frame": "first"}], "prompt": "run", "model": pid("image-to-video")
    },
    ("replicate", "text-to-image"): {"input": {"prompt": "cat", "num_inference_steps": 3, "width": 64, "height": 32}},
    ("replicate", "image-to-image"): {"input": {
        "image": PNG_URL, "images": [PNG_URL], "input_image": PNG_URL, "input_images": [PNG_URL], "prompt": "blue",
        "target_size": SIZE,
    }},
    ("replicate", "text-to-video"): {"input": {"prompt": "a cat running", "num_inference_steps": 3}},
    ("replicate", "text-to-speech"): {"input": {"text": "hello"}},
    ("replicate", "automatic-speech-recognition"): {
        "input": {"audio": MP3_URL}
    },
    ("novita", "text-to-video"): {"prompt": "a cat running", "num_inference_steps": 3},
    ("nscale", "text-to-image"): {
        "prompt": "cat", "size": "64x32", "response_format": "b64_json", "model": pid("text-to-image")
    },
    ("wavespeed", "text-to-image"): {"prompt": "cat", "num_inference_steps": 3, "width": 64, "height": 32},
    ("wavespeed", "text-to-video"): {"prompt": "a cat running", "num_inference_steps": 3},
    ("wavespeed", "image-to-image"): {
        "image": JPEG_LABELLED, "prompt": "blue", "target_size": SIZE
    },
    ("wavespeed", "image-to-video"): {"image": JPEG_LABELLED, "prompt": "run"},
    ("zai-org", "text-to-image"): {
        "prompt": "cat", "num_inference_steps": 3, "size": "64x32", "model": pid("text-to-image")
    },
    ("deepinfra", "text-to-speech"): {"input": "hello", "model": pid("text-to-speech")},
}  # fmt: skip


def hf_type(fake: MediaFake, task: str) -> Any:
    """The type hf-inference's answer to `task` decodes to (for lists: the type of its items)."""
    hf_answers: dict[str, Reply] = {
        "automatic-speech-recognition": Reply(200, {"text": "hello"}),
        "image-segmentation": Reply(200, [{"label": "cat", "score": 0.9, "mask": base64.b64encode(PNG).decode()}]),
    }
    reply = hf_answers.get(task, Reply(200, PNG, {"Content-Type": "image/png"}))
    fake.script(f"/hf-inference/models/{MODEL}", reply)
    result = run(make(fake), task, model=MODEL, provider="hf-inference")
    fake.router.received.clear()
    return _type_of(result)


def _type_of(result: Any) -> Any:
    return ("list", type(result[0])) if isinstance(result, list) else type(result)


def test_the_scope_is_the_python_table() -> None:
    """Exactly the media pairs of the notes' Python table (§3.1), no more, no fewer."""
    found: dict[str, set[str]] = {}
    for name, task in MEDIA_PAIRS:
        found.setdefault(name, set()).add(task)
    assert found == SCOPE


# -- one test per provider × task, sync and async -------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize(("provider", "task"), MEDIA_PAIRS, ids=[f"{p}-{t}" for p, t in MEDIA_PAIRS])
def test_media_task_routed(fake: MediaFake, provider: str, task: str, kind: str) -> None:
    expected_type = hf_type(fake, task)
    spec = PROVIDERS[provider].tasks[task]  # type: ignore[index]
    fake.map(MODEL, (provider, pid(task), task))
    clock = Clock()
    result = run(make(fake, clock, kind=kind), task, model=MODEL, provider=provider)
    assert _type_of(result) == expected_type  # the same type as hf-inference's for the task
    if isinstance(result, BinaryOutput):
        assert result.content_type.split("/")[0] in ("image", "audio", "video")
        assert bytes(result) in (PNG, MP3) or result.content_type == "video/mp4"
    elif isinstance(result, AutomaticSpeechRecognitionOutput):
        assert result.text == "hello"
    else:
        assert isinstance(result[0], ImageSegmentationOutputElement)
        assert base64.b64decode(result[0].mask) == PNG and result[0].label == "mask"
    submit = fake.router.received[0]
    route = spec.route.replace("{model}", pid(task))
    query = "?_subdomain=queue" if spec.job == "fal-queue" else ""
    assert unquote(submit.path) == f"/{provider}{route}{query}"
    if spec.body == "multipart":
        assert submit.headers["content-type"].startswith("multipart/form-data; boundary=")
        assert b'name="file"; filename="audio.mp3"' in submit.body and MP3 in submit.body
        boundary = submit.headers["content-type"].split("boundary=")[1]
        assert submit.body.endswith(f'name="model"\r\n\r\n{pid(task)}\r\n--{boundary}--\r\n'.encode())
    else:
        assert submit.json() == EXPECTED[(provider, task)]
    for name, value in PROVIDERS[provider].headers.items():
        assert submit.headers[name.lower()] == value
    # every call to the router carries the HF token; the provider's own host sees only downloads, without it
    assert all(r.headers["authorization"] == f"Bearer {HF}" for r in fake.router.received)
    assert all(r.method == "GET" and r.path.startswith("/files/") for r in fake.direct.received)
    assert all("authorization" not in r.headers for r in fake.direct.received)
    polls = [r for r in fake.router.received[1:]]
    if spec.job in (None, "replicate-wait"):
        assert polls == [] and clock.sleeps == []
    else:
        assert all(r.method == "GET" for r in polls)
        assert len(clock.sleeps) == fake.pending + (1 if spec.job != "zai" else 0)
    assert len(fake.direct.received) == (1 if spec.answer == "url" else 0)  # one download, or none


def test_types_of_every_media_task_match_hf_inference(fake: MediaFake) -> None:
    """For every media task: the type a provider's answer decodes to is hf-inference's (asserted per pair above)."""
    for task in sorted({task for _, task in MEDIA_PAIRS}):
        provider = next(p for p, t in MEDIA_PAIRS if t == task)
        remap(fake, (provider, pid(task), task))
        assert _type_of(run(make(fake), task, model=MODEL, provider=provider)) == hf_type(fake, task)


# -- polling ----------------------------------------------------------------------------------------------------------
def _polls(fake: MediaFake) -> list[Received]:
    return [r for r in fake.router.received if r.method == "GET" and not r.path.startswith("/api/")]


def test_fal_queue_polls_the_path_of_response_url_through_the_router(fake: MediaFake) -> None:
    fake.map(MODEL, ("fal-ai", "fal-ai/wan/t2v", "text-to-video"))
    clock = Clock()
    result = make(fake, clock).text_to_video("a cat", model=MODEL, provider="fal-ai")
    assert isinstance(result, BinaryOutput) and result.content_type == "video/mp4"
    paths = [r.path for r in _polls(fake)]
    status = "/fal-ai/fal-ai/wan/t2v/requests/req-1/status?_subdomain=queue"
    assert paths == [status] * 3 + ["/fal-ai/fal-ai/wan/t2v/requests/req-1?_subdomain=queue"]
    assert clock.sleeps == [0.5, 0.75, 1.125]


def test_waits_grow_by_half_up_to_ten_seconds(fake: MediaFake) -> None:
    fake.pending = 9
    fake.map(MODEL, ("fal-ai", "fal-ai/wan/t2v", "text-to-video"))
    clock = Clock()
    make(fake, clock).text_to_video("a cat", model=MODEL, provider="fal-ai")
    expected, wait = [], 0.5
    for _ in range(10):
        expected.append(wait)
        wait = min(wait * 1.5, 10.0)
    assert clock.sleeps == pytest.approx(expected)
    assert clock.sleeps[-1] == 10.0 and len(_polls(fake)) == 11  # ten status polls and the result


def test_retry_after_on_a_poll_wins(fake: MediaFake) -> None:
    fake.map(MODEL, ("fal-ai", "fal-ai/wan/t2v", "text-to-video"))
    fake.script(
        "/fal-ai/fal-ai/wan/t2v/requests/req-1/status", Reply(200, {"status": "IN_PROGRESS"}, {"Retry-After": "3"})
    )
    clock = Clock()
    make(fake, clock).text_to_video("a cat", model=MODEL, provider="fal-ai")
    assert clock.sleeps == [0.5, 3.0, 1.125, 1.6875]


@pytest.mark.parametrize(
    ("provider", "task", "sleeps"),
    [
        ("together", "text-to-video", [2.0, 3.0, 4.5]),
        ("wavespeed", "text-to-image", [0.5, 0.75, 1.125]),
        ("zai-org", "text-to-image", [5.0, 7.5]),  # the first poll at once
    ],
)
def test_each_protocols_interval(fake: MediaFake, provider: str, task: str, sleeps: list[float]) -> None:
    fake.map(MODEL, (provider, pid(task), task))
    clock = Clock()
    run(make(fake, clock), task, model=MODEL, provider=provider)
    assert clock.sleeps == sleeps


def test_poll_urls_of_together_wavespeed_and_zai(fake: MediaFake) -> None:
    for provider, task, poll in [
        ("together", "text-to-video", "/together/v2/videos/job-1"),
        ("wavespeed", "image-to-video", "/wavespeed/api/v3/predictions/ws-1/result"),
        ("zai-org", "text-to-image", "/zai-org/api/paas/v4/async-result/z-1"),
    ]:
        fake.router.received.clear()
        fake.polls = 0
        remap(fake, (provider, pid(task), task))
        run(make(fake), task, model=MODEL, provider=provider)
        assert {r.path for r in _polls(fake)} == {poll}
        assert all(r.body == b"" and "content-type" not in r.headers for r in _polls(fake))


def test_a_slow_queue_outlasting_total_timeout_is_a_timeout(fake: MediaFake) -> None:
    fake.pending = 1000
    fake.map(MODEL, ("together", "prov/video", "text-to-video"))
    clock = Clock()
    client = make(fake, clock, total_timeout=30.0)
    with pytest.raises(APITimeoutError, match="total_timeout"):
        client.text_to_video("a cat", model=MODEL, provider="together")
    assert sum(clock.sleeps) <= 30.0 and len(clock.sleeps) == len(_polls(fake)) == 5


def test_per_call_total_timeout_lets_a_long_job_finish(fake: MediaFake) -> None:
    fake.pending = 60
    fake.map(MODEL, ("fal-ai", "fal-ai/wan/t2v", "text-to-video"))
    clock = Clock()
    client = make(fake, clock, total_timeout=300.0)
    with pytest.raises(APITimeoutError):
        client.text_to_video("a cat", model=MODEL, provider="fal-ai")
    fake.polls, clock.now = 0, 0.0
    result = client.text_to_video("a cat", model=MODEL, provider="fal-ai", total_timeout=3600.0)
    assert isinstance(result, BinaryOutput) and clock.now > 300.0


def test_together_stops_at_its_poll_limit(fake: MediaFake) -> None:
    fake.pending = 1000
    fake.map(MODEL, ("together", "prov/video", "text-to-video"))
    with pytest.raises(APITimeoutError, match="150 polls"):
        make(fake).text_to_video("a cat", model=MODEL, provider="together", total_timeout=1e9)
    assert len(_polls(fake)) == 150


# -- failures on the provider's side ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("provider", "task", "status", "job_id", "said"),
    [
        ("fal-ai", "text-to-video", "FAILED", "req-1", "the job ended with status 'FAILED'"),
        ("together", "text-to-video", "failed", "job-1", "out of memory"),
        ("wavespeed", "text-to-image", "failed", "ws-1", "NSFW"),
        ("zai-org", "text-to-image", "FAIL", "z-1", "content filtered"),
        ("replicate", "text-to-image", "processing", "p-1", "Prefer: wait"),
    ],
)
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_failed_job_is_a_provider_job_error(
    fake: MediaFake, provider: str, task: str, status: str, job_id: str, said: str, kind: str
) -> None:
    fake.fail = True
    fake.map(MODEL, (provider, pid(task), task))
    with pytest.raises(ProviderJobError) as caught:
        run(make(fake, kind=kind), task, model=MODEL, provider=provider)
    error = caught.value
    assert isinstance(error, InferenceError)
    assert (error.provider, error.status, error.job_id) == (provider, status, job_id)
    assert said in error.provider_message and job_id in str(error) and HF not in str(error)


def test_a_failed_fal_result_is_a_provider_job_error(fake: MediaFake) -> None:
    fake.map(MODEL, ("fal-ai", "fal-ai/wan/t2v", "text-to-video"))
    fake.script("/fal-ai/fal-ai/wan/t2v/requests/req-1", Reply(422, {"detail": "prompt rejected"}))
    with pytest.raises(ProviderJobError) as caught:
        make(fake).text_to_video("a cat", model=MODEL, provider="fal-ai")
    assert (caught.value.status, caught.value.job_id) == ("HTTP 422", "req-1")
    assert "prompt rejected" in caught.value.provider_message


def test_a_submit_without_a_job_id_is_a_response_validation_error(fake: MediaFake) -> None:
    fake.map(MODEL, ("together", "prov/video", "text-to-video"))
    fake.script("/together/v2/videos", Reply(200, {"status": "queued"}))
    with pytest.raises(ResponseValidationError, match=r"\$\.id"):
        make(fake).text_to_video("a cat", model=MODEL, provider="together")


# -- cancellation and progress --------------------------------------------------------------------------------------
def test_keyboard_interrupt_stops_polling_at_once(fake: MediaFake) -> None:
    fake.map(MODEL, ("fal-ai", "fal-ai/wan/t2v", "text-to-video"))
    sleeps: list[float] = []

    def interrupted(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 2:
            raise KeyboardInterrupt

    client = make(fake)
    client.retry.sleep = interrupted
    with pytest.raises(KeyboardInterrupt):
        client.text_to_video("a cat", model=MODEL, provider="fal-ai")
    assert len(_polls(fake)) == 1 and sleeps == [0.5, 0.75]


def test_cancellation_stops_async_polling_at_once(fake: MediaFake) -> None:
    fake.map(MODEL, ("together", "prov/video", "text-to-video"))
    sleeps: list[float] = []

    async def cancelled(seconds: float) -> None:
        sleeps.append(seconds)
        raise asyncio.CancelledError

    client = make(fake, kind="async")
    client.retry.async_sleep = cancelled
    with pytest.raises(asyncio.CancelledError):
        asyncio.run(client.text_to_video("a cat", model=MODEL, provider="together"))
    assert _polls(fake) == [] and sleeps == [2.0]


def test_progress_callback_reports_status_changes(fake: MediaFake) -> None:
    fake.map(MODEL, ("fal-ai", "fal-ai/wan/t2v", "text-to-video"))
    seen: list[JobStatus] = []
    make(fake).text_to_video("a cat", model=MODEL, provider="fal-ai", progress=seen.append)
    assert [(s.status, s.polls) for s in seen] == [("IN_QUEUE", 0), ("IN_PROGRESS", 2), ("COMPLETED", 3)]
    assert {(s.provider, s.task, s.job_id) for s in seen} == {("fal-ai", "text-to-video", "req-1")}


def test_progress_true_writes_status_lines(fake: MediaFake, capsys: pytest.CaptureFixture[str]) -> None:
    fake.map(MODEL, ("zai-org", "glm-image", "text-to-image"))
    make(fake).text_to_image("cat", model=MODEL, provider="zai-org", progress=True)
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        "zai-org text-to-image job z-1: PROCESSING (polls: 0)",
        "zai-org text-to-image job z-1: SUCCESS (polls: 3)",
    ]


def test_progress_must_be_a_bool_or_a_callable(fake: MediaFake) -> None:
    fake.map(MODEL, ("zai-org", "glm-image", "text-to-image"))
    with pytest.raises(RequestValidationError, match="progress"):
        make(fake).text_to_image("cat", model=MODEL, provider="zai-org", progress="yes")


# -- downloads --------------------------------------------------------------------------------------------------------
def test_downloads_carry_no_authorization_even_with_headers(fake: MediaFake) -> None:
    fake.map(MODEL, ("fal-ai", "fal-ai/flux", "text-to-image"))
    client = make(fake, headers={"X-Custom": "1"})
    assert make(fake).text_to_image("cat", model=MODEL, provider="fal-ai") == PNG
    client.text_to_image("cat", model=MODEL, provider="fal-ai")
    downloads = fake.direct.received
    assert len(downloads) == 2 and all("authorization" not in r.headers for r in downloads)


def test_a_download_of_the_wrong_kind_is_refused(fake: MediaFake) -> None:
    fake.map(MODEL, ("fal-ai", "fal-ai/flux", "text-to-image"))
    fake.file_types["cat.png"] = "text/html"
    with pytest.raises(ResponseValidationError, match="text/html, not the image"):
        make(fake).text_to_image("cat", model=MODEL, provider="fal-ai")


@pytest.mark.parametrize("generic", ["application/octet-stream", "binary/octet-stream", ""])
def test_a_generic_download_type_is_decided_by_magic_bytes(fake: MediaFake, generic: str) -> None:
    fake.map(MODEL, ("replicate", "owner/text-to-video", "text-to-video"))
    fake.file_types["clip.mp4"] = generic
    result = make(fake).text_to_video("a cat", model=MODEL, provider="replicate")
    assert result.content_type == "video/mp4"
    fake.file_types["cat.png"] = generic
    fake.script("/files/cat.png", Reply(200, b"<html>not an image</html>", {"Content-Type": generic}))
    remap(fake, ("replicate", "owner/image", "text-to-image"))
    with pytest.raises(ResponseValidationError, match="generic content type"):
        make(fake).text_to_image("cat", model=MODEL, provider="replicate")


def test_a_download_is_bounded_by_max_response_bytes(fake: MediaFake) -> None:
    fake.map(MODEL, ("fal-ai", "fal-ai/flux", "text-to-image"))
    fake.script("/files/cat.png", Reply(200, PNG + b"\x00" * 5000, {"Content-Type": "image/png"}))
    with pytest.raises(APIConnectionError):
        make(fake, max_response_bytes=2000).text_to_image("cat", model=MODEL, provider="fal-ai")
    assert len(fake.direct.received) == 1


# -- direct calls with a provider's own key ---------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_fal_direct_uses_fal_run_and_the_queue_host_with_its_key(fake: MediaFake, kind: str) -> None:
    fake.map(MODEL, ("fal-ai", "fal-ai/flux", "text-to-image"))
    image = run(make(fake, kind=kind, token="fal-key-123", provider="fal-ai"), "text-to-image", model=MODEL)
    assert image == PNG
    remap(fake, ("fal-ai", "fal-ai/wan/t2v", "text-to-video"))
    video = run(make(fake, kind=kind, token="fal-key-123", provider="fal-ai"), "text-to-video", model=MODEL)
    assert isinstance(video, BinaryOutput)
    calls = [(r.method, r.path.split("?")[0], r.headers.get("authorization")) for r in fake.direct.received]
    key = "Key fal-key-123"
    assert calls == [
        ("POST", "/fal-ai/fal-ai/flux", key),
        ("GET", "/files/cat.png", None),
        ("POST", "/fal-ai-queue/fal-ai/wan/t2v", key),
        *[("GET", "/fal-ai-queue/fal-ai/wan/t2v/requests/req-1/status", key)] * 3,
        ("GET", "/fal-ai-queue/fal-ai/wan/t2v/requests/req-1", key),
        ("GET", "/files/clip.mp4", None),
    ]
    assert fake.router.received == []


def test_wavespeed_direct_polls_its_own_host(fake: MediaFake) -> None:
    fake.map(MODEL, ("wavespeed", "wavespeed-ai/flux", "text-to-image"))
    make(fake, token="ws-key", provider="wavespeed").text_to_image("cat", model=MODEL)
    polls = [r for r in fake.direct.received if r.path.startswith("/wavespeed/api/v3/predictions/")]
    assert len(polls) == 3 and all(r.headers["authorization"] == "Bearer ws-key" for r in polls)
    assert fake.router.received == []


# -- body rules -------------------------------------------------------------------------------------------------------
def _lora(fake: MediaFake, provider: str, provider_id: str) -> None:
    fake.map(MODEL, (provider, provider_id, "text-to-image"))
    entry = fake.mappings[MODEL]["inferenceProviderMapping"][provider]
    entry.update({"adapter": "lora", "adapterWeightsPath": "lora.safetensors"})


def test_fal_lora_from_the_mapping(fake: MediaFake) -> None:
    _lora(fake, "fal-ai", "fal-ai/lora")
    make(fake).text_to_image("cat", model=MODEL, provider="fal-ai")
    body = fake.router.received[0].json()
    assert body["loras"] == [{"path": f"{fake.hub.url}/{MODEL}/resolve/main/lora.safetensors", "scale": 1}]
    assert body["model_name"] == "stabilityai/stable-diffusion-xl-base-1.0"


def test_replicate_lora_version_and_prefer_wait(fake: MediaFake) -> None:
    _lora(fake, "replicate", "owner/flux-lora:abc123")
    make(fake).text_to_image("cat", model=MODEL, provider="replicate")
    submit = fake.router.received[0]
    assert submit.path == "/replicate/v1/predictions" and submit.headers["prefer"] == "wait"
    assert submit.json() == {
        "input": {"prompt": "cat", "lora_weights": f"https://huggingface.co/{MODEL}"},
        "version": "abc123",
    }


def test_together_kontext_models_take_image_url(fake: MediaFake) -> None:
    fake.map(MODEL, ("together", "black-forest-labs/FLUX.1-Kontext-dev", "image-to-image"))
    make(fake).image_to_image(PNG, model=MODEL, provider="together")
    body = fake.router.received[0].json()
    assert body["image_url"] == PNG_URL and "reference_images" not in body and body["prompt"] == ""


def test_text_to_video_target_size_goes_flat_on_together(fake: MediaFake) -> None:
    fake.map(MODEL, ("together", "prov/video", "image-to-video"))
    make(fake).image_to_video(PNG, model=MODEL, provider="together", target_size={"width": 640, "height": 360})
    body = fake.router.received[0].json()
    assert (body["width"], body["height"]) == (640, 360) and "target_size" not in body


def test_fal_image_to_video_keeps_target_size(fake: MediaFake) -> None:
    fake.map(MODEL, ("fal-ai", "fal-ai/i2v", "image-to-video"))
    make(fake).image_to_video(PNG, model=MODEL, provider="fal-ai", target_size={"width": 640, "height": 360})
    assert fake.router.received[0].json()["target_size"] == {"width": 640, "height": 360}


def test_extra_body_joins_the_parameters(fake: MediaFake) -> None:
    fake.map(MODEL, ("replicate", "hexgrad/kokoro:v1", "text-to-speech"))
    make(fake).text_to_speech("hello", model=MODEL, provider="replicate", extra_body={"voice": "af"})
    assert fake.router.received[0].json() == {"input": {"text": "hello", "voice": "af"}, "version": "v1"}


def test_deepinfra_transcription_is_multipart_with_model_last(fake: MediaFake) -> None:
    fake.map(MODEL, ("deepinfra", "openai/whisper", "automatic-speech-recognition"))
    result = make(fake).automatic_speech_recognition(
        MP3, model=MODEL, provider="deepinfra", extra_body={"language": "en"}
    )
    assert result.text == "hello" and result.chunks is not None and result.chunks[0].timestamp == [0.0, 0.5]
    body = fake.router.received[0].body
    file_at, language_at, model_at = (body.index(s) for s in (b'name="file"', b'name="language"', b'name="model"'))
    assert file_at < language_at < model_at and b"openai/whisper" in body[model_at:]


def test_replicate_transcription_from_a_txt_file(fake: MediaFake) -> None:
    fake.map(MODEL, ("replicate", "openai/whisper", "automatic-speech-recognition"))
    fake.script("/files/out.txt", Reply(200, b"from the file", {"Content-Type": "text/plain"}))
    fake.replicate_output = {"transcription": "a", "txt_file": f"{fake.direct.url}/files/out.txt"}
    assert make(fake).automatic_speech_recognition(MP3, model=MODEL, provider="replicate").text == "from the file"
    assert "authorization" not in fake.direct.received[0].headers


@pytest.mark.parametrize(
    ("output", "text"),
    [
        ("hi", "hi"),
        (["hi", "x"], "hi"),
        ({"transcription": "a"}, "a"),
        ({"transcription": "a", "translation": "b"}, "b"),
    ],
)
def test_replicate_transcription_outputs(fake: MediaFake, output: Any, text: str) -> None:
    fake.map(MODEL, ("replicate", "openai/whisper", "automatic-speech-recognition"))
    fake.replicate_output = output
    assert make(fake).automatic_speech_recognition(MP3, model=MODEL, provider="replicate").text == text


def test_bad_input_is_a_request_validation_error_naming_the_field(fake: MediaFake) -> None:
    fake.map(MODEL, ("fal-ai", "fal-ai/flux", "text-to-image"))
    with pytest.raises(RequestValidationError, match="width"):
        make(fake).text_to_image("cat", model=MODEL, provider="fal-ai", width="wide")
    with pytest.raises(RequestValidationError, match="image"):
        make(fake).image_to_image(42, model=MODEL, provider="fal-ai")
    assert fake.router.received == []


def test_auto_picks_the_first_live_media_provider(fake: MediaFake) -> None:
    fake.map(MODEL, ("fal-ai", "fal-ai/flux", "text-to-image"), ("nscale", "sdxl", "text-to-image"))
    assert make(fake).text_to_image("cat", model=MODEL) == PNG
    assert fake.router.received[0].path == "/fal-ai/fal-ai/flux"


def test_with_raw_response_of_a_job_gives_the_download(fake: MediaFake) -> None:
    fake.map(MODEL, ("wavespeed", "wavespeed-ai/wan-video", "text-to-video"))
    raw = make(fake).with_raw_response.text_to_video("a cat", model=MODEL, provider="wavespeed")
    assert raw.status_code == 200 and raw.headers["content-type"] == "video/mp4"
    assert isinstance(raw.parsed, BinaryOutput)


def test_a_provider_message_echoing_the_token_is_masked(fake: MediaFake) -> None:
    fake.map(MODEL, ("together", "prov/video", "text-to-video"))
    echo = {"id": "job-1", "status": "failed", "error": {"message": f"bad header Bearer {HF}"}}
    fake.script("/together/v2/videos/job-1", Reply(200, echo))
    with pytest.raises(ProviderJobError) as caught:
        make(fake).text_to_video("a cat", model=MODEL, provider="together")
    assert HF not in str(caught.value) and HF not in caught.value.provider_message
    assert "***" in caught.value.provider_message


@pytest.mark.parametrize(
    ("provider", "key"), [("fal-ai", "image_url"), ("wavespeed", "image"), ("replicate", "input_image")]
)
def test_an_image_url_is_passed_through_to_a_provider(fake: MediaFake, provider: str, key: str) -> None:
    fake.map(MODEL, (provider, "prov/edit", "image-to-image"))
    make(fake).image_to_image("https://example.com/cat.png", model=MODEL, provider=provider, prompt="blue")
    body = fake.router.received[0].json()
    assert (body.get("input") or body)[key] == "https://example.com/cat.png"


def test_a_url_is_no_file_for_multipart_transcription(fake: MediaFake) -> None:
    fake.map(MODEL, ("deepinfra", "openai/whisper", "automatic-speech-recognition"))
    with pytest.raises(RequestValidationError, match="not a URL"):
        make(fake).automatic_speech_recognition("https://example.com/a.mp3", model=MODEL, provider="deepinfra")
    assert fake.router.received == []


# -- the provider files' checks (codegen) -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({"route": "/{model}", "body": "json", "inputs": {"prompt": "$input"}}, "needs an 'answer'"),
        ({"route": "/{model}", "body": "json", "inputs": {"prompt": "x"}, "answer": "url"}, '"$input"'),
        ({"route": "/{model}", "body": "json", "inputs": {"p": "$input"}, "answer": "gif"}, "'answer' must be one of"),
        ({"route": "/x", "body": "json", "inputs": {"p": "$input"}, "answer": "url", "job": "poll"}, "'job' must be"),
        ({"route": "/x", "body": "chat", "answer": "url"}, "belong to media body forms"),
        ({"route": "/x", "body": "json", "inputs": {"p": "$input"}, "answer": "url", "colour": 1}, "unknown key"),
        (
            {"route": "/x", "body": "json", "inputs": {"p": "$input"}, "answer": "url", "poll_interval": -1},
            "at least 0",
        ),
    ],
)
def test_provider_files_are_checked(tmp_path: Any, entry: dict[str, Any], problem: str) -> None:
    import json

    from codegen.providers import load_providers

    doc = {"provider": "acme", "routing": "both", "base_url": "https://acme", "auth": "bearer"}
    (tmp_path / "acme.json").write_text(json.dumps({**doc, "tasks": {"text-to-image": entry}}))
    with pytest.raises(SystemExit, match=re.escape(problem)):
        load_providers(tmp_path)
