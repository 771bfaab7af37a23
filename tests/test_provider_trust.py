"""Issue 28: provider jobs, polls and downloads you can trust. Each test plays a hostile provider (or Hub mapping)
on loopback (tests/media_fake.py, plus an `evil` server standing for any other host) with the sync and the async
client, and counts what reached where: no key or token goes to a host an answer names, no provider id or job id
moves a request to another path, and every hostile input ends in a typed error."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import FakeClock
from tests.media_fake import PNG, MediaFake
from tests.server import Received, Reply, ScriptedServer
from typed_inference import (
    AsyncInferenceClient,
    InferenceClient,
    InferenceError,
    RequestValidationError,
    ResponseValidationError,
)
from typed_inference.providers._mapping import MAPPINGS
from typed_inference.transport import RetryPolicy

HF = "hf_trustSECRET0123456789abcdef"
KEY = "provider-key-SECRET-42"
MODEL = "org/model"
MODES = ["sync", "async"]


@pytest.fixture
def fake() -> Iterator[MediaFake]:
    fake = MediaFake()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def evil() -> Iterator[ScriptedServer]:
    """Another origin: a host a hostile answer names. Whatever reaches it is a leak."""
    server = ScriptedServer()
    server.handler = lambda _received: Reply(200, {"status": "COMPLETED", "stolen": True})
    server.start()
    yield server
    server.stop()


def client(fake: MediaFake, mode: str, clock: FakeClock | None = None, **kwargs: Any) -> Any:
    """A client on the fake, its waits on a fake clock (never slept); `provider_urls` merged over the fake's."""
    kwargs.setdefault("token", HF)
    clock = clock or FakeClock()
    policy = RetryPolicy(sleep=clock.sleep, async_sleep=clock.async_sleep, clock=clock, max_retries=0)
    options = {**fake.client_kwargs(), **kwargs}
    options["provider_urls"] = {**fake.provider_urls, **kwargs.get("provider_urls", {})}
    cls = InferenceClient if mode == "sync" else AsyncInferenceClient
    return cls(retry_policy=policy, **options)


def call(made: Any, method: str, *args: Any, **kwargs: Any) -> Any:
    """One call of a task method, sync or async, closing the client after."""
    if isinstance(made, AsyncInferenceClient):

        async def once() -> Any:
            async with made:
                return await getattr(made, method)(*args, **kwargs)

        return asyncio.run(once())
    with made:
        return getattr(made, method)(*args, **kwargs)


def outcome(made: Any, method: str, *args: Any, **kwargs: Any) -> BaseException | Any:
    """The call's result, or the exception it raised (any kind: the tests check it is typed)."""
    try:
        return call(made, method, *args, **kwargs)
    except Exception as exc:
        return exc


def credentials(received: list[Received]) -> list[str]:
    """Every credential a server received: Authorization values, and the key or token anywhere in a request."""
    found = []
    for request in received:
        text = f"{request.path} {request.headers} {request.body!r}"
        found += [secret for secret in (HF, KEY) if secret in text]
    return found


def remap(fake: MediaFake, provider: str, provider_id: str, task: str) -> None:
    fake.map(MODEL, (provider, provider_id, task))
    MAPPINGS.clear()


# -- 1. a URL taken from an answer contributes a path only ----------------------------------------------------------
def _fal_submit(response_url: str) -> Reply:
    return Reply(200, {"request_id": "r-1", "status": "IN_QUEUE", "response_url": response_url})


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("hostile", ["@{evil}/x", ".evil.example/x", "x@{evil}/x", "{evil}/x"])
def test_fal_response_url_cannot_send_the_key_elsewhere(
    fake: MediaFake, evil: ScriptedServer, mode: str, hostile: str
) -> None:
    remap(fake, "fal-ai", "fal-ai/wan/t2v", "text-to-video")
    response_url = hostile.format(evil=evil.url.removeprefix("http://"))
    fake.script("/fal-ai/wan/t2v", _fal_submit(response_url))
    bare = {"fal-ai/queue": fake.direct.url}  # a bare host, like https://queue.fal.run
    made = client(fake, mode, token=KEY, provider="fal-ai", provider_urls=bare)
    error = outcome(made, "text_to_video", "a cat", model=MODEL)
    assert isinstance(error, ResponseValidationError), repr(error)
    assert "$.response_url" in str(error) and "not followed" in str(error)
    assert evil.received == [] and len(fake.direct.received) == 1  # the submit only


