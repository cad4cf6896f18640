"""OpenAI Responses API wire data (``POST /v1/responses`` and the stored-response actions), for
the local test server to send and for tests to compare against. Constants and small builders only.

Where the shapes come from:

* The ``response`` object, its output items (``message``, ``reasoning``, ``function_call``), the
  content parts (``output_text`` with ``annotations`` and ``logprobs``, ``refusal``), ``usage`` and
  the echoed request fields (``instructions``, ``tools``, ``tool_choice``, ``parallel_tool_calls``,
  ``temperature``, ``top_p``, ``text``, ``reasoning``, ``store``, ``truncation``, ``metadata``,
  ``service_tier``, ``max_output_tokens``, ``previous_response_id``, ``user`` ...): OpenAI's API
  reference, "Create a model response" and "The response object"
  (https://platform.openai.com/docs/api-reference/responses), checked field by field against the
  openai-python SDK's ``openai.types.responses.Response`` (openai 3.57, ``types/responses/``).
  Two notes from that check: ``store`` is echoed by the API (it is in the reference's examples) but
  is not a declared field of the SDK type, which keeps it as an extra; and the SDK declares
  ``usage.input_tokens_details.cache_write_tokens`` required, so every usage here carries it.
* Reasoning items with ``encrypted_content`` (``include=["reasoning.encrypted_content"]`` with
  ``store=false``) and summaries: the reasoning guide ("Encrypted reasoning items") and
  ``ResponseReasoningItem``. The encrypted blobs are Fernet-looking stand-ins (``gAAAAA...``).
* Message ``phase`` (``"commentary"`` for a preamble, ``"final_answer"``): ``ResponseOutputMessage``.
* Streaming: "Streaming events" in the API reference and the SDK's ``ResponseStreamEvent`` union.
  Every event carries ``sequence_number`` (from 0); a stream ends with ``response.completed``,
  ``response.incomplete`` or ``response.failed`` and there is no ``data: [DONE]``. Delta events
  carry an ``obfuscation`` padding string, which the API sends by default (see
  ``include_obfuscation`` in ``ResponseCreateParams``); the SDK types do not declare it.
  :func:`sse` writes events as OpenAI does: ``event: <type>\\ndata: <compact json>\\n\\n``.
* A mid-stream ``error`` event: ``ResponseErrorEvent`` (``type``, ``code``, ``message``, ``param``,
  ``sequence_number``), after which the connection ends.
* Error bodies: the reference's error object (``message``, ``type``, ``param``, ``code``). The
  Responses-only model answer on chat completions and the missing ``previous_response_id`` answer
  use OpenAI's wording as quoted by many clients that handle them; their status codes are said next
  to each constant.
* Stored responses: ``GET/DELETE /v1/responses/{id}``, ``GET /v1/responses/{id}/input_items``
  (``ResponseItemList``) and ``POST /v1/responses/{id}/cancel`` (a background response, status
  ``cancelled``). The delete answer's ``object`` is ``"response.deleted"`` as servers and clients
  handle it; the SDK has no type for it (``responses.delete`` returns ``None``).

Ids look like OpenAI's: ``resp_``/``msg_``/``rs_``/``fc_``/``fco_`` followed by 48 hex digits,
``call_`` followed by 24 letters and digits. They are derived from a label, so they are stable.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

Json = dict[str, Any]

CREATED_AT = 1757332800

MODEL_TEXT = "gpt-4.1-2025-04-14"
MODEL_REASONING = "o3-2025-04-16"
MODEL_GPT5 = "gpt-5-2025-08-07"


# -- ids, blobs --------------------------------------------------------------------------------


def _digest(label: str) -> bytes:
    return hashlib.sha256(label.encode()).digest() + hashlib.sha256(b"2" + label.encode()).digest()


def oid(prefix: str, label: str) -> str:
    """``<prefix>_`` and 48 hex digits, stable for ``label``: ``oid("resp", "text")``."""
    return f"{prefix}_{_digest(prefix + label).hex()[:48]}"


def call_id(label: str) -> str:
    """``call_`` and 24 letters and digits, as OpenAI's function call ids look."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "call_" + "".join(alphabet[b % len(alphabet)] for b in _digest("call" + label)[:24])


