"""The one job runner of media tasks on providers, I/O-free: submit, poll, fetch the result, download the file.

`JobRun.steps()` is a generator of actions: `Send(request)` (the client sends it through its retry loop and sends
the response back in, or throws its status error in) and `Wait(seconds)` (the client sleeps with its retry policy's
sleep). It returns a `JobResult`: the answer in the task's own wire shape, which the client decodes as it decodes
hf-inference's. The sync and async clients drive the same plan and only do the I/O.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import sys
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from typed_inference._errors import APIStatusError, APITimeoutError, ProviderJobError, ResponseValidationError
from typed_inference._provider_spec import ProviderTask
from typed_inference._urls import path_on, path_segment, redact_url, url_problem
from typed_inference.providers._media import OUTPUT_MEDIA, at, data_url_bytes, file_type, transcript
from typed_inference.transport import AsyncResponse, Request, Response

MAX_INTERVAL = 10.0  # seconds: the longest wait between polls
GROWTH = 1.5


@dataclass(frozen=True)
class Send:
    """Send this request (through the retry loop) and send its response back."""

    request: Request


@dataclass(frozen=True)
class Wait:
    """Sleep this many seconds (with the retry policy's sleep) before the next step."""

    seconds: float


Action = Send | Wait


@dataclass(frozen=True)
class JobStatus:
    """A provider job's status as last seen: what `progress=` callbacks receive on each change."""

    provider: str
    task: str
    job_id: str
    status: str
    polls: int


@dataclass(frozen=True)
class JobResult:
    """A media task's answer in the task's own wire shape (what hf-inference would have answered)."""

    status_code: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Protocol:
    """How a provider's job answers: where its id and status are, which statuses end it, where its error is."""

    id_at: str
    status_at: str
    done: frozenset[str]
    pending: frozenset[str] | None  # None: every status but done and failed keeps polling
    failed: frozenset[str] = frozenset()
    error_at: str = "error"
    wait_first: bool = True  # zai-org polls once at once, then waits


PROTOCOLS = {
    "fal-queue": Protocol(
        "request_id", "status", frozenset({"COMPLETED"}), None, frozenset({"FAILED", "ERROR", "CANCELLED"})
    ),
    "together-video": Protocol("id", "status", frozenset({"completed"}), frozenset({"queued", "in_progress", ""})),
    "wavespeed": Protocol(
        "data.id", "data.status", frozenset({"completed"}), frozenset({"created", "processing"}), error_at="data.error"
    ),
    "zai": Protocol("id", "task_status", frozenset({"SUCCESS"}), frozenset({"PROCESSING"}), wait_first=False),
}

ProgressCallback = Callable[[JobStatus], None]


def progress_callback(progress: bool | ProgressCallback | None) -> ProgressCallback | None:
    """The callback `progress=` asks for: True writes one line per status change to stderr."""
    if progress is True:
        return _to_stderr
    if progress is None or progress is False:
        return None
    if not callable(progress):
        from typed_inference._errors import RequestValidationError

        raise RequestValidationError(f"progress: expected a bool or a callable, got {type(progress).__name__}")
    return progress


def printable(text: str) -> str:
    """Provider text safe for a terminal: every non-printable character (ESC, CR, LF, ...) as its escape."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def _to_stderr(status: JobStatus) -> None:
    job, said = printable(status.job_id), printable(status.status)
    sys.stderr.write(f"{status.provider} {status.task} job {job}: {said} (polls: {status.polls})\n")
    sys.stderr.flush()


class JobRun:
    """One media call on a provider, as a plan of actions (`steps`); it owns its inputs and changes none."""

    def __init__(
        self,
        *,
        task: str,
        spec: ProviderTask,
        provider: str,
        submit: Request,
        base: str,
        clock: Callable[[], float],
        deadline: float,
        server_wait: Callable[[Mapping[str, str], bytes], float | None],
        user_agent: str,
        progress: ProgressCallback | None = None,
    ) -> None:
        self.task = task
        self.spec = spec
        self.provider = provider
        self.submit = submit
        self.base = base  # where polls go: the router's provider prefix, or the provider's own (queue) host
        self.clock = clock
        self.deadline = deadline
        self.server_wait = server_wait
        self.user_agent = user_agent
        self.progress = progress
        self.polls = 0

    def steps(self) -> Generator[Action, Any, JobResult]:
        """The plan: submit, then poll (per the job protocol), then read the answer and download its file."""
        response = yield Send(self.submit)
        if self.spec.answer == "bytes" and self.spec.job is None:
            return self._file(response, self.submit.url, response.content)
        data = self._json(response, self.submit.url)
        if self.spec.job == "replicate-wait":
            if at(data, "output") is None:
                status = str(at(data, "status") or "no output")
                said = at(data, "error")
                raise self._failed(
                    at(data, "id"),
                    status,
                    str(said)
                    if said
                    else "the prediction gave no output while the request was held (Prefer: wait); "
                    "it may still be running on Replicate",
                )
        elif self.spec.job is not None:
            data, response = yield from self._poll(data, response)
        return (yield from self._answer(data))

    # -- polling --------------------------------------------------------------------------------------------------
    def _poll(self, data: Any, response: Response | AsyncResponse) -> Generator[Action, Any, tuple[Any, Any]]:
        assert self.spec.job is not None
        protocol = PROTOCOLS[self.spec.job]
        job_id, status_url, result_url = self._urls(data)
        interval = self.spec.poll_interval
        seen: str | None = None
        while True:
            raw = at(data, protocol.status_at)
            status = "" if raw is None else str(raw)
            if status != seen:
                seen = status
                if self.progress is not None:
                    self.progress(JobStatus(self.provider, self.task, job_id, status or "unknown", self.polls))
            if status in protocol.done:
                break
            if status in protocol.failed or (protocol.pending is not None and status not in protocol.pending):
                said = at(data, protocol.error_at)
                if isinstance(said, dict):
                    said = said.get("message", said)
                raise self._failed(job_id, status, str(said) if said else f"the job ended with status {status!r}")
            if self.spec.max_polls is not None and self.polls >= self.spec.max_polls:
                raise APITimeoutError(
                    f"{self.provider} {self.task} job {printable(job_id)}: still {status or 'pending'!r} after "
                    f"{self.polls} polls "
                    f"(the provider's limit is {self.spec.max_polls})"
                )
            scheduled = bool(self.polls or protocol.wait_first)  # zai-org's first poll goes at once
            wait = interval if scheduled else 0.0
            asked = self.server_wait(response.headers, b"")
            if asked is not None:  # Retry-After may lengthen the wait, never shorten it below the first interval
                wait = max(asked, self.spec.poll_interval if scheduled else 0.0)
            if self.clock() + wait > self.deadline:
                raise APITimeoutError(
                    f"{self.provider} {self.task} job {printable(job_id)}: still {status or 'pending'!r} after "
                    f"{self.polls} polls "
                    "when total_timeout ran out (pass a larger total_timeout= for long jobs)"
                )
            if wait > 0:
                yield Wait(wait)
            if self.polls or protocol.wait_first:
                interval = min(interval * GROWTH, MAX_INTERVAL)
            response = yield Send(self._get(status_url))
            self.polls += 1
            data = self._json(response, status_url)
        if result_url != status_url:
            try:
                response = yield Send(self._get(result_url))
            except APIStatusError as exc:  # fal-ai tells a failed job by the result's error status
                raise self._failed(job_id, f"HTTP {exc.status_code}", exc.server_message) from exc
            data = self._json(response, result_url)
        return data, response

    def _urls(self, data: Any) -> tuple[str, str, str]:
        """The job id, its status URL and its result URL (the same but for fal-ai's queue): a URL the answer names
        gives its path only, on the base's origin; a job id is one quoted path segment (`path_on`, `path_segment`)."""
        job = self.spec.job
        protocol = PROTOCOLS[job or ""]
        job_id = at(data, protocol.id_at)
        if job == "wavespeed":
            get = at(data, "data.urls.get")
            if not isinstance(get, str) or not get:
                raise self._wrong("expected the task's URL at $.data.urls.get", data)
            url = self._on_base(get, "data.urls.get", data)
            return (str(job_id) if job_id else urlsplit(url).path), url, url
        if not isinstance(job_id, (str, int)) or job_id == "":
            raise self._wrong(f"expected the job's id at $.{protocol.id_at}", data)
        job_id = str(job_id)
        if job == "fal-queue":
            response_url = at(data, "response_url")
            if not isinstance(response_url, str) or not response_url:
                raise self._wrong("expected the job's URL at $.response_url", data)
            query = urlsplit(self.submit.url).query
            suffix = f"?{query}" if query else ""
            url = self._on_base(response_url, "response_url", data)
            return job_id, f"{url}/status{suffix}", f"{url}{suffix}"
        try:
            segment = path_segment(job_id)
        except ValueError as exc:
            raise self._wrong(f"the job's id at $.{protocol.id_at} cannot go into its poll URL: {exc}", data) from None
        if job == "together-video":
            url = f"{self.submit.url.split('?')[0]}/{segment}"
            return job_id, url, url
        url = f"{self.base}/api/paas/v4/async-result/{segment}"
        return job_id, url, url

    def _on_base(self, url: str, path: str, data: Any) -> str:
        """The poll URL of a URL the answer names at `path`: its path on the base (the base's origin, or an error)."""
        try:
            return path_on(self.base, url)
        except ValueError as exc:
            raise self._wrong(f"the job's URL at $.{path} ({url[:80]!r}) is not followed: {exc}", data) from None

    def _get(self, url: str) -> Request:
        """A poll: the submit's headers (its auth: the router's token routed, the provider's key direct), no body."""
        headers = {k: v for k, v in self.submit.headers.items() if k.lower() != "content-type"}
        return dataclasses.replace(self.submit, method="GET", url=url, headers=headers, body=None, stream=False)

    # -- the answer -----------------------------------------------------------------------------------------------
    def _answer(self, data: Any) -> Generator[Action, Any, JobResult]:
        form, path = self.spec.answer, self.spec.answer_at
        value = at(data, path)
        if form == "transcription":
            return _json_result(_transcription(data, self))
        if isinstance(value, list) and form in ("url", "text", "mask"):
            value = value[0] if value else None
        if form == "text":
            text = value
            if isinstance(value, dict):  # replicate's whisper-likes: a later field wins over an earlier one
                text = None
                for key in ("transcription", "translation"):
                    text = value[key] if isinstance(value.get(key), str) else text
                if isinstance(value.get("txt_file"), str):
                    fetched = yield from self._fetch(value["txt_file"], f"{path}.txt_file")
                    text = fetched.body.decode("utf-8", "replace")
            if not isinstance(text, str):
                raise self._wrong(f"expected the transcript (a string) at $.{path}", data)
            return _json_result({"text": text})
        if not isinstance(value, str) or not value:
            raise self._wrong(f"expected a {'base64 string' if form == 'base64' else 'URL'} at $.{path}", data)
        if form == "base64":
            try:
                content = base64.b64decode(value, validate=True)
            except ValueError:
                raise self._wrong(f"the base64 at $.{path} does not decode", data) from None
            result = self._file(None, f"$.{path}", content)
        else:
            result = yield from self._fetch(value, path)
        if form == "mask":
            mask = base64.b64encode(result.body).decode("ascii")
            return _json_result([{"label": "mask", "mask": mask}])
        return result

    def _fetch(self, url: str, path: str) -> Generator[Action, Any, JobResult]:
        """The file a URL in the answer names: a data URL read here, else a plain GET with no Authorization."""
        inline = data_url_bytes(url)
        if inline is not None:
            return self._file(None, f"$.{path} (a data URL)", inline[0], inline[1])
        problem = url_problem(url)
        if problem is not None:
            raise self._wrong(f"expected an http(s) or data URL at $.{path}, found {url[:80]!r}: {problem}", None)
        parts = urlsplit(url)
        request = Request(
            "GET", url, {"User-Agent": self.user_agent}, None, self.submit.timeout, max_bytes=self.submit.max_bytes
        )
        response = yield Send(request)
        return self._file(response, redact_url(f"{parts.scheme}://{parts.netloc}{parts.path}"), response.content)

    def _file(
        self, response: Response | AsyncResponse | None, where: str, content: bytes, declared: str | None = None
    ) -> JobResult:
        """A file of the task's kind; its content type checked (magic bytes for generic or absent ones)."""
        if declared is None:
            declared = response.headers.get("content-type", "") if response is not None else ""
        if not content:
            raise self._wrong(f"the file at {where} is empty", None)
        kind = file_type(self.task, declared, content, where) if self.task in OUTPUT_MEDIA else declared
        return JobResult(response.status_code if response is not None else 200, {"content-type": kind}, content)

    # -- errors ---------------------------------------------------------------------------------------------------
    def _json(self, response: Response | AsyncResponse, url: str) -> Any:
        try:
            return json.loads(response.content)
        except (ValueError, RecursionError) as exc:
            where = urlsplit(url)
            raise ResponseValidationError(
                f"{self.provider} ({self.task}): the answer of {where.scheme}://{where.netloc}{where.path} is not "
                f"valid JSON: {exc}",
                status_code=response.status_code,
                body=response.content,
            ) from None

    def _wrong(self, why: str, data: Any) -> ResponseValidationError:
        body = json.dumps(data).encode("utf-8")[:2000] if data is not None else b""
        return ResponseValidationError(f"{self.provider} ({self.task}): {why}", status_code=200, body=body)

    def _failed(self, job_id: Any, status: str, said: str) -> ProviderJobError:
        job = str(job_id) if job_id not in (None, "") else None
        return ProviderJobError(
            f"{self.provider} {self.task} job {printable(job or '(no id)')} failed on the provider's side: status "
            f"{printable(status)!r}: {printable(said)}",
            provider=self.provider,
            job_id=job,
            status=status,
            provider_message=said,
        )


def _json_result(data: Any) -> JobResult:
    return JobResult(200, {"content-type": "application/json"}, json.dumps(data).encode("utf-8"))


def _transcription(data: Any, run: JobRun) -> dict[str, Any]:
    """A transcription answer (OpenAI's or fal-ai whisper's) as the task's output (`chunks`)."""
    out = transcript(data)
    if out is None:
        raise run._wrong("expected the transcript (a string) at $.text", data)
    return out
