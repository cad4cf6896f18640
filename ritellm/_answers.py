"""Reading a provider's answer: a complete answer translated into a chat.completion, an error
answer turned into its typed exception (once, above the send policy), and what the response
headers add to an error."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TypeVar

from . import _transport
from ._assembly import as_chunk, as_terminal_event
from ._exceptions import APIError, InternalError, InvalidResponseError, RitellmError, redacted
from ._instance import core
from ._models import Prepared
from ._retries import retry_after
from ._transports.base import AsyncResponse, Response
from .types import ChatCompletion, ChatCompletionChunk, Record, ResponseStreamEvent
from .types import Response as ResponseObject

R = TypeVar("R", bound=Record)

#: Response headers that carry the provider's request id, most common first.
REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-goog-request-id", "apim-request-id")


def request_id(headers: Mapping[str, str]) -> str | None:
    """The provider's id for the request, from whichever header it uses."""
    for name in REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return value
    return None


def annotated(
    exc: RitellmError, prepared: Prepared, headers: Mapping[str, str] | None = None
) -> RitellmError:
    """Adds what the response headers say to an error, and removes the call's secrets from it."""
    if isinstance(exc, APIError) and headers is not None:
        exc.request_id = request_id(headers)
        exc.retry_after = retry_after(headers)
        exc.response_headers = {
            name.lower(): redacted(value, prepared.secrets) for name, value in headers.items()
        }
    exc.redact(prepared.secrets)
    return exc


def read(sent: _transport.Sent[Response] | _transport.Sent[AsyncResponse], kind: type[R]) -> R:
    """The answer (a chat.completion, or what ``kind`` is) of a call the send policy finished
    with a complete answer, or the provider's error for an error answer, noting how many
    attempts the call made."""
    prepared, response = sent.prepared, sent.response
    try:
        result = answer(prepared, response.status, response.headers, sent.body or b"", kind)
        if not 200 <= response.status < 300:
            raise InternalError(f"the core accepted an answer with HTTP status {response.status}")
    except APIError as exc:
        _transport.gave_up(exc, sent.attempts, sent.started)
        raise
    return result


def is_event_stream(headers: Mapping[str, str]) -> bool:
    """Whether an answer to a stream request can be an event stream: not JSON, not a web page,
    not empty. (Servers that stream under another content type still stream.)"""
    content_type = headers.get("content-type", "").lower()
    return not ("json" in content_type or "html" in content_type or headers.get("content-length") == "0")


def _instead_of_stream(
    prepared: Prepared, status: int, headers: Mapping[str, str], body: bytes, kind: type[R]
) -> R:
    """The complete answer a stream request got instead of an event stream, the error it
    reports, or an error that shows what arrived."""
    try:
        return answer(prepared, status, headers, body, kind)
    except InvalidResponseError:
        shown = redacted(body.decode("utf-8", "replace"), prepared.secrets)[:200]
        error = InvalidResponseError(
            f"the stream request was answered with {headers.get('content-type') or 'no content type'}, "
            f"not an event stream: {shown!r}"
        )
        raise annotated(error, prepared) from None


def answer_as_chunks(
    prepared: Prepared, status: int, headers: Mapping[str, str], body: bytes
) -> list[ChatCompletionChunk]:
    """A stream request answered with a complete answer instead (proxies do this): its chunk,
    the error it reports, or an error that shows what arrived."""
    completion = _instead_of_stream(prepared, status, headers, body, ChatCompletion)
    return [as_chunk(completion)]


def answer_as_events(
    prepared: Prepared, status: int, headers: Mapping[str, str], body: bytes
) -> list[ResponseStreamEvent]:
    """A Responses stream request answered with a complete response instead: the terminal event
    that carries it, or the error it reports."""
    response = _instead_of_stream(prepared, status, headers, body, ResponseObject)
    return [as_terminal_event(response)]


def answer(
    prepared: Prepared,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    kind: type[R],
) -> R:
    """Translates a complete answer into a chat.completion (or what ``kind`` is), or raises the
    provider's error.

    Read as streams are: bytes that are not UTF-8 become U+FFFD, and Python's ``json`` decides
    what is valid JSON (so ``NaN`` and a lone surrogate escape read the same either way).
    """
    try:
        text = body.decode()
    except UnicodeDecodeError:
        text = body.decode("utf-8", "replace")
        body = text.encode()
    # Already a chat.completion: parsing it here saves a crossing into the core, which would
    # hand back these same bytes. Only an answer with more brackets than max_depth could nest
    # too deep: those, and anything unusual, go to the core, which checks and says what is wrong.
    if (
        prepared.passthrough
        and 200 <= status < 300
        and body.count(b"{") + body.count(b"[") <= prepared.limits.max_depth
    ):
        try:
            result = json.loads(text)
        except (ValueError, RecursionError):
            result = None
        if isinstance(result, dict) and result.get("error") is None:
            return kind(result)
    try:
        return kind(core().parse(prepared.context, status, body))
    except RitellmError as exc:
        raise annotated(exc, prepared, headers) from None