def encrypted_blob(label: str, size: int = 384) -> str:
    """A stand-in for ``encrypted_content``: opaque url-safe base64 starting ``gAAAAA``."""
    raw = b""
    i = 0
    while len(raw) < size:
        raw += _digest(f"{label}/{i}")
        i += 1
    return "gAAAAA" + base64.urlsafe_b64encode(raw[:size]).decode()


def _obfuscation(label: str, delta: str) -> str:
    """The padding OpenAI adds to delta events: random characters, so every event of a kind has
    a similar size. Here they are stable and pad the delta to at least 16 characters."""
    n = max(1, 16 - len(delta))
    return base64.b64encode(_digest(label)).decode().rstrip("=").replace("+", "x").replace("/", "y")[:n]


def pieces(text: str) -> list[str]:
    """Split ``text`` the way token deltas arrive: a word with its leading space, or a run of
    punctuation. Joining the pieces gives ``text`` back."""
    return re.findall(r"\s*\w+|\s*[^\w\s]+|\s+", text) or [text]


def json_pieces(arguments: str) -> list[str]:
    """Split function-call arguments into small chunks, as ``function_call_arguments.delta`` does."""
    return re.findall(r"\w+|[^\w]{1,3}", arguments) or [arguments]


# -- building blocks -----------------------------------------------------------------------------


def usage(input_tokens: int, output_tokens: int, *, cached: int = 0, reasoning: int = 0) -> Json:
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cache_write_tokens": 0, "cached_tokens": cached},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": input_tokens + output_tokens,
    }


def output_text(text: str) -> Json:
    return {"type": "output_text", "annotations": [], "logprobs": [], "text": text}


def refusal(text: str) -> Json:
    return {"type": "refusal", "refusal": text}


def message(label: str, *parts: Json, status: str = "completed", phase: str | None = None) -> Json:
    item: Json = {"id": oid("msg", label), "type": "message", "status": status, "content": list(parts)}
    if phase is not None:
        item["phase"] = phase
    item["role"] = "assistant"
    return item


def reasoning_item(label: str, summary: Sequence[str], *, encrypted: bool = True) -> Json:
    item: Json = {"id": oid("rs", label), "type": "reasoning"}
    if encrypted:
        item["encrypted_content"] = encrypted_blob(label)
    item["summary"] = [{"type": "summary_text", "text": s} for s in summary]
    return item


def function_call(label: str, name: str, arguments: Mapping[str, Any], status: str = "completed") -> Json:
    return {
        "id": oid("fc", label),
        "type": "function_call",
        "status": status,
        "arguments": json.dumps(arguments, separators=(",", ":"), ensure_ascii=False),
        "call_id": call_id(label),
        "name": name,
    }


def function_tool(name: str, description: str, properties: Mapping[str, Any]) -> Json:
    """A function tool as the response echoes it (``strict`` defaults to true in this API)."""
    return {
        "type": "function",
        "description": description,
        "name": name,
        "parameters": {
            "type": "object",
            "properties": dict(properties),
            "required": list(properties),
            "additionalProperties": False,
        },
        "strict": True,
    }


WEATHER_TOOL = function_tool(
    "get_weather", "Get the current weather in a city.", {"city": {"type": "string"}}
)
TIME_TOOL = function_tool("get_time", "Get the local time in an IANA time zone.", {"tz": {"type": "string"}})

TEXT_FORMAT = {"format": {"type": "text"}, "verbosity": "medium"}
NO_REASONING = {"effort": None, "summary": None}