@pytest.mark.parametrize("mode", MODES)
def test_fal_response_url_on_another_host_gives_its_path_on_the_base(
    fake: MediaFake, evil: ScriptedServer, mode: str
) -> None:
    remap(fake, "fal-ai", "fal-ai/wan/t2v", "text-to-video")
    fake.script("/fal-ai/wan/t2v", _fal_submit(f"{evil.url}/x/requests/r-1"))
    fake.script("/x/requests/r-1/status", Reply(200, {"status": "COMPLETED"}))
    fake.script("/x/requests/r-1", Reply(200, {"video": {"url": fake.file("clip.mp4")}}))
    made = client(fake, mode, token=KEY, provider="fal-ai", provider_urls={"fal-ai/queue": fake.direct.url})
    call(made, "text_to_video", "a cat", model=MODEL)
    assert evil.received == []
    polls = [(r.path, r.headers.get("authorization")) for r in fake.direct.received if r.method == "GET"]
    assert polls[:2] == [("/x/requests/r-1/status", f"Key {KEY}"), ("/x/requests/r-1", f"Key {KEY}")]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("hostile", ["@{evil}/x", ".evil.example/x", "/a/../../x", "/a/%2e%2e/x", "http://[::1/x"])
def test_wavespeed_urls_get_cannot_send_the_key_elsewhere(
    fake: MediaFake, evil: ScriptedServer, mode: str, hostile: str
) -> None:
    remap(fake, "wavespeed", "wavespeed-ai/flux", "text-to-image")
    get = hostile.format(evil=evil.url.removeprefix("http://"))
    fake.script(
        "/api/v3/wavespeed-ai/flux", Reply(200, {"data": {"id": "ws-1", "status": "created", "urls": {"get": get}}})
    )
    bare = {"wavespeed": fake.direct.url}  # a bare host, like https://api.wavespeed.ai
    error = outcome(client(fake, mode, token=KEY, provider="wavespeed", provider_urls=bare), "text_to_image", "cat",
                    model=MODEL)  # fmt: skip
    assert isinstance(error, ResponseValidationError) and "$.data.urls.get" in str(error), repr(error)
    assert evil.received == [] and len(fake.direct.received) == 1


@pytest.mark.parametrize("mode", MODES)
def test_a_job_id_is_one_quoted_path_segment(fake: MediaFake, mode: str) -> None:
    remap(fake, "zai-org", "glm-image", "text-to-image")
    job = "../../../../x"
    fake.script("/zai-org/api/paas/v4/async/images/generations", Reply(200, {"id": job, "task_status": "PROCESSING"}))
    poll = "/zai-org/api/paas/v4/async-result/..%2F..%2F..%2F..%2Fx"
    fake.script(
        poll, Reply(200, {"id": job, "task_status": "SUCCESS", "image_result": [{"url": fake.file("cat.png")}]})
    )
    call(client(fake, mode), "text_to_image", "cat", model=MODEL, provider="zai-org")
    gets = [r.path for r in fake.router.received if r.method == "GET"]
    assert gets == [poll]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("job", ["..", ".", "a\r\nb", "\x1b[2J"])
def test_a_job_id_that_would_move_the_poll_is_refused(fake: MediaFake, mode: str, job: str) -> None:
    remap(fake, "together", "prov/video", "text-to-video")
    fake.script("/together/v2/videos", Reply(200, {"id": job, "status": "queued"}))
    error = outcome(client(fake, mode), "text_to_video", "a cat", model=MODEL, provider="together")
    assert isinstance(error, ResponseValidationError) and "poll URL" in str(error), repr(error)
    assert [r.method for r in fake.router.received] == ["POST"]


