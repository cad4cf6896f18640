"""A scripted OpenAI-compatible server on 127.0.0.1, for running real LiteLLM clients against.

The server runs in a thread of the process that starts it, on a free port, and answers every
request through one *responder*: a function of the request, so a scenario answers the same
request the same way whoever sends it and in whatever order. It records every request.

Public API
----------

``ScriptedServer(responder=None)``
    Starts serving at once; a context manager (``with ScriptedServer() as server:``), or call
    ``close()`` (stops serving, waits for the thread). Attributes:

    - ``url``: ``"http://127.0.0.1:<port>"``; ``base_url``: ``url + "/v1"`` (what
      ``OPENAI_BASE_URL`` / ``api_base`` take).
    - ``responder``: the current responder, settable at any time (``default_responder`` when
      ``None``). ``answering(responder)`` is a context manager that sets it and puts the
      previous one back.
    - ``requests``: every :class:`Request` received, in order (a copy; thread-safe).
      ``mark()`` returns a position and ``since(mark)`` the requests received after it.

    Paths: ``POST /v1/chat/completions``, ``/v1/embeddings``, ``/v1/responses``, each also
    without ``/v1``; anything else (or ``GET``) also goes to the responder, whose default answers
    OpenAI's 404. Proxy requests (``CONNECT``, or an absolute URL as the path) are recorded with
    ``foreign=True`` and refused with 403, so a client that tried to leave the machine through
    a proxy pointing here is seen.

``Request`` (what a responder gets)
    ``method``, ``path`` (as sent), ``endpoint`` (``"chat"``, ``"embeddings"``, ``"responses"``
    or ``None``), ``headers`` (names lower-cased), ``raw`` (bytes), ``body`` (parsed JSON, or
    ``None``), ``foreign``, ``status`` (what the server answered, set once answered).
    Helpers: ``stream`` (``body["stream"]`` is true), ``include_usage``, ``messages``,
    ``model``, ``last_user_text()``, ``tool_results()`` (contents of the ``tool`` messages),
    ``digest`` (a hash of the body with sorted keys: ids in answers are made from it, so the
    same request gets the same ids), ``record()`` (the request as JSON-able data).

What a responder returns
    - :class:`Answer` (build one with ``text("...")`` or ``tool_calls(call(...), ...)``):
      rendered as the endpoint and the request ask, exactly as OpenAI would: a
      ``chat.completion`` or a ``chat.completion.chunk`` stream for chat (streamed when the
      body says ``stream: true``, with the usage chunk when ``stream_options.include_usage``
      is set), a ``response`` or its event stream for ``/responses``.
    - a ``dict``: sent as a 200 JSON body.
    - a ``list`` of dicts: streamed as chat chunks (``data: {json}`` events, then
      ``data: [DONE]``); :class:`Stream` for other framings.
    - :class:`Error` ``(status, body, headers)``: an error answer; ready-made ones are
      ``invalid_api_key(request)`` (401), ``context_length_exceeded(request)`` (400),
      ``rate_limited(request)`` (429) and ``not_found(request)`` (404), with OpenAI's bodies.
    - ``None``: the default answer (``default_responder``).

Renderers, for scenarios that need the dicts themselves: ``completion(request, answer)``,
``chunks(request, answer)``, ``with_empty_chunks(request, answer)`` (those chunks with chunks
that carry nothing between them), ``response(request, answer)``, ``response_events(request, answer)``,
``embeddings(request)``. ``by_endpoint(chat=..., embeddings=..., responses=...)`` builds a
responder out of one per endpoint (a missing one falls back to the default).

Streams look like OpenAI's: the first chunk's delta is ``{"role": "assistant", "content": "",
"refusal": null}`` for text (``content: null`` and the first tool-call fragment for tool calls);
text comes in small pieces; a tool call's first fragment alone carries ``id``, ``type`` and
``function.name`` (with ``arguments: ""``), later ones only ``index`` and pieces of
``function.arguments``, calls one after another (parallel calls too); then a chunk with an
empty delta and the ``finish_reason``; then, with ``include_usage``, a chunk with
``choices: []`` and the usage (every chunk before it carries ``usage: null``); every chunk has
``system_fingerprint``, ``service_tier`` and ``obfuscation``, as OpenAI's do.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import struct
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Union

CREATED = 1_700_000_000
SYSTEM_FINGERPRINT = "fp_scripted01"
#: OpenAI's headers on every answer; LiteLLM reads the rate-limit ones into hidden params.
OPENAI_HEADERS = {
    "openai-organization": "org-scripted",
    "openai-processing-ms": "12",
    "openai-version": "2020-10-01",
    "x-ratelimit-limit-requests": "10000",
    "x-ratelimit-limit-tokens": "200000",
    "x-ratelimit-remaining-requests": "9999",
    "x-ratelimit-remaining-tokens": "199990",
    "x-ratelimit-reset-requests": "6ms",
    "x-ratelimit-reset-tokens": "3ms",
}


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    raw: bytes
    body: Any
    foreign: bool = False
    #: The status the server answered with; ``None`` until answered.
    status: int | None = None

    @property
    def endpoint(self) -> str | None:
        path = self.path.split("?", 1)[0].rstrip("/")
        for suffix, name in (
            ("/chat/completions", "chat"),
            ("/embeddings", "embeddings"),
            ("/responses", "responses"),
        ):
            if path in (suffix, "/v1" + suffix):
                return name
        return None

    @property
    def stream(self) -> bool:
        return isinstance(self.body, dict) and bool(self.body.get("stream"))

    @property
    def include_usage(self) -> bool:
        options = self.body.get("stream_options") if isinstance(self.body, dict) else None
        return isinstance(options, dict) and bool(options.get("include_usage"))

    @property
    def model(self) -> str:
        return str(self.body.get("model", "")) if isinstance(self.body, dict) else ""

    @property
    def messages(self) -> list[dict[str, Any]]:
        if not isinstance(self.body, dict):
            return []
        return list(self.body.get("messages") or [])

    def last_user_text(self) -> str:
        for message in reversed(self.messages):
            if message.get("role") == "user":
                return _text_of(message.get("content"))
        if isinstance(self.body, dict) and isinstance(self.body.get("input"), str):
            return str(self.body["input"])
        return ""

    def tool_results(self) -> list[str]:
        return [_text_of(m.get("content")) for m in self.messages if m.get("role") == "tool"]

    @property
    def digest(self) -> str:
        canonical = (
            json.dumps(self.body, sort_keys=True) if self.body is not None else self.raw.decode("latin-1")
        )
        return hashlib.sha256(canonical.encode()).hexdigest()

    def record(self) -> dict[str, Any]:
        """The request as JSON-able data (headers included; callers drop them to compare)."""
        return {
            "method": self.method,
            "path": self.path,
            "headers": self.headers,
            "body": self.body if self.body is not None else self.raw.decode("utf-8", "replace"),
            "foreign": self.foreign,
            "status": self.status,
        }


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


# -- what a responder returns ---------------------------------------------------------------


@dataclass
class ToolCall:
    name: str
    #: A dict is sent as compact JSON text, as OpenAI's models write it; a str as is.
    arguments: dict[str, Any] | str

    @property
    def arguments_text(self) -> str:
        if isinstance(self.arguments, str):
            return self.arguments
        return json.dumps(self.arguments, separators=(",", ":"))


@dataclass
class Answer:
    """What the model says, rendered as the request asks (see the module docstring)."""

    content: str | None = None
    tool_calls: Sequence[ToolCall] = ()
    #: Defaults to ``tool_calls`` when there are calls, ``stop`` otherwise.
    finish_reason: str | None = None

    @property
    def finish(self) -> str:
        if self.finish_reason is not None:
            return self.finish_reason
        return "tool_calls" if self.tool_calls else "stop"


@dataclass
class Error:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Stream:
    """Server-sent events: ``data: {json}`` each, ``event: <type>`` first when ``named`` (the
    Responses API's framing, which names each event by its ``type``), ``data: [DONE]`` last
    when ``done``."""

    events: list[Any]
    done: bool = True
    named: bool = False


Reply = Union[Answer, Error, Stream, dict[str, Any], list[Any], None]
Responder = Callable[[Request], Reply]


def text(content: str, finish_reason: str | None = None) -> Answer:
    """Answer with this text."""
    return Answer(content=content, finish_reason=finish_reason)


def call(name: str, arguments: dict[str, Any] | str) -> ToolCall:
    return ToolCall(name, arguments)


def tool_calls(*calls: ToolCall | tuple[str, dict[str, Any] | str], content: str | None = None) -> Answer:
    """Answer with these tool calls (several make parallel calls), as ``call(name, args)`` or
    ``(name, args)`` pairs."""
    made = [c if isinstance(c, ToolCall) else ToolCall(*c) for c in calls]
    return Answer(content=content, tool_calls=made)


# -- OpenAI's error bodies ------------------------------------------------------------------


def _error_body(message: str, type_: str, param: str | None, code: str | None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def _masked_key(request: Request) -> str:
    key = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if len(key) <= 8:
        return key
    return key[:3] + "*" * (len(key) - 7) + key[-4:]


def invalid_api_key(request: Request) -> Error:
    message = (
        f"Incorrect API key provided: {_masked_key(request)}. You can find your API key at "
        "https://platform.openai.com/account/api-keys."
    )
    return Error(401, _error_body(message, "invalid_request_error", None, "invalid_api_key"))


def context_length_exceeded(request: Request) -> Error:
    message = (
        "This model's maximum context length is 128000 tokens. However, your messages resulted in "
        "131072 tokens. Please reduce the length of the messages."
    )
    return Error(400, _error_body(message, "invalid_request_error", "messages", "context_length_exceeded"))


def rate_limited(request: Request) -> Error:
    message = (
        f"Rate limit reached for {request.model or 'gpt-4o-mini'} in organization org-scripted on "
        "requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s. Visit "
        "https://platform.openai.com/account/rate-limits to learn more."
    )
    headers = {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "20s"}
    return Error(429, _error_body(message, "requests", "requests", "rate_limit_exceeded"), headers)


def not_found(request: Request) -> Error:
    message = f"Invalid URL ({request.method} {request.path})"
    return Error(404, _error_body(message, "invalid_request_error", None, None))


# -- renderers --------------------------------------------------------------------------------


def _usage(request: Request, answer: Answer) -> dict[str, int]:
    # Deterministic stand-ins for token counts: a quarter of the characters, as a rough tokenizer.
    prompt = max(1, len(json.dumps(request.messages or request.body)) // 4)
    said = (answer.content or "") + "".join(c.name + c.arguments_text for c in answer.tool_calls)
    completion_tokens = max(1, len(said) // 4)
    return {"prompt": prompt, "completion": completion_tokens}


def _chat_usage(request: Request, answer: Answer) -> dict[str, Any]:
    counts = _usage(request, answer)
    return {
        "prompt_tokens": counts["prompt"],
        "completion_tokens": counts["completion"],
        "total_tokens": counts["prompt"] + counts["completion"],
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _call_id(request: Request, index: int) -> str:
    return f"call_{request.digest[:20]}{index}"


def completion(request: Request, answer: Answer) -> dict[str, Any]:
    """``answer`` as a ``chat.completion``."""
    message: dict[str, Any] = {
        "role": "assistant",
        "content": answer.content if answer.content is not None or not answer.tool_calls else None,
        "refusal": None,
        "annotations": [],
    }
    if answer.content is None and not answer.tool_calls:
        message["content"] = ""
    if answer.tool_calls:
        message["tool_calls"] = [
            {
                "id": _call_id(request, i),
                "type": "function",
                "function": {"name": c.name, "arguments": c.arguments_text},
            }
            for i, c in enumerate(answer.tool_calls)
        ]
    return {
        "id": f"chatcmpl-{request.digest[:29]}",
        "object": "chat.completion",
        "created": CREATED,
        "model": request.model,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": answer.finish}],
        "usage": _chat_usage(request, answer),
        "service_tier": "default",
        "system_fingerprint": SYSTEM_FINGERPRINT,
    }


def _pieces(text_: str, size: int) -> list[str]:
    return [text_[i : i + size] for i in range(0, len(text_), size)] or [""]


def chunks(request: Request, answer: Answer) -> list[dict[str, Any]]:
    """``answer`` as the ``chat.completion.chunk`` events OpenAI would stream (without the
    ``[DONE]``, which the framing adds)."""
    with_usage = request.include_usage
    digest = request.digest

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        made: dict[str, Any] = {
            "id": f"chatcmpl-{digest[:29]}",
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": request.model,
            "service_tier": "default",
            "system_fingerprint": SYSTEM_FINGERPRINT,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        if with_usage:
            made["usage"] = None
        return made

    made: list[dict[str, Any]] = []
    first: dict[str, Any] = {"role": "assistant", "content": "", "refusal": None}
    if answer.tool_calls and answer.content is None:
        first["content"] = None
    if answer.content:
        made.append(chunk(first))
        made.extend(chunk({"content": piece}) for piece in _pieces(answer.content, 4))
        first = {}
    for index, tool_call in enumerate(answer.tool_calls):
        opening = {
            "index": index,
            "id": _call_id(request, index),
            "type": "function",
            "function": {"name": tool_call.name, "arguments": ""},
        }
        made.append(chunk({**first, "tool_calls": [opening]}))
        first = {}
        for piece in _pieces(tool_call.arguments_text, 7):
            made.append(chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]}))
    if first:  # nothing was said
        made.append(chunk(first))
    made.append(chunk({}, answer.finish))
    if with_usage:
        last = chunk({})
        last["choices"] = []
        last["usage"] = _chat_usage(request, answer)
        made.append(last)
    for number, event in enumerate(made):
        # OpenAI pads each chunk with a random string (stream_options.include_obfuscation).
        event["obfuscation"] = hashlib.sha256(f"{digest}{number}".encode()).hexdigest()[: 4 + number % 7]
    return made


def with_empty_chunks(request: Request, answer: Answer) -> list[dict[str, Any]]:
    """``chunks(request, answer)`` with chunks that carry nothing between them, as servers
    send them: a ``{}`` delta, a delta of ``content: ""`` alone, and Azure's
    ``content_filter_results: {}`` on an empty delta (LiteLLM yields none of them)."""
    made = chunks(request, answer)
    empty: list[dict[str, Any]] = []
    for delta, extra in (({}, {}), ({"content": ""}, {}), ({}, {"content_filter_results": {}})):
        event = {
            **made[0],
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": None, **extra}],
        }
        event.pop("obfuscation", None)
        empty.append(event)
    spread: list[dict[str, Any]] = []
    for event in made:
        spread.append(event)
        if event["choices"] and event["choices"][0]["finish_reason"] is None:
            spread.extend(empty)
    return spread


def _response_output(request: Request, answer: Answer) -> list[dict[str, Any]]:
    output: list[dict[str, Any]] = []
    if answer.content is not None or not answer.tool_calls:
        output.append(
            {
                "id": f"msg_{request.digest[:40]}",
                "type": "message",
                "status": "completed",
                "role": "assistant",
                "content": [
                    {"type": "output_text", "text": answer.content or "", "annotations": [], "logprobs": []}
                ],
            }
        )
    for index, tool_call in enumerate(answer.tool_calls):
        output.append(
            {
                "id": f"fc_{request.digest[:40]}{index}",
                "type": "function_call",
                "status": "completed",
                "arguments": tool_call.arguments_text,
                "call_id": _call_id(request, index),
                "name": tool_call.name,
            }
        )
    return output


def response(request: Request, answer: Answer, status: str = "completed") -> dict[str, Any]:
    """``answer`` as a Responses API ``response`` object."""
    body = request.body if isinstance(request.body, dict) else {}
    counts = _usage(request, answer)
    return {
        "id": f"resp_{request.digest[:48]}",
        "object": "response",
        "created_at": CREATED,
        "status": status,
        "background": False,
        "error": None,
        "incomplete_details": None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "model": request.model,
        "output": _response_output(request, answer) if status == "completed" else [],
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "previous_response_id": body.get("previous_response_id"),
        "reasoning": {"effort": None, "summary": None},
        "service_tier": "default",
        "store": body.get("store", True),
        "temperature": body.get("temperature", 1.0),
        "text": body.get("text", {"format": {"type": "text"}}),
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": body.get("tools", []),
        "top_p": body.get("top_p", 1.0),
        "truncation": "disabled",
        "usage": {
            "input_tokens": counts["prompt"],
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": counts["completion"],
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": counts["prompt"] + counts["completion"],
        }
        if status == "completed"
        else None,
        "user": None,
        "metadata": body.get("metadata", {}),
    }


def response_events(request: Request, answer: Answer) -> list[dict[str, Any]]:
    """``answer`` as the Responses API's event stream (each event names its ``type``)."""
    events: list[dict[str, Any]] = []

    def add(type_: str, **fields: Any) -> None:
        events.append({"type": type_, "sequence_number": len(events), **fields})

    add("response.created", response=response(request, answer, "in_progress"))
    add("response.in_progress", response=response(request, answer, "in_progress"))
    for index, item in enumerate(_response_output(request, answer)):
        if item["type"] == "message":
            part = item["content"][0]
            add(
                "response.output_item.added",
                output_index=index,
                item={**item, "status": "in_progress", "content": []},
            )
            empty = {**part, "text": ""}
            add(
                "response.content_part.added",
                item_id=item["id"],
                output_index=index,
                content_index=0,
                part=empty,
            )
            for piece in _pieces(part["text"], 4):
                add(
                    "response.output_text.delta",
                    item_id=item["id"],
                    output_index=index,
                    content_index=0,
                    delta=piece,
                    logprobs=[],
                )
            add(
                "response.output_text.done",
                item_id=item["id"],
                output_index=index,
                content_index=0,
                text=part["text"],
                logprobs=[],
            )
            add(
                "response.content_part.done",
                item_id=item["id"],
                output_index=index,
                content_index=0,
                part=part,
            )
        else:
            add(
                "response.output_item.added",
                output_index=index,
                item={**item, "status": "in_progress", "arguments": ""},
            )
            for piece in _pieces(item["arguments"], 7):
                add(
                    "response.function_call_arguments.delta",
                    item_id=item["id"],
                    output_index=index,
                    delta=piece,
                )
            add(
                "response.function_call_arguments.done",
                item_id=item["id"],
                output_index=index,
                arguments=item["arguments"],
            )
        add("response.output_item.done", output_index=index, item=item)
    add("response.completed", response=response(request, answer))
    return events


def embeddings(request: Request, dimensions: int = 8) -> dict[str, Any]:
    """A deterministic embedding per input (each a function of the input's text), as floats or
    base64 as ``encoding_format`` asks; the floats are exact in float32, so both agree."""
    body = request.body if isinstance(request.body, dict) else {}
    inputs = body.get("input", [])
    if not isinstance(inputs, list) or (inputs and isinstance(inputs[0], int)):
        inputs = [inputs]
    data = []
    for index, item in enumerate(inputs):
        seed = hashlib.sha256(json.dumps(item).encode()).digest()
        vector = [(seed[i % len(seed)] - 128) / 128 for i in range(dimensions)]
        embedding: Any = vector
        if body.get("encoding_format") == "base64":
            # What the openai SDK asks for by default: little-endian float32s, base64.
            embedding = base64.b64encode(struct.pack(f"<{dimensions}f", *vector)).decode()
        data.append({"object": "embedding", "index": index, "embedding": embedding})
    tokens = max(1, len(json.dumps(inputs)) // 4)
    return {
        "object": "list",
        "data": data,
        "model": request.model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def default_responder(request: Request) -> Reply:
    """Echoes the last user message on chat and responses, embeds on embeddings, 404 elsewhere."""
    if request.endpoint == "embeddings":
        return embeddings(request)
    if request.endpoint in ("chat", "responses"):
        return text(f"echo: {request.last_user_text()}")
    return not_found(request)


def by_endpoint(
    chat: Responder | None = None,
    embeddings: Responder | None = None,
    responses: Responder | None = None,
) -> Responder:
    """A responder made of one per endpoint; the default answers the others."""
    table = {"chat": chat, "embeddings": embeddings, "responses": responses}

    def respond(request: Request) -> Reply:
        chosen = table.get(request.endpoint or "")
        return (chosen or default_responder)(request)

    return respond


def _render(request: Request, reply: Reply) -> Error | Stream | dict[str, Any]:
    if reply is None:
        reply = default_responder(request)
        if reply is None:
            return not_found(request)
    if isinstance(reply, Answer):
        if request.endpoint not in ("chat", "responses"):
            raise ValueError(
                f"an Answer says nothing to {request.path}: return embeddings(request) or a dict"
            )
        if request.endpoint == "responses":
            if request.stream:
                return Stream(response_events(request, reply), done=False, named=True)
            return response(request, reply)
        if request.stream:
            return Stream(chunks(request, reply))
        return completion(request, reply)
    if isinstance(reply, list):
        return Stream(reply)
    return reply


# -- the server -----------------------------------------------------------------------------


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients closing kept-alive connections is normal; anything else is shown.
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


class ScriptedServer:
    def __init__(self, responder: Responder | None = None) -> None:
        self.responder: Responder = responder or default_responder
        self._requests: list[Request] = []
        self._lock = threading.Lock()
        self._httpd = _HTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="scripted-server", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    @property
    def requests(self) -> list[Request]:
        with self._lock:
            return list(self._requests)

    def mark(self) -> int:
        with self._lock:
            return len(self._requests)

    def since(self, mark: int) -> list[Request]:
        with self._lock:
            return self._requests[mark:]

    @contextlib.contextmanager
    def answering(self, responder: Responder) -> Iterator[ScriptedServer]:
        previous, self.responder = self.responder, responder
        try:
            yield self
        finally:
            self.responder = previous

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def __enter__(self) -> ScriptedServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _receive(self, request: Request) -> Error | Stream | dict[str, Any]:
        with self._lock:
            self._requests.append(request)
        if request.foreign:
            return Error(403, _error_body("the scripted server forwards nothing", "forbidden", None, None))
        try:
            return _render(request, self.responder(request))
        except Exception as exc:
            # A responder's bug answers 500 with its message, and shows in the scenario's log.
            import traceback

            traceback.print_exc()
            return Error(500, _error_body(f"responder failed: {exc!r}", "server_error", None, None))


def _handler_for(server: ScriptedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes; with Nagle's algorithm on, the second
        # waits for the client's delayed ACK.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _request(self, foreign: bool) -> Request:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            headers = {k.lower(): v for k, v in self.headers.items()}
            return Request(self.command, self.path, headers, raw, body, foreign=foreign)

        def do_POST(self) -> None:
            request = self._request(foreign=not self.path.startswith("/"))
            self._send(request, server._receive(request))

        do_GET = do_PUT = do_DELETE = do_PATCH = do_POST

        def do_CONNECT(self) -> None:
            request = self._request(foreign=True)
            self._send(request, server._receive(request))
            self.close_connection = True

        def _send(self, request: Request, reply: Error | Stream | dict[str, Any]) -> None:
            headers = {**OPENAI_HEADERS, "x-request-id": f"req_{request.digest[:32]}"}
            if isinstance(reply, Stream):
                request.status = 200
                self.send_response(200)
                for name, value in {**headers, "content-type": "text/event-stream; charset=utf-8"}.items():
                    self.send_header(name, value)
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                try:
                    for event in reply.events:
                        data = event if isinstance(event, str) else json.dumps(event)
                        name = f"event: {event['type']}\n" if reply.named and isinstance(event, dict) else ""
                        self._chunk(f"{name}data: {data}\n\n".encode())
                    if reply.done:
                        self._chunk(b"data: [DONE]\n\n")
                    self.wfile.write(b"0\r\n\r\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True
                return
            if isinstance(reply, Error):
                status, body, headers = reply.status, reply.body, {**headers, **reply.headers}
            else:
                status, body = 200, reply
            payload = body if isinstance(body, bytes) else json.dumps(body).encode()
            request.status = status
            self.send_response(status)
            for name, value in {**headers, "content-type": "application/json"}.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _chunk(self, data: bytes) -> None:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

    return Handler
