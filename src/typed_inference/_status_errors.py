"""An error response as its typed error: the server's message from any body form, the class from the status."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from urllib.parse import urljoin

from typed_inference._errors import APIStatusError, Redactor, RedirectError, status_error_class
from typed_inference._urls import redact_url
from typed_inference.transport import AsyncResponse, Response, estimated_time

ServerWait = Callable[[Mapping[str, str], bytes], "float | None"]


def server_message(body: bytes, content_type: str) -> tuple[str, str | None]:
    """The server's error message and error_type from any of the error body forms the service sends."""
    text = body.decode("utf-8", "replace").strip()
    if "html" in content_type or text.lower().startswith(("<!doctype", "<html")):
        title = re.search(r"<title>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
        return (f"HTML error page: {title.group(1).strip()}" if title else "HTML error page"), None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # not JSON, or nested too deeply to parse: the text itself
        return (text[:500] or "(empty body)"), None
    if isinstance(data, dict):
        error = data.get("error", data.get("message", data.get("detail")))
        error_type = data.get("error_type")
        if isinstance(error, list):
            error = "; ".join(str(e) for e in error)
        elif isinstance(error, dict):
            error = error.get("message", json.dumps(error))
        return (str(error) if error is not None else text[:500]), (str(error_type) if error_type else None)
    return text[:500], None


def status_error(
    response: Response | AsyncResponse, url: str, *, server_wait: ServerWait, redactor: Redactor
) -> APIStatusError:
    """The typed error for an error response from `url`, tokens masked (`redactor`), with the wait the server
    asked for (`server_wait`, the retry policy's reading of Retry-After and loading estimates)."""
    content_type = response.headers.get("content-type", "")
    message, error_type = server_message(response.content, content_type)
    header = response.headers.get("x-error-message")
    if header and (not response.content.strip() or message == response.content.decode("utf-8", "replace")[:500]):
        message = header  # the router's message, where the body holds none of the error forms
    wait = server_wait(response.headers, response.content)
    loading = response.status_code == 503 and (
        estimated_time(response.content) is not None or "loading" in message.lower()
    )
    cls = status_error_class(response.status_code, loading=loading)
    request_id = response.headers.get("x-request-id")
    text = f"{response.status_code} from {redact_url(url)}: {message}"
    if cls is RedirectError:
        location = response.headers.get("location", "")
        try:
            target = redactor.text(redact_url(urljoin(url, location)))
        except ValueError:  # a Location no URL parser reads ("http://[::1/x"): quoted as it came
            target = repr(redactor.text(redact_url(location))[:200])
        text = (
            f"{response.status_code} from {redact_url(url)}: redirected to {target}, which would turn this POST"
            " into a GET: not followed (call that URL directly)"
        )
    if request_id:
        text += f" (request id {request_id})"
    error = cls(
        text,
        status_code=response.status_code,
        server_message=message,
        headers=response.headers,
        body=response.content,
        error_type=error_type,
        retry_after=wait,
    )
    return redactor.error(error)  # masked before the retry rule logs it
