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
"""

from __future__ import annotations

import asyncio
import json
import sys

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


def stream_events(count: int) -> list[bytes]:
    """``count`` chunk events, the last with the finish reason and ``[DONE]``."""
    return [FIRST] + [WORDS[i % len(WORDS)] for i in range(count - 2)] + [LAST]


def _head(content_type: bytes, length: int | None) -> bytes:
    framing = b"transfer-encoding: chunked" if length is None else b"content-length: %d" % length
    return b"HTTP/1.1 200 OK\r\ncontent-type: %s\r\n%s\r\n\r\n" % (content_type, framing)


COMPLETION_RESPONSE = _head(b"application/json", len(COMPLETION)) + COMPLETION
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
                paced = b" /paced/" in head.split(b"\r\n", 1)[0]
                self.queue.put_nowait((paced, stream_events(STREAM_CHUNKS["paced" if paced else "burst"])))
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