def response(
    label: str,
    *,
    model: str = MODEL_TEXT,
    output: Sequence[Json] = (),
    status: str = "completed",
    usage_: Json | None = None,
    **fields: Any,
) -> Json:
    """A complete ``response`` object with every field OpenAI echoes, in its order; ``fields``
    override any of them (``instructions=...``, ``tools=[...]``, ``store=False`` ...)."""
    obj: Json = {
        "id": oid("resp", label),
        "object": "response",
        "created_at": CREATED_AT,
        "status": status,
        "background": False,
        "completed_at": CREATED_AT + 2 if status == "completed" else None,
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "max_output_tokens": None,
        "max_tool_calls": None,
        "model": model,
        "output": list(output),
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "prompt_cache_key": None,
        "prompt_cache_retention": None,
        "reasoning": NO_REASONING,
        "safety_identifier": None,
        "service_tier": "default",
        "store": True,
        "temperature": 1.0,
        "text": TEXT_FORMAT,
        "tool_choice": "auto",
        "tools": [],
        "top_logprobs": 0,
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": usage_,
        "user": None,
        "metadata": {},
    }
    for key, value in fields.items():
        if key not in obj:
            raise KeyError(f"response() has no field {key!r}")
        obj[key] = value
    return copy.deepcopy(obj)


def output_text_of(resp: Mapping[str, Any]) -> str:
    """What the SDK's ``Response.output_text`` gives: every ``output_text`` part, joined."""
    return "".join(
        part["text"]
        for item in resp["output"]
        if item["type"] == "message"
        for part in item["content"]
        if part["type"] == "output_text"
    )


# -- complete responses ------------------------------------------------------------------------

TEXT = "Hello, wörld! 👋 Paris is the capital of France, and it is lovely in spring."

#: What a client sends for RESPONSE_TEXT; the conversation is inline, so input_items lists it.
TEXT_REQUEST: Json = {
    "model": "gpt-4.1",
    "instructions": "You are a helpful assistant.",
    "input": [
        {"role": "user", "content": "Hi!"},
        {"role": "assistant", "content": "Hello! How can I help?"},
        {"role": "user", "content": "What is the capital of France?"},
    ],
}

RESPONSE_TEXT = response(
    "text",
    instructions="You are a helpful assistant.",
    output=[message("text", output_text(TEXT))],
    usage_=usage(38, 21, cached=0),
)

REASONING_SUMMARY = [
    "**Checking the question**\n\nThe user wants the boiling point of water at the top of "
    "Mont Blanc, so I need the pressure at 4,806 m.",
    "**Estimating**\n\nAt about 55 kPa water boils near 84 °C; I'll give that with a caveat.",
]
REASONING_TEXT = "Water boils at about 84 °C on the summit of Mont Blanc, because the air pressure is lower."

#: o3 with encrypted reasoning and nothing stored; the next turn replays the reasoning item.
REASONING_REQUEST: Json = {
    "model": "o3",
    "input": "At what temperature does water boil on top of Mont Blanc?",
    "reasoning": {"effort": "medium", "summary": "auto"},
    "include": ["reasoning.encrypted_content"],
    "store": False,
}

RESPONSE_REASONING = response(
    "reasoning",
    model=MODEL_REASONING,
    output=[
        reasoning_item("reasoning", REASONING_SUMMARY),
        message("reasoning", output_text(REASONING_TEXT)),
    ],
    reasoning={"effort": "medium", "summary": "auto"},
    store=False,
    usage_=usage(24, 412, cached=0, reasoning=384),
)

FUNCTION_CALL_REQUEST: Json = {
    "model": "gpt-4.1",
    "input": "What's the weather in Paris?",
    "tools": [dict(WEATHER_TOOL)],
}

RESPONSE_FUNCTION_CALL = response(
    "function_call",
    output=[function_call("function_call", "get_weather", {"city": "Paris"})],
    tools=[WEATHER_TOOL],
    usage_=usage(62, 16),
)

RESPONSE_PARALLEL_CALLS = response(
    "parallel_calls",
    output=[
        function_call("parallel_calls/0", "get_weather", {"city": "Paris"}),
        function_call("parallel_calls/1", "get_time", {"tz": "Europe/Rome"}),
    ],
    tools=[WEATHER_TOOL, TIME_TOOL],
    usage_=usage(97, 41, cached=64),
)

