"""A real OpenAI-compatible HTTP server on 127.0.0.1 for tests, scriptable per request.

By default it answers like an OpenAI endpoint that echoes the last user message. Queued
:class:`Reply` objects override that one request at a time: any status, headers and body,
a body sent in pieces (chunked, flushed one by one, with pauses the test can cut short), or a
connection dropped mid-body. It records every request and every body it sent, so tests compare
results with the bytes that went over the wire. As a proxy it forwards nothing: requests in
absolute form are answered like any other, and tunnels (CONNECT) are recorded and refused.
"""

from __future__ import annotations

import collections
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    #: Sent with Content-Length when there is one piece, chunked and flushed otherwise.
    pieces: list[bytes] = field(default_factory=list)
    #: Close the connection after the pieces without ending the chunked body.
    drop: bool = False
    #: Seconds to wait before each piece.
    delay: float = 0.0
    #: Close the connection without answering at all.
    abort: bool = False
    #: Seconds to wait before particular pieces, by index, on top of ``delay``.
    pauses: dict[int, float] = field(default_factory=dict)
    #: Set it to end every wait at once: the rest of the body goes out now.
    resume: threading.Event = field(default_factory=threading.Event)
    #: Set it (with :meth:`end`) to close the connection before the next piece.
    stop: threading.Event = field(default_factory=threading.Event)
    #: Set by the server once it has written every piece.
    sent_all: threading.Event = field(default_factory=threading.Event)

    def end(self) -> None:
        """Ends the body where it is: the server closes the connection instead of going on."""
        self.stop.set()
        self.resume.set()

    @classmethod
    def json(cls, payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
        return cls(
            status, {"content-type": "application/json", **(headers or {})}, [json.dumps(payload).encode()]
        )

    @classmethod
    def sse(cls, events: list[Any], done: bool = True, **kwargs: Any) -> Reply:
        """One SSE event per item (dicts become JSON), then ``[DONE]``, each its own piece."""
        pieces = [f"data: {e if isinstance(e, str) else json.dumps(e)}\n\n".encode() for e in events]
        if done:
            pieces.append(b"data: [DONE]\n\n")
        return cls(200, {"content-type": "text/event-stream"}, pieces, **kwargs)


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    #: The client's address and port: requests on one kept-alive connection share it.
    client: tuple[str, int] = ("", 0)

    def json(self) -> Any:
        return json.loads(self.body)


def echo_completion(request: dict[str, Any]) -> dict[str, Any]:
    text = next((m["content"] for m in reversed(request.get("messages", [])) if m.get("role") == "user"), "")
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1700000000,
        "model": request.get("model"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": f"echo: {text}"},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
    }


def echo_chunks(request: dict[str, Any]) -> list[dict[str, Any]]:
    content = echo_completion(request)["choices"][0]["message"]["content"]

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "id": "chatcmpl-test",
            "object": "chat.completion.chunk",
            "created": 1700000000,
            "model": request.get("model"),
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    words = content.split(" ")
    pieces = [w + " " for w in words[:-1]] + words[-1:]
    return (
        [chunk({"role": "assistant", "content": ""})]
        + [chunk({"content": p}) for p in pieces]
        + [chunk({}, "stop")]
    )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # the default of 5 resets connections when many arrive at once

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients closing idle keep-alive connections is normal; anything else is reported.
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


class FakeServer:
    def __init__(self) -> None:
        self.replies: collections.deque[Reply] = collections.deque()
        #: Decides the reply to a request when no reply is queued (default: echo).
        self.answer: Callable[[Recorded], Reply | None] = lambda recorded: None
        self.requests: list[Recorded] = []
        #: Answer browsers from other origins as a provider that allows them does (CORS),
        #: exposing these response headers to their scripts.
        self.cors_exposed: list[str] | None = None
        self.sent: list[bytes] = []
        #: Replies being sent: a reset stops them, so no test leaves a slow body behind.
        self._sending: list[Reply] = []
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def queue(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    def reset(self) -> None:
        with self._lock:
            for reply in self._sending:
                reply.end()
            self._sending.clear()
        self.answer = lambda recorded: None
        self.cors_exposed = None
        self.replies.clear()
        self.requests.clear()
        self.sent.clear()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def next_reply(self, recorded: Recorded) -> Reply:
        with self._lock:
            self.requests.append(recorded)
            if self.replies:
                return self.replies.popleft()
        decided = self.answer(recorded)
        if decided is not None:
            return decided
        request = recorded.json() if recorded.body else {}
        if request.get("stream"):
            return Reply.sse(echo_chunks(request))
        return Reply.json(echo_completion(request))


def _handler_for(server: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes; with Nagle's algorithm on, the second
        # waits for the client's delayed ACK, 40 ms a request.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def end_headers(self) -> None:
            if server.cors_exposed is not None:
                self.send_header("access-control-allow-origin", "*")
                if server.cors_exposed:
                    self.send_header("access-control-expose-headers", ", ".join(server.cors_exposed))
            super().end_headers()

        def do_OPTIONS(self) -> None:  # a browser's preflight
            self.send_response(204 if server.cors_exposed is not None else 405)
            if server.cors_exposed is not None:
                self.send_header("access-control-allow-methods", "POST, GET")
                self.send_header("access-control-allow-headers", "*, authorization")
                self.send_header("access-control-max-age", "600")
            self.send_header("content-length", "0")
            self.end_headers()

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            recorded = Recorded(
                self.command,
                self.path,
                {k.lower(): v for k, v in self.headers.items()},
                body,
                self.client_address[:2],
            )
            reply = server.next_reply(recorded)
            if reply.abort:
                self.close_connection = True
                return
            with server._lock:
                server.sent.append(b"".join(reply.pieces))
                if reply.delay or reply.pauses:
                    server._sending.append(reply)
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if len(reply.pieces) == 1 and not (reply.drop or reply.delay or reply.pauses):
                self.send_header("content-length", str(len(reply.pieces[0])))
                self.end_headers()
                self.wfile.write(reply.pieces[0])
                reply.sent_all.set()
                return
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()
            try:
                for index, piece in enumerate(reply.pieces):
                    wait = reply.delay + reply.pauses.get(index, 0.0)
                    if wait:
                        reply.resume.wait(wait)
                    if reply.stop.is_set():
                        self.close_connection = True
                        return
                    if piece:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                        self.wfile.flush()
                if reply.drop:
                    self.close_connection = True
                    reply.sent_all.set()
                    return
                self.wfile.write(b"0\r\n\r\n")
                reply.sent_all.set()
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        do_GET = do_DELETE = do_POST

        def do_CONNECT(self) -> None:  # a client asking a proxy for a tunnel: recorded, refused
            recorded = Recorded(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, b"")
            with server._lock:
                server.requests.append(recorded)
            self.send_response(403)
            self.send_header("content-length", "0")
            self.end_headers()
            self.close_connection = True

    return Handler
