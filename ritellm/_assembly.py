"""``stream_chunk_builder``: a stream's chunks put back together into the chat.completion the
complete call would have returned."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .types import ChatCompletion

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
        if calls[index]:
            built["message"]["tool_calls"] = [calls[index][i] for i in sorted(calls[index])]
            # As in a complete answer: a message of tool calls alone has no content, not "".
            built["message"]["content"] = built["message"]["content"] or None
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