# The replay turn: o3 asked for get_weather with store=false; the client sends the whole turn back,
# the reasoning item with its encrypted_content included, then the function's output.
REPLAY_FIRST = response(
    "replay/first",
    model=MODEL_REASONING,
    output=[
        reasoning_item(
            "replay/first", ["**Looking up the weather**\n\nI should call get_weather for Paris."]
        ),
        function_call("replay/first", "get_weather", {"city": "Paris"}),
    ],
    reasoning={"effort": "medium", "summary": "auto"},
    store=False,
    tools=[WEATHER_TOOL],
    usage_=usage(71, 154, reasoning=128),
)

REPLAY_REQUEST: Json = {
    "model": "o3",
    "input": [
        {"role": "user", "content": "What's the weather in Paris?"},
        REPLAY_FIRST["output"][0],
        REPLAY_FIRST["output"][1],
        {
            "type": "function_call_output",
            "call_id": REPLAY_FIRST["output"][1]["call_id"],
            "output": '{"temperature_c":18,"conditions":"light rain"}',
        },
    ],
    "tools": [WEATHER_TOOL],
    "reasoning": {"effort": "medium", "summary": "auto"},
    "include": ["reasoning.encrypted_content"],
    "store": False,
}

REPLAY_TEXT = "It's 18 °C in Paris with light rain — take an umbrella."

RESPONSE_REPLAY = response(
    "replay/second",
    model=MODEL_REASONING,
    output=[
        reasoning_item("replay/second", ["**Answering**\n\nThe tool says 18 °C and light rain."]),
        message("replay/second", output_text(REPLAY_TEXT)),
    ],
    reasoning={"effort": "medium", "summary": "auto"},
    store=False,
    tools=[WEATHER_TOOL],
    usage_=usage(402, 96, cached=256, reasoning=64),
)

STRUCTURED_FORMAT: Json = {
    "type": "json_schema",
    "description": None,
    "name": "city_weather",
    "schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "temperature_c": {"type": "number"}},
        "required": ["city", "temperature_c"],
        "additionalProperties": False,
    },
    "strict": True,
}
STRUCTURED_TEXT = '{"city":"Paris","temperature_c":18}'

RESPONSE_STRUCTURED = response(
    "structured",
    output=[message("structured", output_text(STRUCTURED_TEXT))],
    text={"format": STRUCTURED_FORMAT, "verbosity": "medium"},
    usage_=usage(75, 12),
)

REFUSAL_TEXT = "I'm sorry, but I can't help with that."

RESPONSE_REFUSAL = response(
    "refusal",
    output=[message("refusal", refusal(REFUSAL_TEXT))],
    text={"format": STRUCTURED_FORMAT, "verbosity": "medium"},
    usage_=usage(81, 10),
)

INCOMPLETE_TEXT = "The French Revolution began in 1789, when"

RESPONSE_INCOMPLETE = response(
    "incomplete",
    status="incomplete",
    output=[message("incomplete", output_text(INCOMPLETE_TEXT), status="incomplete")],
    incomplete_details={"reason": "max_output_tokens"},
    max_output_tokens=16,
    usage_=usage(19, 16),
)

FAILED_MESSAGE = (
    "An error occurred while processing your request. You can retry your request, or contact us "
    "through our help center at help.openai.com if the error persists. Please include the request "
    "ID req_8c1f4e3a2b9d47e6a5f0c3d2b1a09e87 in your message."
)

RESPONSE_FAILED = response(
    "failed",
    status="failed",
    error={"code": "server_error", "message": FAILED_MESSAGE},
)

PREAMBLE_TEXT = "I'll check the current weather in Paris first."

#: gpt-5 says what it is about to do (a "commentary" message), then calls the function.
RESPONSE_PREAMBLE_CALL = response(
    "preamble_call",
    model=MODEL_GPT5,
    output=[
        reasoning_item("preamble_call", ["**Planning**\n\nA quick weather lookup answers this."]),
        message("preamble_call", output_text(PREAMBLE_TEXT), phase="commentary"),
        function_call("preamble_call", "get_weather", {"city": "Paris"}),
    ],
    reasoning={"effort": "medium", "summary": "auto"},
    store=False,
    tools=[WEATHER_TOOL],
    usage_=usage(88, 143, reasoning=64),
)

