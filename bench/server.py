"""A fast OpenAI-compatible server for the benchmark: raw asyncio, canned answers, keep-alive.

``python bench/server.py PORT_FILE`` listens on 127.0.0.1 (a free port, written to PORT_FILE)
until killed. The first path segment picks how a stream is written, as real servers differ:

- ``/paced/v1/chat/completions``: one event per write, a short pause between writes, as a live
  model's tokens arrive: the client reads one event per network read.
- ``/burst/v1/chat/completions``: the whole stream in one write, as a proxy relaying a finished
  answer does: the client reads many events per network read.

A request whose body asks for ``"stream": true`` gets a stream of chunks shaped like OpenAI's
(id, object, created, model, system_fingerprint, service_tier, choices with index, delta,
logprobs and finish_reason, about 270 bytes each) in HTTP chunked encoding, then ``[DONE]``;
any other request gets a chat.completion.

``/paced/v1/responses`` and ``/burst/v1/responses`` stream a Responses API answer as OpenAI
writes it: named events (``event: response.output_text.delta``), each delta with its item id,
indexes, sequence number, logprobs and obfuscation padding (about 250 bytes), and the events
after the text (``output_text.done``, ``content_part.done``, ``output_item.done``,
``response.completed``) each carrying the whole text, as they do.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

PACE_SECONDS = 0.0002
#: Chunks per stream, by how it is written.
STREAM_CHUNKS = {"paced": 10_000, "burst": 10_000}

COMPLETION = json.dumps(
    {
        "id": "chatcmpl-AZ7nJ2bXqK3vLmR9sT1uWyEoPfGh",
        "object": "chat.completion",
        "created": 1732000000,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "The quick brown fox jumps over the lazy dog.",
                    "refusal": None,
                },
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": 12,
            "completion_tokens": 10,
            "total_tokens": 22,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
        },
        "system_fingerprint": "fp_0ba0d124f1",
    },
    separators=(",", ":"),
).encode()


def _event(delta: dict[str, str | None], finish: str | None = None) -> bytes:
    chunk = {
        "id": "chatcmpl-AZ7nJ2bXqK3vLmR9sT1uWyEoPfGh",
        "object": "chat.completion.chunk",
        "created": 1732000000,
        "model": "gpt-4o-mini-2024-07-18",
        "service_tier": "default",
        "system_fingerprint": "fp_0ba0d124f1",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        "usage": None,
    }
    return b"data: " + json.dumps(chunk, separators=(",", ":")).encode() + b"\n\n"


def _frame(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


FIRST = _event({"role": "assistant", "content": "", "refusal": None})
WORDS = [_event({"content": word}) for word in (" quick", " brown", " fox", " jumps", " over", " lazy")]
LAST = _event({}, "stop") + b"data: [DONE]\n\n"


RESPONSE_ID = "resp_68c1f0a2b7e48190a6b1f7d1c3e5a9f20d4b6c8e1a3f5b7d"
MESSAGE_ID = "msg_68c1f0a3c4d88190b2e6a8f0d1c3e5a70b9d2f4e6a8c1e3b"
#: Responses events per stream: 10,000 output_text.delta events and the 8 around them.
RESPONSE_DELTAS = 10_000


def _named(kind: str, fields: dict[str, Any]) -> bytes:
    data = json.dumps({"type": kind, **fields}, separators=(",", ":"))
    return f"event: {kind}\ndata: {data}\n\n".encode()


def response_events(deltas: int) -> list[bytes]:
    """A Responses stream with ``deltas`` text deltas, as OpenAI writes one."""
    words = [" quick", " brown", " fox", " jumps", " over", " lazy"]
    pieces = [words[i % len(words)] for i in range(deltas)]
    text = "".join(pieces)
    part = {"type": "output_text", "annotations": [], "logprobs": [], "text": text}
    item = {
        "id": MESSAGE_ID,
        "type": "message",
        "status": "completed",
        "content": [part],
        "role": "assistant",
    }
    response = {
        "id": RESPONSE_ID,
        "object": "response",
        "created_at": 1757332800,
        "status": "in_progress",
        "background": False,
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "max_output_tokens": None,
        "max_tool_calls": None,
        "model": "gpt-4.1-2025-04-14",
        "output": [],
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "prompt_cache_key": None,
        "reasoning": {"effort": None, "summary": None},
        "safety_identifier": None,
        "service_tier": "auto",
        "store": True,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": "auto",
        "tools": [],
        "top_logprobs": 0,
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": None,
        "user": None,
        "metadata": {},
    }
    done = {
        **response,
        "status": "completed",
        "output": [item],
        "usage": {
            "input_tokens": 12,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": deltas,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 12 + deltas,
        },
    }
    at = {"item_id": MESSAGE_ID, "output_index": 0, "content_index": 0}
    empty_part = {**part, "text": ""}
    events: list[tuple[str, dict[str, Any]]] = [
        ("response.created", {"response": response}),
        ("response.in_progress", {"response": response}),
        (
            "response.output_item.added",
            {"output_index": 0, "item": {**item, "status": "in_progress", "content": []}},
        ),
        ("response.content_part.added", {**at, "part": empty_part}),
        *(
            (
                "response.output_text.delta",
                {**at, "delta": piece, "logprobs": [], "obfuscation": "Xq7tW2pL9z"[: 10 - len(piece) % 5]},
            )
            for piece in pieces
        ),
        ("response.output_text.done", {**at, "text": text, "logprobs": []}),
        ("response.content_part.done", {**at, "part": part}),
        ("response.output_item.done", {"output_index": 0, "item": item}),
        ("response.completed", {"response": done}),
    ]
    return [_named(kind, {**fields, "sequence_number": n}) for n, (kind, fields) in enumerate(events)]


def stream_events(count: int) -> list[bytes]:
    """``count`` chunk events, the last with the finish reason and ``[DONE]``."""
    return [FIRST] + [WORDS[i % len(WORDS)] for i in range(count - 2)] + [LAST]


def _head(content_type: bytes, length: int | None) -> bytes:
    framing = b"transfer-encoding: chunked" if length is None else b"content-length: %d" % length
    return b"HTTP/1.1 200 OK\r\ncontent-type: %s\r\n%s\r\n\r\n" % (content_type, framing)


COMPLETION_RESPONSE = _head(b"application/json", len(COMPLETION)) + COMPLETION
RESPONSE_STREAM = response_events(RESPONSE_DELTAS)
STREAM_HEAD = _head(b"text/event-stream", None)
END = b"0\r\n\r\n"


class Handler(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.buffer = b""
        self.queue: asyncio.Queue[tuple[bool, list[bytes]]] = asyncio.Queue()
        self.writer = asyncio.get_running_loop().create_task(self.write_streams())

    def connection_lost(self, exc: Exception | None) -> None:
        self.writer.cancel()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end]
            length = 0
            for line in head.lower().split(b"\r\n"):
                if line.startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            if len(self.buffer) < end + 4 + length:
                return
            body = json.loads(self.buffer[end + 4 : end + 4 + length])
            self.buffer = self.buffer[end + 4 + length :]
            if body.get("stream"):
                request_line = head.split(b"\r\n", 1)[0]
                paced = b" /paced/" in request_line
                if b"/responses " in request_line:
                    self.queue.put_nowait((paced, RESPONSE_STREAM))
                else:
                    self.queue.put_nowait(
                        (paced, stream_events(STREAM_CHUNKS["paced" if paced else "burst"]))
                    )
            else:
                self.queue.put_nowait((False, [COMPLETION_RESPONSE]))

    async def write_streams(self) -> None:
        # One answer at a time, in order, as HTTP/1.1 keep-alive requires.
        while True:
            paced, pieces = await self.queue.get()
            if pieces[0] is COMPLETION_RESPONSE:
                self.transport.write(COMPLETION_RESPONSE)
            elif paced:
                self.transport.write(STREAM_HEAD)
                for event in pieces:
                    self.transport.write(_frame(event))
                    await asyncio.sleep(PACE_SECONDS)
                self.transport.write(END)
            else:
                self.transport.write(STREAM_HEAD + _frame(b"".join(pieces)) + END)


async def main(port_file: str) -> None:
    server = await asyncio.get_running_loop().create_server(Handler, "127.0.0.1", 0, backlog=1024)
    with open(port_file, "w") as out:
        out.write(str(server.sockets[0].getsockname()[1]))
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