# -- 2. provider ids from the Hub mapping are checked paths ---------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("provider", "task", "method", "arg"),
    [
        ("fal-ai", "text-to-image", "text_to_image", "cat"),
        ("replicate", "text-to-image", "text_to_image", "cat"),
        ("wavespeed", "text-to-image", "text_to_image", "cat"),
        ("fal-ai", "text-to-video", "text_to_video", "a cat"),
    ],
)
@pytest.mark.parametrize("provider_id", ["../../api/whoami-v2", "fal-ai/../../x", "a//b", "a/./b"])
def test_a_provider_id_cannot_retarget_the_request(
    fake: MediaFake, mode: str, provider: str, task: str, method: str, arg: str, provider_id: str
) -> None:
    remap(fake, provider, provider_id, task)
    error = outcome(client(fake, mode), method, arg, model=MODEL, provider=provider)
    assert isinstance(error, RequestValidationError) and "invalid provider model id" in str(error), repr(error)
    assert fake.router.received == []  # the Hub was asked; nothing went to the router
    assert isinstance(error, InferenceError)


@pytest.mark.parametrize("mode", MODES)
def test_a_provider_id_is_quoted_in_the_path(fake: MediaFake, mode: str) -> None:
    remap(fake, "fal-ai", "fal-ai/flux dev?x=1#f", "text-to-image")
    call(client(fake, mode), "text_to_image", "cat", model=MODEL, provider="fal-ai")
    assert fake.router.received[0].path == "/fal-ai/fal-ai/flux%20dev%3Fx%3D1%23f"


# -- 6. every credential header is dropped on a cross-origin redirect -----------------------------------------------
CREDENTIAL_HEADERS = {
    "Cookie": f"session={KEY}",
    "Proxy-Authorization": f"Basic {KEY}",
    "X-Api-Key": KEY,
    "Api-Key": KEY,
    "X-Auth-Token": KEY,
    "X-Custom-Secret": KEY,  # any name `sensitive_header` calls a credential
}
ANSWER = Reply(200, [{"label": "POSITIVE", "score": 0.75}])


@pytest.fixture
def origin() -> Iterator[ScriptedServer]:
    server = ScriptedServer()
    server.start()
    yield server
    server.stop()


def endpoint_client(mode: str, base_url: str, **kwargs: Any) -> Any:
    cls = InferenceClient if mode == "sync" else AsyncInferenceClient
    return cls(base_url=base_url, token=HF, retry_policy=RetryPolicy(max_retries=0), **kwargs)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("where", ["headers", "extra_headers"])
@pytest.mark.parametrize("status", [307, 308])
def test_a_cross_origin_redirect_drops_every_credential_header(
    origin: ScriptedServer, evil: ScriptedServer, mode: str, where: str, status: int
) -> None:
    origin.reply(Reply(status, b"", {"Location": f"{evil.url}/models/m"}))
    evil.handler = None
    evil.reply(ANSWER)
    made = endpoint_client(mode, origin.url, **({"headers": CREDENTIAL_HEADERS} if where == "headers" else {}))
    options = {"extra_headers": CREDENTIAL_HEADERS} if where == "extra_headers" else {}
    call(made, "text_classification", "great", model="m", **options)
    assert all(name.lower() in origin.received[0].headers for name in CREDENTIAL_HEADERS)
    assert len(evil.received) == 1 and credentials(evil.received) == []
    sent = evil.received[0].headers
    assert not {"authorization", *(name.lower() for name in CREDENTIAL_HEADERS)} & set(sent)


@pytest.mark.parametrize("mode", MODES)
def test_a_same_origin_redirect_keeps_the_credential_headers(origin: ScriptedServer, mode: str) -> None:
    origin.reply(Reply(307, b"", {"Location": "/models/other"}), ANSWER)
    call(endpoint_client(mode, origin.url, headers=CREDENTIAL_HEADERS), "text_classification", "great", model="m")
    second = origin.received[1].headers
    assert (
        second["x-api-key"] == KEY
        and second["cookie"] == f"session={KEY}"
        and second["authorization"] == f"Bearer {HF}"
    )


# -- 4. polls have a floor and a limit ------------------------------------------------------------------------------
def asking(fake: MediaFake, retry_after: str) -> None:
    """Every answer of the router carries `Retry-After: retry_after` (a provider asking for no wait at all)."""
    answer = fake.router.handler
    assert answer is not None

    def handler(received: Received) -> Reply:
        reply = answer(received)
        reply.headers = {**reply.headers, "Retry-After": retry_after}
        return reply

    fake.router.handler = handler