FINAL_ANSWER_TEXT = "Paris is at 18 °C with light rain this afternoon."

#: gpt-5 with a commentary preamble and then its "final_answer" message.
RESPONSE_PREAMBLE_FINAL = response(
    "preamble_final",
    model=MODEL_GPT5,
    output=[
        reasoning_item("preamble_final", ["**Summarising**\n\nI have the reading; I'll answer."]),
        message(
            "preamble_final/commentary", output_text("Got the reading, summarising now."), phase="commentary"
        ),
        message("preamble_final/final", output_text(FINAL_ANSWER_TEXT), phase="final_answer"),
    ],
    reasoning={"effort": "medium", "summary": "auto"},
    store=False,
    tools=[WEATHER_TOOL],
    usage_=usage(230, 118, cached=128, reasoning=64),
)

#: A background response after ``POST /v1/responses/{id}/cancel``.
RESPONSE_CANCELLED = response(
    "cancelled",
    model=MODEL_REASONING,
    status="cancelled",
    background=True,
    reasoning={"effort": "high", "summary": "auto"},
)

RESPONSES: dict[str, Json] = {
    "text": RESPONSE_TEXT,
    "reasoning": RESPONSE_REASONING,
    "function_call": RESPONSE_FUNCTION_CALL,
    "parallel_calls": RESPONSE_PARALLEL_CALLS,
    "replay_first": REPLAY_FIRST,
    "replay": RESPONSE_REPLAY,
    "structured": RESPONSE_STRUCTURED,
    "refusal": RESPONSE_REFUSAL,
    "incomplete": RESPONSE_INCOMPLETE,
    "failed": RESPONSE_FAILED,
    "preamble_call": RESPONSE_PREAMBLE_CALL,
    "preamble_final": RESPONSE_PREAMBLE_FINAL,
    "cancelled": RESPONSE_CANCELLED,
}


# -- streams -------------------------------------------------------------------------------------

TERMINAL = {
    "completed": "response.completed",
    "incomplete": "response.incomplete",
    "failed": "response.failed",
}


class _Seq:
    def __init__(self) -> None:
        self.n = -1
        self.events: list[Json] = []

    def emit(self, kind: str, **fields: Any) -> None:
        self.n += 1
        self.events.append({"type": kind, "sequence_number": self.n, **fields})


def _in_progress(final: Mapping[str, Any]) -> Json:
    obj = copy.deepcopy(dict(final))
    obj.update(
        status="in_progress", completed_at=None, error=None, incomplete_details=None, output=[], usage=None
    )
    return obj


def _added(item: Mapping[str, Any]) -> Json:
    if item["type"] == "message":
        added = {"id": item["id"], "type": "message", "status": "in_progress", "content": []}
        if "phase" in item:
            added["phase"] = item["phase"]
        added["role"] = "assistant"
        return added
    if item["type"] == "reasoning":
        added = {"id": item["id"], "type": "reasoning"}
        if "encrypted_content" in item:
            added["encrypted_content"] = item["encrypted_content"]
        added["summary"] = []
        return added
    if item["type"] == "function_call":
        return {**item, "status": "in_progress", "arguments": ""}
    raise ValueError(f"no stream for {item['type']!r} items")


