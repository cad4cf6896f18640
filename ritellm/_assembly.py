"""``stream_chunk_builder``: a stream's chunks put back together into the chat.completion the
complete call would have returned; ``response_from_events``: the same for a Responses stream."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .types import ChatCompletion, ChatCompletionChunk, Response, ResponseStreamEvent


def as_chunk(completion: Mapping[str, Any]) -> ChatCompletionChunk:
    """A complete answer as the one chunk a stream of it would be (its messages as deltas)."""
    choices = []
    for choice in completion.get("choices") or []:
        delta = dict(choice.get("message") or {})
        if delta.get("tool_calls"):
            delta["tool_calls"] = [{"index": i, **call} for i, call in enumerate(delta["tool_calls"])]
        choices.append(
            {
                "index": choice.get("index", 0),
                "delta": delta,
                "logprobs": choice.get("logprobs"),
                "finish_reason": choice.get("finish_reason"),
            }
        )
    return ChatCompletionChunk(completion, object="chat.completion.chunk", choices=choices)


def as_terminal_event(response: Mapping[str, Any]) -> ResponseStreamEvent:
    """A complete response as the terminal event a stream of it ends with."""
    kind = {"failed": "response.failed", "incomplete": "response.incomplete"}.get(
        response.get("status") or "", "response.completed"
    )
    return ResponseStreamEvent(type=kind, sequence_number=0, response=response)


#: Top-level fields taken from the chunks (the last one that has each wins).
_ANSWER_FIELDS = ("id", "created", "model", "system_fingerprint", "service_tier", "usage")


def stream_chunk_builder(chunks: Iterable[Mapping[str, Any]]) -> ChatCompletion:
    """The chat.completion that ``chunks`` (chat.completion.chunk dicts, of any provider) add up
    to: each choice's role, its text fields (``content``, ``refusal``, reasoning) joined, its
    thinking blocks, its tool calls with their arguments joined, its finish reason and
    logprobs; the last usage.

    Chunks without choices (a usage chunk, Azure's ``prompt_filter_results``) add only their
    fields. Works on the chunks as collected from a stream::

        chunks = list(ritellm.completion(model, messages, stream=True))
        answer = ritellm.stream_chunk_builder(chunks)
    """
    answer: dict[str, Any] = {"object": "chat.completion"}
    choices: dict[int, dict[str, Any]] = {}
    calls: dict[int, dict[int, dict[str, Any]]] = {}
    for chunk in chunks:
        for field in _ANSWER_FIELDS:
            if chunk.get(field) is not None:
                answer[field] = chunk[field]
        for choice in chunk.get("choices") or ():
            index = choice.get("index", 0)
            built = choices.setdefault(
                index,
                {"index": index, "message": {"role": "assistant", "content": None}, "finish_reason": None},
            )
            _add_delta(built["message"], choice.get("delta") or {}, calls.setdefault(index, {}))
            if choice.get("finish_reason") is not None:
                built["finish_reason"] = choice["finish_reason"]
            logprobs = choice.get("logprobs")
            if logprobs:
                merged = built.setdefault("logprobs", {})
                for kind, entries in logprobs.items():
                    if entries is None:  # OpenAI's "refusal": null stays null until a list comes
                        merged.setdefault(kind, None)
                    else:
                        merged[kind] = (merged.get(kind) or []) + entries
    for index, built in choices.items():
        message = built["message"]
        if calls[index]:
            message["tool_calls"] = [calls[index][i] for i in sorted(calls[index])]
        if calls[index] or message.get("refusal"):
            # As in a complete answer: a message of tool calls or a refusal alone has no
            # content, not the "" of a stream's first chunk.
            message["content"] = message["content"] or None
        built.setdefault("logprobs", None)
    answer["choices"] = [choices[i] for i in sorted(choices)]
    answer.setdefault("usage", None)
    return ChatCompletion(answer)


def _add_delta(message: dict[str, Any], delta: Mapping[str, Any], calls: dict[int, dict[str, Any]]) -> None:
    for name, value in delta.items():
        if value is None:
            continue
        if name == "role":
            message["role"] = value
        elif name == "tool_calls":
            for piece in value:
                _add_tool_call(calls, piece)
        elif isinstance(value, str):  # content, refusal, reasoning_content, ...: arrive in pieces
            message[name] = (message.get(name) or "") + value
        elif isinstance(value, list):  # thinking_blocks, ...: arrive a few at a time
            message[name] = (message.get(name) or []) + value
        else:
            message[name] = value


def _add_tool_call(calls: dict[int, dict[str, Any]], piece: Mapping[str, Any]) -> None:
    call = calls.setdefault(
        piece.get("index", len(calls)),
        {"id": None, "type": "function", "function": {"name": "", "arguments": ""}},
    )
    if piece.get("id"):
        call["id"] = piece["id"]
    if piece.get("type"):
        call["type"] = piece["type"]
    function = piece.get("function") or {}
    call["function"]["name"] += function.get("name") or ""
    call["function"]["arguments"] += function.get("arguments") or ""


#: The events whose ``response`` is the whole response as it stands.
_SNAPSHOTS = frozenset(
    {
        "response.created",
        "response.in_progress",
        "response.queued",
        "response.completed",
        "response.incomplete",
        "response.failed",
    }
)


def response_from_events(events: Iterable[Mapping[str, Any]]) -> Response:
    """The response that a Responses stream's ``events`` add up to: equal to the complete
    answer when the stream ended with its terminal event (``response.completed``,
    ``.incomplete`` or ``.failed``), which carries the whole response. A stream cut short
    gives the last snapshot (status ``in_progress``) with the output items the events built so
    far: finished items as sent, unfinished messages, reasoning and function calls with their
    text and arguments joined. ::

        events = list(ritellm.responses(model, input, stream=True))
        response = ritellm.response_from_events(events)
    """
    snapshot: dict[str, Any] = {"object": "response", "output": []}
    items: dict[int, dict[str, Any]] = {}
    for event in events:
        kind = event.get("type")
        if kind in _SNAPSHOTS and isinstance(event.get("response"), Mapping):
            snapshot = dict(event["response"])
            if kind in ("response.completed", "response.incomplete", "response.failed"):
                return Response(snapshot)
        elif kind in ("response.output_item.added", "response.output_item.done"):
            items[event.get("output_index", len(items))] = _copied(event["item"])
        elif kind is not None:
            _add_event(items, kind, event)
    built = dict(snapshot)
    built["output"] = [items[i] for i in sorted(items)] or list(snapshot.get("output") or [])
    return Response(built)


def _copied(item: Mapping[str, Any]) -> dict[str, Any]:
    """An item with its own lists, so events added to it leave the caller's events alone."""
    return {
        # Parts are mappings; a file search's `queries` are strings, kept as they are.
        name: [dict(part) if isinstance(part, Mapping) else part for part in value]
        if isinstance(value, list)
        else value
        for name, value in item.items()
    }


def _add_event(items: dict[int, dict[str, Any]], kind: str, event: Mapping[str, Any]) -> None:
    """Adds a part or a delta to the item it is for."""
    item = items.get(event.get("output_index", -1))
    if item is None:
        return
    delta = event.get("delta")
    if kind == "response.content_part.added":
        _part(item, "content", event.get("content_index", 0), event["part"])
    elif kind == "response.reasoning_summary_part.added":
        _part(item, "summary", event.get("summary_index", 0), event["part"])
    elif kind in ("response.output_text.delta", "response.refusal.delta", "response.reasoning_text.delta"):
        field = "refusal" if kind == "response.refusal.delta" else "text"
        default = {"response.output_text.delta": "output_text", "response.refusal.delta": "refusal"}
        part = _part(
            item, "content", event.get("content_index", 0), {"type": default.get(kind, "reasoning_text")}
        )
        part[field] = (part.get(field) or "") + (delta or "")
    elif kind == "response.reasoning_summary_text.delta":
        part = _part(item, "summary", event.get("summary_index", 0), {"type": "summary_text"})
        part["text"] = (part.get("text") or "") + (delta or "")
    elif kind == "response.function_call_arguments.delta":
        item["arguments"] = (item.get("arguments") or "") + (delta or "")


def _part(item: dict[str, Any], field: str, index: int, new: Mapping[str, Any]) -> dict[str, Any]:
    """Part ``index`` of the item's ``field`` list, made from ``new`` if not there yet."""
    parts: list[dict[str, Any]] = item.setdefault(field, [])
    while len(parts) <= index:
        parts.append(dict(new))
    return parts[index]
