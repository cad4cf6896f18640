"""A fast OpenAI-compatible server for the benchmark: raw asyncio, canned answers, keep-alive.

``python bench/server.py PORT_FILE`` listens on 127.0.0.1 (a free port, written to PORT_FILE)
until killed. A request whose body asks for ``"stream": true`` gets one SSE stream of
``STREAM_CHUNKS`` chunks; any other request gets a small chat.completion.
"""

from __future__ import annotations

import asyncio
import json
import sys

STREAM_CHUNKS = 10_000

COMPLETION = json.dumps(
    {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "bench",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "The quick brown fox jumps over the lazy dog."},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 10, "total_tokens": 22},
    }
).encode()


def _stream_body() -> bytes:
    chunk = {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "bench",
        "choices": [{"index": 0, "delta": {"content": "token "}, "finish_reason": None}],
    }
    event = b"data: " + json.dumps(chunk).encode() + b"\n\n"
    return event * STREAM_CHUNKS + b"data: [DONE]\n\n"


STREAM = _stream_body()


def _response(content_type: bytes, body: bytes) -> bytes:
    head = b"HTTP/1.1 200 OK\r\ncontent-type: %s\r\ncontent-length: %d\r\n\r\n" % (content_type, len(body))
    return head + body


COMPLETION_RESPONSE = _response(b"application/json", COMPLETION)
STREAM_RESPONSE = _response(b"text/event-stream", STREAM)


class Handler(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].lower()
            length = 0
            for line in head.split(b"\r\n"):
                if line.startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            streaming = b'"stream":true' in body.replace(b" ", b"")
            self.transport.write(STREAM_RESPONSE if streaming else COMPLETION_RESPONSE)


async def main(port_file: str) -> None:
    server = await asyncio.get_running_loop().create_server(Handler, "127.0.0.1", 0, backlog=1024)
    with open(port_file, "w") as out:
        out.write(str(server.sockets[0].getsockname()[1]))
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