def events(final: Mapping[str, Any], *, text_pieces: Sequence[str] | None = None) -> list[Json]:
    """The stream OpenAI sends for ``final``, ending with its terminal event, whose ``response``
    is ``final``. Text and refusals arrive as :func:`pieces` (or ``text_pieces``), summaries too,
    arguments as :func:`json_pieces`."""
    s = _Seq()
    start = _in_progress(final)
    s.emit("response.created", response=start)
    s.emit("response.in_progress", response=copy.deepcopy(start))
    for oi, item in enumerate(final["output"]):
        iid = item["id"]
        s.emit("response.output_item.added", output_index=oi, item=_added(item))
        if item["type"] == "message":
            for ci, part in enumerate(item["content"]):
                where = {"item_id": iid, "output_index": oi, "content_index": ci}
                if part["type"] == "output_text":
                    s.emit("response.content_part.added", **where, part=output_text(""))
                    chunks = text_pieces if text_pieces is not None else pieces(part["text"])
                    for d in chunks:
                        s.emit(
                            "response.output_text.delta",
                            **where,
                            delta=d,
                            logprobs=[],
                            obfuscation=_obfuscation(f"{iid}/{s.n}", d),
                        )
                    s.emit("response.output_text.done", **where, text=part["text"], logprobs=[])
                else:
                    s.emit("response.content_part.added", **where, part=refusal(""))
                    for d in pieces(part["refusal"]):
                        s.emit("response.refusal.delta", **where, delta=d)
                    s.emit("response.refusal.done", **where, refusal=part["refusal"])
                s.emit("response.content_part.done", **where, part=copy.deepcopy(part))
        elif item["type"] == "reasoning":
            for si, summary in enumerate(item["summary"]):
                where = {"item_id": iid, "output_index": oi, "summary_index": si}
                s.emit(
                    "response.reasoning_summary_part.added",
                    **where,
                    part={"type": "summary_text", "text": ""},
                )
                for d in pieces(summary["text"]):
                    s.emit(
                        "response.reasoning_summary_text.delta",
                        **where,
                        delta=d,
                        obfuscation=_obfuscation(f"{iid}/{s.n}", d),
                    )
                s.emit("response.reasoning_summary_text.done", **where, text=summary["text"])
                s.emit("response.reasoning_summary_part.done", **where, part=copy.deepcopy(summary))
        elif item["type"] == "function_call":
            where = {"item_id": iid, "output_index": oi}
            for d in json_pieces(item["arguments"]):
                s.emit(
                    "response.function_call_arguments.delta",
                    **where,
                    delta=d,
                    obfuscation=_obfuscation(f"{iid}/{s.n}", d),
                )
            s.emit("response.function_call_arguments.done", **where, arguments=item["arguments"])
        s.emit("response.output_item.done", output_index=oi, item=copy.deepcopy(item))
    s.emit(TERMINAL[final["status"]], response=copy.deepcopy(dict(final)))
    return s.events


STREAM_TEXT = events(RESPONSE_TEXT)
STREAM_REASONING = events(RESPONSE_REASONING)
STREAM_FUNCTION_CALL = events(RESPONSE_FUNCTION_CALL)
STREAM_PARALLEL_CALLS = events(RESPONSE_PARALLEL_CALLS)
STREAM_REFUSAL = events(RESPONSE_REFUSAL)
STREAM_INCOMPLETE = events(RESPONSE_INCOMPLETE)
STREAM_FAILED = events(RESPONSE_FAILED)
STREAM_PREAMBLE_CALL = events(RESPONSE_PREAMBLE_CALL)

STREAMS: dict[str, list[Json]] = {
    "text": STREAM_TEXT,
    "reasoning": STREAM_REASONING,
    "function_call": STREAM_FUNCTION_CALL,
    "parallel_calls": STREAM_PARALLEL_CALLS,
    "refusal": STREAM_REFUSAL,
    "incomplete": STREAM_INCOMPLETE,
    "failed": STREAM_FAILED,
    "preamble_call": STREAM_PREAMBLE_CALL,
}

STREAM_ERROR_CODE = "server_error"
STREAM_ERROR_MESSAGE = "The server had an error while processing your request. Sorry about that!"


def error_stream(after_deltas: int = 3) -> list[Json]:
    """The text stream cut after ``after_deltas`` text deltas by an ``error`` event; nothing
    follows it (no ``response.failed``, the connection ends)."""
    out: list[Json] = []
    seen = 0
    for event in STREAM_TEXT:
        if seen == after_deltas:
            break
        out.append(event)
        seen += event["type"] == "response.output_text.delta"
    out.append(
        {
            "type": "error",
            "sequence_number": len(out),
            "code": STREAM_ERROR_CODE,
            "message": STREAM_ERROR_MESSAGE,
            "param": None,
        }
    )
    return out


STREAM_ERROR = error_stream()