JOBS = [
    ("fal-ai", "fal-ai/wan/t2v", "text-to-video", "text_to_video", 0.5),
    ("wavespeed", "wavespeed-ai/flux", "text-to-image", "text_to_image", 0.5),
    ("together", "prov/video", "text-to-video", "text_to_video", 2.0),
    ("zai-org", "glm-image", "text-to-image", "text_to_image", 5.0),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("retry_after", ["0", "-5", "Wed, 21 Oct 2015 07:28:00 GMT", "0.01"])
@pytest.mark.parametrize(("provider", "provider_id", "task", "method", "first"), JOBS)
def test_retry_after_never_shortens_a_poll_below_the_first_wait(
    fake: MediaFake, mode: str, retry_after: str, provider: str, provider_id: str, task: str, method: str, first: float
) -> None:
    fake.pending = 40
    remap(fake, provider, provider_id, task)
    asking(fake, retry_after)
    clock = FakeClock()
    call(client(fake, mode, clock), method, "a cat", model=MODEL, provider=provider)
    polls = [r for r in fake.router.received if r.method == "GET"]
    waits = clock.sleeps
    if provider == "zai-org" and waits[0] < first:  # its first poll goes at once: Retry-After may only delay it
        waits = waits[1:]
    assert len(polls) == 41 + (provider == "fal-ai") and min(waits) == first  # fal-ai: its result's GET too
    assert len(polls) / sum(clock.sleeps) <= 1 / first + 0.1  # polls per second of (fake) clock time


@pytest.mark.parametrize("mode", MODES)
def test_retry_after_still_lengthens_a_poll(fake: MediaFake, mode: str) -> None:
    remap(fake, "fal-ai", "fal-ai/wan/t2v", "text-to-video")
    asking(fake, "7")
    clock = FakeClock()
    call(client(fake, mode, clock), "text_to_video", "a cat", model=MODEL, provider="fal-ai")
    assert clock.sleeps == [7.0, 7.0, 7.0]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("provider", "provider_id", "task", "method", "limit"),
    [(p, i, t, m, 300 if p in ("fal-ai", "wavespeed") else 150 if p == "together" else 60) for p, i, t, m, _ in JOBS],
)
def test_every_job_protocol_stops_at_its_poll_limit(
    fake: MediaFake, mode: str, provider: str, provider_id: str, task: str, method: str, limit: int
) -> None:
    from typed_inference import APITimeoutError

    fake.pending = 10_000
    remap(fake, provider, provider_id, task)
    made = client(fake, mode, FakeClock())
    error = outcome(made, method, "a cat", model=MODEL, provider=provider, total_timeout=1e9)
    assert isinstance(error, APITimeoutError) and f"{limit} polls" in str(error), repr(error)
    assert len([r for r in fake.router.received if r.method == "GET"]) == limit


# -- 3. a default cap on every body held whole ----------------------------------------------------------------------
MIB = 1024 * 1024


def big_png(mib: int) -> Iterator[bytes]:
    """A download of `mib` MiB that starts as a PNG (as an endless one would), in 1 MiB chunks."""
    yield PNG
    for _ in range(mib):
        yield b"\x00" * MIB


@pytest.mark.parametrize("mode", MODES)
def test_a_huge_download_stops_at_the_default_cap(fake: MediaFake, mode: str) -> None:
    from typed_inference import APIConnectionError

    remap(fake, "fal-ai", "fal-ai/flux", "text-to-image")
    fake.script("/files/cat.png", Reply(200, headers={"Content-Type": "image/png"}, chunks=big_png(200)))
    error = outcome(client(fake, mode), "text_to_image", "cat", model=MODEL, provider="fal-ai")
    assert isinstance(error, APIConnectionError), repr(error)
    assert "max_response_bytes=134217728 (the default" in str(error)
    assert len(fake.direct.received) == 1  # not retried


@pytest.mark.parametrize("mode", MODES)
def test_none_still_lifts_the_cap_and_a_set_cap_holds(fake: MediaFake, mode: str) -> None:
    from typed_inference import APIConnectionError, BinaryOutput

    remap(fake, "fal-ai", "fal-ai/flux", "text-to-image")
    fake.script("/files/cat.png", Reply(200, headers={"Content-Type": "image/png"}, chunks=big_png(2)))
    image = call(client(fake, mode, max_response_bytes=None), "text_to_image", "cat", model=MODEL, provider="fal-ai")
    assert isinstance(image, BinaryOutput) and len(image) == len(PNG) + 2 * MIB
    fake.script("/files/cat.png", Reply(200, headers={"Content-Type": "image/png"}, chunks=big_png(2)))
    made = client(fake, mode, max_response_bytes=MIB)
    error = outcome(made, "text_to_image", "cat", model=MODEL, provider="fal-ai")
    assert isinstance(error, APIConnectionError) and str(MIB) in str(error) and "default" not in str(error)


