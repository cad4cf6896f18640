"""Answers in Anthropic's and Gemini's own wire formats, written from their API references,
for the local test server to send. Each scenario exists as a complete answer and as a stream
of the same answer."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from tests.server import Reply

#: scenario -> (text, [(tool name, arguments)])
SCENARIOS: dict[str, tuple[str, list[tuple[str, dict[str, Any]]]]] = {
    "text": ("Hello, wörld! 👋", []),
    "tool": ("", [("get_weather", {"city": "Paris"})]),
    "parallel_tools": (
        "Let me check both.",
        [("get_weather", {"city": "Paris"}), ("get_time", {"tz": "Europe/Rome"})],
    ),
}


def sse_reply(events: list[tuple[str | None, dict[str, Any]]]) -> Reply:
    pieces = []
    for name, data in events:
        head = f"event: {name}\n" if name else ""
        pieces.append(f"{head}data: {json.dumps(data)}\n\n".encode())
    return Reply(200, {"content-type": "text/event-stream"}, pieces)


# Anthropic: https://docs.anthropic.com/en/api/messages and .../messages-streaming

ANTHROPIC_USAGE = {
    "input_tokens": 20,
    "cache_read_input_tokens": 5,
    "cache_creation_input_tokens": 0,
    "output_tokens": 12,
}


def anthropic_message(scenario: str) -> Reply:
    text, tools = SCENARIOS[scenario]
    content: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
    content += [
        {"type": "tool_use", "id": f"toolu_{i}", "name": name, "input": args}
        for i, (name, args) in enumerate(tools)
    ]
    return Reply.json(
        {
            "id": "msg_01",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-5",
            "content": content,
            "stop_reason": "tool_use" if tools else "end_turn",
            "stop_sequence": None,
            "usage": ANTHROPIC_USAGE,
        },
        headers={"request-id": "req_anthropic"},
    )


def anthropic_stream(scenario: str) -> Reply:
    text, tools = SCENARIOS[scenario]
    start_usage = {**ANTHROPIC_USAGE, "output_tokens": 1}
    message: dict[str, Any] = {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": start_usage,
    }
    events: list[tuple[str | None, dict[str, Any]]] = [
        ("message_start", {"type": "message_start", "message": message}),
        ("ping", {"type": "ping"}),
    ]
    index = 0
    if text:
        events.append(
            (
                "content_block_start",
                {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
            )
        )
        half = len(text) // 2
        for piece in (text[:half], text[half:]):
            events.append(
                (
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": 0,
                        "delta": {"type": "text_delta", "text": piece},
                    },
                )
            )
        events.append(("content_block_stop", {"type": "content_block_stop", "index": 0}))
        index = 1
    for i, (name, args) in enumerate(tools):
        block = {"type": "tool_use", "id": f"toolu_{i}", "name": name, "input": {}}
        events.append(
            ("content_block_start", {"type": "content_block_start", "index": index, "content_block": block})
        )
        arguments = json.dumps(args)
        for piece in (arguments[:5], arguments[5:]):
            events.append(
                (
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "input_json_delta", "partial_json": piece},
                    },
                )
            )
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
        index += 1
    events.append(
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "tool_use" if tools else "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": ANTHROPIC_USAGE["output_tokens"]},
            },
        )
    )
    events.append(("message_stop", {"type": "message_stop"}))
    return sse_reply(events)


def anthropic_error(status: int, error_type: str, message: str) -> Reply:
    return Reply.json(
        {"type": "error", "error": {"type": error_type, "message": message}},
        status,
        headers={"request-id": "req_err"},
    )


# Gemini: https://ai.google.dev/api/generate-content

GEMINI_USAGE = {
    "promptTokenCount": 20,
    "candidatesTokenCount": 12,
    "totalTokenCount": 32,
    "cachedContentTokenCount": 5,
}


def _gemini_parts(text: str, tools: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = [{"text": text}] if text else []
    return parts + [{"functionCall": {"name": name, "args": args}} for name, args in tools]


def gemini_response(scenario: str) -> Reply:
    text, tools = SCENARIOS[scenario]
    return Reply.json(
        {
            "candidates": [
                {
                    "index": 0,
                    "finishReason": "STOP",
                    "content": {"role": "model", "parts": _gemini_parts(text, tools)},
                }
            ],
            "usageMetadata": GEMINI_USAGE,
            "modelVersion": "gemini-2.5-flash",
            "responseId": "resp_01",
        }
    )


def gemini_stream(scenario: str) -> Reply:
    text, tools = SCENARIOS[scenario]
    half = len(text) // 2
    first = {
        "candidates": [{"index": 0, "content": {"role": "model", "parts": _gemini_parts(text[:half], [])}}],
        "modelVersion": "gemini-2.5-flash",
        "responseId": "resp_01",
    }
    last = {
        "candidates": [
            {
                "index": 0,
                "finishReason": "STOP",
                "content": {"role": "model", "parts": _gemini_parts(text[half:], tools)},
            }
        ],
        "usageMetadata": GEMINI_USAGE,
        "modelVersion": "gemini-2.5-flash",
        "responseId": "resp_01",
    }
    # Gemini's SSE uses CRLF line ends.
    pieces = [f"data: {json.dumps(event)}\r\n\r\n".encode() for event in (first, last)]
    return Reply(200, {"content-type": "text/event-stream"}, pieces)


def gemini_error(status: int, canonical: str, message: str) -> Reply:
    return Reply.json({"error": {"code": status, "message": message, "status": canonical}}, status)


def same_answer(built: dict[str, Any], complete: dict[str, Any]) -> bool:
    """Equal, with tool arguments compared as JSON (their spacing may differ), and ``created``
    and tool-call ids left out: the host's clock ticks between two calls, and ids that a
    provider does not send are made per call (see ``tool_call_ids``)."""

    def normal(answer: dict[str, Any]) -> dict[str, Any]:
        choices = []
        for choice in answer["choices"]:
            message = dict(choice["message"])
            if message.get("tool_calls"):
                message["tool_calls"] = [
                    {
                        **c,
                        "id": None,
                        "function": {**c["function"], "arguments": json.loads(c["function"]["arguments"])},
                    }
                    for c in message["tool_calls"]
                ]
            choices.append({**choice, "message": message})
        return {**answer, "choices": choices, "created": None}

    return normal(built) == normal(complete)


def tool_call_ids(answer: dict[str, Any]) -> list[str]:
    """The ids of an answer's tool calls, checked as clients rely on them: each call has one,
    and no two calls of the answer share one."""
    ids = [call.get("id") for call in answer["choices"][0]["message"].get("tool_calls") or []]
    assert all(isinstance(i, str) and i for i in ids), ids
    assert len(set(ids)) == len(ids), ids
    return ids


def streamed_tool_call_ids(chunks: Sequence[Mapping[str, Any]]) -> list[str]:
    """The ids of a stream's tool calls, by index, checked as clients rely on them: each call's
    first piece carries its id, its later pieces carry that id or none, and no two calls share
    one."""
    ids: dict[int, str] = {}
    for chunk in chunks:
        for choice in chunk["choices"]:
            for piece in choice["delta"].get("tool_calls") or []:
                index = piece["index"]
                if index not in ids:
                    assert isinstance(piece.get("id"), str) and piece["id"], piece
                    ids[index] = piece["id"]
                else:
                    assert piece.get("id") in (None, ids[index]), piece
    assert len(set(ids.values())) == len(ids), ids
    return [ids[index] for index in sorted(ids)]


# Content filters. Azure OpenAI refuses a prompt its filter flags with HTTP 400, code
# content_filter and the filter's verdicts (before any stream starts); Gemini answers HTTP 200
# with no candidates and a blockReason.

AZURE_FILTERED = {
    "error": {
        "message": "The response was filtered due to the prompt triggering Azure OpenAI's content management "
        "policy. Please modify your prompt and retry. To learn more about our content filtering policies "
        "please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766",
        "type": None,
        "param": "prompt",
        "code": "content_filter",
        "status": 400,
        "innererror": {
            "code": "ResponsibleAIPolicyViolation",
            "content_filter_result": {
                "hate": {"filtered": False, "severity": "safe"},
                "jailbreak": {"filtered": False, "detected": False},
                "self_harm": {"filtered": False, "severity": "safe"},
                "sexual": {"filtered": False, "severity": "safe"},
                "violence": {"filtered": True, "severity": "medium"},
            },
        },
    }
}


def azure_content_filtered() -> Reply:
    return Reply.json(AZURE_FILTERED, 400, headers={"apim-request-id": "apim-0f1e2d"})


GEMINI_BLOCKED = {
    "promptFeedback": {
        "blockReason": "SAFETY",
        "safetyRatings": [
            {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True},
            {"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"},
        ],
    },
    "usageMetadata": {"promptTokenCount": 8, "totalTokenCount": 8},
    "modelVersion": "gemini-2.5-flash",
    "responseId": "resp_blocked",
}


def gemini_blocked(stream: bool) -> Reply:
    if stream:
        return Reply(
            200,
            {"content-type": "text/event-stream"},
            [f"data: {json.dumps(GEMINI_BLOCKED)}\r\n\r\n".encode()],
        )
    return Reply.json(GEMINI_BLOCKED)