def text_stream(n_deltas: int, delta: str = "tok ") -> list[Json]:
    """A long text stream: ``n_deltas`` ``response.output_text.delta`` events of ``delta`` each
    (10,000 for the benchmark), in a complete stream whose final text is ``delta * n_deltas``."""
    final = response(
        f"long/{n_deltas}/{delta}",
        output=[message(f"long/{n_deltas}/{delta}", output_text(delta * n_deltas))],
        usage_=usage(12, n_deltas),
    )
    return events(final, text_pieces=[delta] * n_deltas)


def final_response(stream: Sequence[Mapping[str, Any]]) -> Json | None:
    """The ``response`` of a stream's terminal event, or ``None`` if it has none."""
    last = stream[-1]
    return dict(last["response"]) if last["type"] in TERMINAL.values() else None


def sse(stream: Iterable[Mapping[str, Any]]) -> bytes:
    """Events as OpenAI writes them: ``event: <type>``, ``data: <compact json>``, a blank line."""
    return b"".join(
        f"event: {e['type']}\ndata: {json.dumps(e, separators=(',', ':'), ensure_ascii=False)}\n\n".encode()
        for e in stream
    )


# -- errors ----------------------------------------------------------------------------------------

#: ``POST /v1/chat/completions`` with a model served only by the Responses API (o1-pro, o3-pro,
#: codex-mini-latest, gpt-5-codex ...). Clients that handle it record the status as 404
#: (openai-python raises ``NotFoundError``), not 400.
RESPONSES_ONLY_MODEL_STATUS = 404
RESPONSES_ONLY_MODEL_ERROR: Json = {
    "error": {
        "message": "This model is only supported in v1/responses and not in v1/chat/completions.",
        "type": "invalid_request_error",
        "param": "model",
        "code": None,
    }
}

#: ``POST /v1/responses`` with a ``previous_response_id`` that is unknown, expired, or was not
#: stored. Clients that handle it record status 400 with code ``previous_response_not_found``.
PREVIOUS_RESPONSE_NOT_FOUND_STATUS = 400
PREVIOUS_RESPONSE_NOT_FOUND_ERROR: Json = {
    "error": {
        "message": "Previous response with id 'resp_x' not found.",
        "type": "invalid_request_error",
        "param": "previous_response_id",
        "code": "previous_response_not_found",
    }
}

UNAUTHORIZED_STATUS = 401
UNAUTHORIZED_ERROR: Json = {
    "error": {
        "message": (
            "Incorrect API key provided: sk-proj-********************wxyz. You can find your API "
            "key at https://platform.openai.com/account/api-keys."
        ),
        "type": "invalid_request_error",
        "param": None,
        "code": "invalid_api_key",
    }
}


# -- stored responses ------------------------------------------------------------------------------

#: ``GET /v1/responses/{RESPONSE_TEXT["id"]}``: the stored response, as created.
RETRIEVED = copy.deepcopy(RESPONSE_TEXT)

#: ``DELETE /v1/responses/{id}``.
DELETED: Json = {"id": RESPONSE_TEXT["id"], "object": "response.deleted", "deleted": True}


def _input_message(label: str, role: str, text: str) -> Json:
    part = output_text(text) if role == "assistant" else {"type": "input_text", "text": text}
    return {
        "id": oid("msg", label),
        "type": "message",
        "status": "completed",
        "content": [part],
        "role": role,
    }


_TEXT_INPUT_ITEMS = [
    _input_message(f"text/input/{i}", m["role"], m["content"]) for i, m in enumerate(TEXT_REQUEST["input"])
]

#: ``GET /v1/responses/{RESPONSE_TEXT["id"]}/input_items``: newest first (``order`` is ``desc``
#: by default).
INPUT_ITEMS: Json = {
    "object": "list",
    "data": list(reversed(_TEXT_INPUT_ITEMS)),
    "first_id": _TEXT_INPUT_ITEMS[-1]["id"],
    "last_id": _TEXT_INPUT_ITEMS[0]["id"],
    "has_more": False,
}

#: ``POST /v1/responses/{id}/cancel`` of a background response.
CANCELLED = RESPONSE_CANCELLED