def test_the_default_cap_is_documented_in_the_signatures() -> None:
    import inspect

    from typed_inference.transport import DEFAULT_MAX_RESPONSE_BYTES

    assert DEFAULT_MAX_RESPONSE_BYTES == 128 * MIB
    for cls in (InferenceClient, AsyncInferenceClient):
        assert inspect.signature(cls).parameters["max_response_bytes"].default == 128 * MIB


# -- 5. hostile URLs end in typed errors, never in a silently altered request ---------------------------------------
HOSTILE_URLS = [
    "http://[::1/x",
    "http://[x/y",
    "http://127.0.0.1:99999/x",
    "http://127.0.0.1:0/x",
    "http://127.0.0.1/a\r\nX-Injected: 1",
    "http://127.0.0.1/a\nb",
    "http://127.0.0.1/\ud800.png",
    "http://127.0.0.1/a b.png",
    "http://127.0.0.1\\@evil/x",
    "ftp://127.0.0.1/x.png",
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_a_hostile_download_url_is_a_typed_error(fake: MediaFake, mode: str, url: str) -> None:
    remap(fake, "fal-ai", "fal-ai/flux", "text-to-image")
    fake.script("/fal-ai/fal-ai/flux", Reply(200, {"images": [{"url": url}]}))
    error = outcome(client(fake, mode), "text_to_image", "cat", model=MODEL, provider="fal-ai")
    assert isinstance(error, ResponseValidationError) and "images[0].url" in str(error), repr(error)
    assert len(fake.router.received) == 1 and fake.direct.received == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_a_hostile_poll_url_is_a_typed_error(fake: MediaFake, mode: str, url: str) -> None:
    remap(fake, "wavespeed", "wavespeed-ai/flux", "text-to-image")
    data = {"data": {"id": "ws-1", "status": "created", "urls": {"get": url}}}
    fake.script("/wavespeed/api/v3/wavespeed-ai/flux", Reply(200, data))
    error = outcome(client(fake, mode), "text_to_image", "cat", model=MODEL, provider="wavespeed")
    assert isinstance(error, ResponseValidationError) and "$.data.urls.get" in str(error), repr(error)
    assert len(fake.router.received) == 1


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("job", ["a\r\nb", "a\nX-Injected: 1", "\ud800", "a\x00b"])
def test_a_hostile_job_id_is_a_typed_error(fake: MediaFake, mode: str, job: str) -> None:
    remap(fake, "zai-org", "glm-image", "text-to-image")
    fake.script("/zai-org/api/paas/v4/async/images/generations", Reply(200, {"id": job, "task_status": "PROCESSING"}))
    error = outcome(client(fake, mode), "text_to_image", "cat", model=MODEL, provider="zai-org")
    assert isinstance(error, ResponseValidationError) and "poll URL" in str(error), repr(error)
    assert len(fake.router.received) == 1


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("location", ["http://[::1/x", "http://127.0.0.1:99999/x", "http://[x/y"])
def test_a_redirect_to_a_hostile_location_is_a_typed_error(
    origin: ScriptedServer, mode: str, status: int, location: str
) -> None:
    origin.reply(Reply(status, b"", {"Location": location}))
    error = outcome(endpoint_client(mode, origin.url), "text_classification", "great", model="m")
    assert isinstance(error, InferenceError), repr(error)
    assert len(origin.received) == 1


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_a_hostile_url_model_is_a_typed_error(mode: str, url: str) -> None:
    error = outcome(endpoint_client(mode, "http://127.0.0.1:9"), "text_classification", "great", model=url)
    if not url.startswith("http"):  # not a URL model: a model id, checked as one
        return
    assert isinstance(error, InferenceError) and "cannot send" in str(error), repr(error)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("what", ["base_url", "router_url", "hub_url", "provider_urls"])
@pytest.mark.parametrize("url", ["http://127.0.0.1:99999", "http://[::1", "http://127.0.0.1:0", "http://a b"])
def test_a_base_url_the_client_cannot_send_to_is_refused_at_construction(mode: str, what: str, url: str) -> None:
    cls = InferenceClient if mode == "sync" else AsyncInferenceClient
    value: Any = {"together": url} if what == "provider_urls" else url
    with pytest.raises(ValueError, match=rf"^{what}"):
        cls(**{what: value})


# -- 7. a user name or password in a URL: refused, never logged -----------------------------------------------------
USERINFO = "http://user:pa55word-SECRET@127.0.0.1:8080"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("what", ["base_url", "router_url", "hub_url", "provider_urls"])
def test_userinfo_in_a_base_url_is_refused_at_construction_without_showing_it(
    mode: str, what: str, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    cls = InferenceClient if mode == "sync" else AsyncInferenceClient
    value: Any = {"fal-ai": USERINFO} if what == "provider_urls" else USERINFO
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ValueError, match=rf"^{what}.* must not carry a user name or password") as caught:
        cls(**{what: value})
    assert "SECRET" not in str(caught.value) and "***@127.0.0.1:8080" in str(caught.value)
    assert "SECRET" not in caplog.text


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("variable", ["HF_ENDPOINT", "HF_ROUTER_URL", "HF_INFERENCE_ENDPOINT"])
def test_userinfo_in_an_environment_url_is_refused_naming_the_variable(
    mode: str, variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, USERINFO)
    cls = InferenceClient if mode == "sync" else AsyncInferenceClient
    with pytest.raises(ValueError, match=rf"^{variable} must not carry") as caught:
        cls()
    assert "SECRET" not in str(caught.value)


@pytest.mark.parametrize("mode", MODES)
def test_userinfo_in_a_url_model_is_refused_before_sending(
    origin: ScriptedServer, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    model = origin.url.replace("http://", "http://user:pa55word-SECRET@") + "/m"
    error = outcome(endpoint_client(mode, origin.url), "text_classification", "great", model=model)
    assert isinstance(error, RequestValidationError) and "user name or password" in str(error), repr(error)
    assert "SECRET" not in str(error) and "SECRET" not in repr(error.args) and "SECRET" not in caplog.text
    assert origin.received == []


@pytest.mark.parametrize("mode", MODES)
def test_no_url_in_a_debug_line_shows_userinfo(fake: MediaFake, mode: str, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    remap(fake, "fal-ai", "fal-ai/flux", "text-to-image")
    hostile = fake.file("cat.png").replace("http://", "http://u:pa55word-SECRET@")
    fake.script("/fal-ai/fal-ai/flux", Reply(200, {"images": [{"url": hostile}]}))
    error = outcome(client(fake, mode), "text_to_image", "cat", model=MODEL, provider="fal-ai")
    assert isinstance(error, RequestValidationError), repr(error)
    assert "SECRET" not in str(error) and "SECRET" not in caplog.text and fake.direct.received == []


# -- 8. provider text never reaches the terminal raw ----------------------------------------------------------------
ESCAPES = "\x1b[2J\x1b]0;owned\x07\r\n$ sudo rm -rf /\x1b[A"


@pytest.mark.parametrize("mode", MODES)
def test_progress_lines_escape_what_the_provider_says(
    fake: MediaFake, mode: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from typed_inference import ProviderJobError

    remap(fake, "fal-ai", "fal-ai/wan/t2v", "text-to-video")
    submit = {"request_id": f"r{ESCAPES}", "status": f"IN_QUEUE{ESCAPES}", "response_url": "/fal-ai/wan/t2v/r"}
    fake.script("/fal-ai/fal-ai/wan/t2v", Reply(200, submit))
    status = "/fal-ai/fal-ai/wan/t2v/r/status"
    fake.script(status, Reply(200, {"status": "FAILED", "error": ESCAPES}))
    error = outcome(client(fake, mode), "text_to_video", "a cat", model=MODEL, provider="fal-ai", progress=True)
    err = capsys.readouterr().err
    assert isinstance(error, ProviderJobError), repr(error)
    assert "\x1b" not in err and "\r" not in err and err.count("\n") == 2  # two lines: two statuses
    assert "job r\\x1b[2J" in err and "IN_QUEUE\\x1b[2J\\x1b]0;owned\\x07\\r\\n$ sudo" in err
    assert "\x1b" not in str(error) and "\n" not in str(error) and error.provider_message == ESCAPES
