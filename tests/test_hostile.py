"""Hostile input at the edges: servers that echo secrets back, in long messages a cut falls
into, in response headers, and as request signatures. Each on every transport."""

from __future__ import annotations

import json
import re
import socket
import threading
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ritellm
from ritellm import _core, _instance
from tests.conftest import USER, Caller
from tests.server import FakeServer, Reply

KEY = "sk-OPNqT7vX2mL9pQ4rS8tU1vW3xY5zA7bC9dE1fG3hJ5kL7"
AWS_KEY_ID, AWS_SECRET = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def shown(exc: BaseException) -> str:
    """Everything an error shows: its text, repr, fields and notes."""
    fields = [getattr(exc, name, None) for name in ("message", "type", "code", "param", "request_id")]
    return " ".join(map(str, [exc, repr(exc), *fields, *getattr(exc, "__notes__", [])]))


def assert_no_part_of(secret: str, text: str) -> None:
    """Not the secret, nor any piece of it longer than its first few characters (``sk-O``)."""
    assert "bearer [r" in text.lower()  # the key was there, and was redacted before any cut
    for start in range(len(secret) - 6):
        assert secret[start : start + 7] not in text, (secret[start : start + 7], text)


def echoed_error(status: int, text: str) -> Reply:
    return Reply.json({"error": {"message": text, "type": "invalid_request_error"}}, status=status)


@pytest.mark.parametrize("cut_at", [3, 4, 10, 20, len(KEY) - 1])
def test_a_cut_inside_an_echoed_key_leaves_no_part_of_it(
    caller: Caller, server: FakeServer, cut_at: int
) -> None:
    # The core quotes 500 characters of a provider's message: the cut falls `cut_at`
    # characters into the key.
    filler = "x" * (500 - len("authorization: Bearer ") - cut_at)
    server.queue(echoed_error(400, f"{filler}authorization: Bearer {KEY} was refused"))
    with pytest.raises(ritellm.BadRequestError) as info:
        caller.completion("openai/m", USER, base_url=server.base_url, api_key=KEY)
    assert "\u2026" in info.value.message  # the core did cut it
    assert_no_part_of(KEY, shown(info.value))


def test_a_cut_of_an_answer_that_is_no_stream_leaves_no_part_of_the_key(
    caller: Caller, server: FakeServer
) -> None:
    page = f"<html>{'y' * 170}Authorization: Bearer {KEY}</html>".encode()
    server.queue(Reply(200, {"content-type": "text/html"}, [page]))
    chunks, error = caller.stream_until_error("openai/m", USER, base_url=server.base_url, api_key=KEY)
    assert chunks == [] and isinstance(error, ritellm.InvalidResponseError)
    assert_no_part_of(KEY, shown(error))


def test_an_echoed_request_signature_is_redacted(
    caller: Caller, server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", AWS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AWS_SECRET)
    monkeypatch.setenv("AWS_REGION", "us-east-1")

    def echo_authorization(recorded: Any) -> Reply:
        message = f"The request signature we calculated does not match: {recorded.headers['authorization']}"
        return Reply.json(
            {"message": message}, status=403, headers={"x-amzn-errortype": "AccessDeniedException"}
        )

    server.answer = echo_authorization
    with pytest.raises(ritellm.PermissionDeniedError) as info:
        caller.completion("bedrock/anthropic.claude-v2", USER, base_url=server.base_url)
    text = shown(info.value)
    sent = server.requests[0].headers["authorization"]
    signature = sent.rpartition("Signature=")[2]
    assert re.fullmatch("[0-9a-f]{64}", signature)
    assert signature not in text and signature[:16] not in text
    assert "Signature=[redacted]" in text


@pytest.mark.parametrize("stream", [False, True])
def test_a_response_header_that_echoes_the_key_is_redacted(
    caller: Caller, server: FakeServer, stream: bool
) -> None:
    kind = {"content-type": "text/event-stream" if stream else "application/json"}
    server.queue(Reply(200, {**kind, "content-encoding": f"bearer {KEY}"}, [b"data: {}\n\n"]))
    if stream:
        _, error = caller.stream_until_error("openai/m", USER, base_url=server.base_url, api_key=KEY)
    else:
        with pytest.raises(ritellm.APIError) as info:
            caller.completion("openai/m", USER, base_url=server.base_url, api_key=KEY)
        error = info.value
    assert isinstance(error, ritellm.APIError) and "content-encoding" in str(error)
    assert_no_part_of(KEY, shown(error))


def test_a_corrupt_compressed_stream_is_a_typed_error(caller: Caller, server: FakeServer) -> None:
    good = zlib.compress(b'data: {"id": "x", "object": "chat.completion.chunk", "choices": []}\n\n')
    server.queue(
        Reply(
            200, {"content-type": "text/event-stream", "content-encoding": "deflate"}, [good[:-4] + b"!!!!"]
        )
    )
    _, error = caller.stream_until_error("openai/m", USER, base_url=server.base_url, api_key=KEY)
    assert isinstance(error, ritellm.APIError), error
    assert json.dumps(str(error))  # a message, not a crash


class RawServer:
    """Records the bytes of each request head as they arrive, and answers a chat.completion."""

    ANSWER = json.dumps(
        {
            "id": "chatcmpl-raw",
            "object": "chat.completion",
            "created": 1,
            "model": "m",
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}
            ],
            "candidates": [{"content": {"role": "model", "parts": [{"text": "ok"}]}, "finishReason": "STOP"}],
        }
    ).encode()

    def __init__(self) -> None:
        self.heads: list[bytes] = []
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return
            with connection:
                data = b""
                while b"\r\n\r\n" not in data:
                    received = connection.recv(65536)
                    if not received:
                        break
                    data += received
                head, _, body = data.partition(b"\r\n\r\n")
                length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
                while length and len(body) < int(length.group(1)):
                    body += connection.recv(65536)
                self.heads.append(head)
                connection.sendall(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n"
                    b"content-length: %d\r\n\r\n%s" % (len(self.ANSWER), self.ANSWER)
                )

    def close(self) -> None:
        self._socket.close()


@pytest.fixture
def raw_server() -> Iterator[RawServer]:
    server = RawServer()
    yield server
    server.close()


#: Calls with hostile values a transport could write differently: each must reach the wire
#: byte for byte the same on every transport, or be refused before any I/O the same way.
HOSTILE_CALLS: dict[str, tuple[str, dict[str, Any]]] = {
    "header value with tab and spaces": ("openai/m", {"extra_headers": {"X-Trace": "a b\tc"}}),
    "model with query and fragment": ("azure/d?x=1#y", {"api_version": "2024-10-21"}),
    "model with a space and non-ASCII": ("gemini/m x\u00fc", {}),
    "model with CR/LF": ("azure/d\r\nX-Injected: 1", {"api_version": "2024-10-21"}),
    "model climbing the path (vertex)": ("vertex_ai/../../x", {"vertex_project": "p"}),
    "model climbing the path (azure)": ("azure/../../admin", {"api_version": "2024-10-21"}),
    "model that is a dot segment (bedrock)": ("bedrock/..", {"aws_region_name": "us-east-1"}),
    "base URL with a space in its path": ("openai/m", {"base_url": "http://127.0.0.1:{port}/a b/v1"}),
    "base URL with non-ASCII in its query": (
        "openai/m",
        {"base_url": "http://127.0.0.1:{port}/v1?q=\u00fc x"},
    ),
    "base URL with CR/LF": ("openai/m", {"base_url": "http://127.0.0.1:{port}/v1\r\nX-Injected: 1"}),
    "base URL with a dot segment": ("openai/m", {"base_url": "http://127.0.0.1:{port}/x/../v1"}),
    "vertex location naming another host": (
        "vertex_ai/gemini-2.5-flash",
        {"vertex_project": "p", "vertex_location": "evil.example#"},
    ),
    "AWS region with CR/LF": ("bedrock/m", {"aws_region_name": "us-east-1\r\nX-Injected: 1"}),
    "azure api_version with a query": ("azure/d", {"api_version": "2024-10-21&x=1"}),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_CALLS))
def test_every_transport_writes_the_same_request_or_refuses_the_same(
    raw_server: RawServer, case: str
) -> None:
    model, options = HOSTILE_CALLS[case]
    options = {"base_url": "http://127.0.0.1:{port}/v1", "api_key": KEY, "max_retries": 0, **options}
    options["base_url"] = options["base_url"].format(port=raw_server.port)
    outcomes: dict[str, Any] = {}
    for mode in ("sync", "async-aiohttp", "async-httpx"):
        caller = Caller(mode)
        before = len(raw_server.heads)
        with pytest.MonkeyPatch.context() as patch:
            if caller.is_async:
                patch.setenv("RITELLM_ASYNC_TRANSPORT", mode.removeprefix("async-"))
            try:
                caller.completion(model, USER, **options)
            except ritellm.RitellmError as exc:
                assert len(raw_server.heads) == before, f"{mode}: refused after sending"
                outcomes[mode] = (type(exc), str(exc))
                continue
        [head] = raw_server.heads[before:]
        outcomes[mode] = head
    assert outcomes["sync"] == outcomes["async-aiohttp"] == outcomes["async-httpx"], outcomes
    if isinstance(outcomes["sync"], bytes):
        request_line = outcomes["sync"].split(b"\r\n")[0]
        assert all(0x21 <= byte < 0x7F for byte in request_line.split(b" ")[1]), request_line
    else:
        assert issubclass(outcomes["sync"][0], ritellm.InvalidRequestError)


@pytest.mark.parametrize(
    ("name", "value", "complaint"),
    [
        ("X A", "1", "not a valid header name"),
        ("X-\u00e9", "1", "not a valid header name"),
        ("X-Ok", "caf\u00e9", "printable ASCII"),
        ("X-Ok", "a\x01b", "printable ASCII"),
        ("X-Ok", "a\r\nInjected: 1", "printable ASCII"),
        ("Transfer-Encoding", "chunked", "written by the transport"),
        ("Host", "evil.example", "written by the transport"),
        ("content-length", "0", "written by the transport"),
        ("Connection", "close", "written by the transport"),
    ],
)
def test_caller_headers_that_would_change_framing_or_break_a_transport_are_refused(
    caller: Caller, server: FakeServer, name: str, value: str, complaint: str
) -> None:
    with pytest.raises(ritellm.InvalidRequestError, match=complaint) as info:
        caller.completion(
            "openai/m", USER, base_url=server.base_url, api_key=KEY, extra_headers={name: value}
        )
    assert "extra_headers" in str(info.value) and value not in str(info.value)
    assert server.requests == []


def test_a_non_ascii_key_is_refused_naming_where_it_came_from(caller: Caller, server: FakeServer) -> None:
    with pytest.raises(ritellm.InvalidRequestError, match="the API key from api_key") as info:
        caller.completion("openai/m", USER, base_url=server.base_url, api_key="sk-caf\u00e9-0123456789")
    assert "caf\u00e9" not in str(info.value)
    assert server.requests == []


@pytest.mark.parametrize("location", ["http://127.0.0.1:99999/v1/x", "http://[::1/x", "http://[zz]:80/x"])
def test_a_hostile_redirect_location_is_a_typed_error(
    caller: Caller, server: FakeServer, location: str
) -> None:
    server.queue(Reply(307, {"location": location}, [b""]))
    with pytest.raises(ritellm.APIError) as info:
        caller.completion("openai/m", USER, base_url=server.base_url, api_key=KEY)
    assert "redirect" in str(info.value)


# Numbers from the server. The stream translators keep a little state per content block
# (Anthropic, Bedrock) or candidate (Gemini), known by the index the server gives it: an index
# is data, never a size. Once, 4294967295 wrapped `index + 1` on wasm32 and trapped the core
# (InternalError), and 8,000,000 in a 300-byte frame made it allocate ~61 MB and keep it.
HUGE_INDEXES = [2**64 - 1, 2**32 - 1, 2**32, 2**31, 8_000_000, 64, 63]


def _sse(*events: dict[str, Any]) -> bytes:
    return b"".join(b"data: " + json.dumps(event).encode() + b"\n\n" for event in events)


def _aws_frame(event_type: str, payload: dict[str, Any]) -> bytes:
    """One message of AWS's event stream, with its two checksums."""
    headers = b""
    for name, value in ((":event-type", event_type), (":message-type", "event")):
        headers += (
            bytes([len(name)]) + name.encode() + b"\x07" + len(value).to_bytes(2, "big") + value.encode()
        )
    body = json.dumps(payload).encode()
    prelude = (12 + len(headers) + len(body) + 4).to_bytes(4, "big") + len(headers).to_bytes(4, "big")
    message = prelude + zlib.crc32(prelude).to_bytes(4, "big") + headers + body
    return message + zlib.crc32(message).to_bytes(4, "big")


def _anthropic_stream(index: int) -> bytes:
    return _sse(
        {"type": "message_start", "message": {"id": "m", "model": "c", "usage": {}}},
        {
            "type": "content_block_start",
            "index": index,
            "content_block": {"type": "tool_use", "id": "t", "name": "f"},
        },
        {
            "type": "content_block_delta",
            "index": index,
            "delta": {"type": "input_json_delta", "partial_json": "{}"},
        },
        {"type": "content_block_stop", "index": index},
        {"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": index}},
        {"type": "message_stop"},
    )


def _bedrock_stream(index: int) -> bytes:
    return b"".join(
        [
            _aws_frame("messageStart", {"role": "assistant"}),
            _aws_frame(
                "contentBlockStart",
                {"contentBlockIndex": index, "start": {"toolUse": {"toolUseId": "t", "name": "f"}}},
            ),
            _aws_frame(
                "contentBlockDelta", {"contentBlockIndex": index, "delta": {"toolUse": {"input": "{}"}}}
            ),
            _aws_frame("contentBlockStop", {"contentBlockIndex": index}),
            _aws_frame("messageStop", {"stopReason": "tool_use"}),
            _aws_frame("metadata", {"usage": {"inputTokens": index, "outputTokens": index}}),
        ]
    )


def _gemini_stream(index: int) -> bytes:
    candidate = {"index": index, "content": {"parts": [{"functionCall": {"name": "f", "args": {}}}]}}
    return _sse(
        {"candidates": [candidate], "responseId": "r"},
        {"candidates": [{**candidate, "finishReason": "STOP"}], "usageMetadata": {"promptTokenCount": index}},
    )


STREAMS_WITH_INDEXES = {"anthropic": _anthropic_stream, "bedrock": _bedrock_stream, "gemini": _gemini_stream}


def _memory_size(core: Any) -> int | None:
    """The size of a core instance's linear memory, where its engine (wasmtime) tells."""
    instance = core._instance
    size = getattr(getattr(instance, "_c", None), "wasmtime_memory_data_size", None)
    return None if size is None else int(size(instance._context, instance._memory))


def _read_stream(core: Any, reader: str, pieces: list[bytes]) -> tuple[list[Any], str | None]:
    """The chunks of a stream fed in ``pieces``, and the class of its error: typed, never internal."""
    context = json.dumps({"reader": reader, "provider": "p", "model": "m", "include_usage": True}).encode()
    stream = core.open_stream(context)
    chunks: list[Any] = []
    try:
        for batch in [*(stream.feed(piece) for piece in pieces), stream.finish()]:
            chunks.extend(batch["chunks"])
            error = batch.get("error")
            if error is not None:
                assert isinstance(error, ritellm.RitellmError), error
                assert not isinstance(error, ritellm.InternalError), error
                return chunks, type(error).__name__
    finally:
        stream.close()
    return chunks, None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(sorted(STREAMS_WITH_INDEXES)),
    st.sampled_from(HUGE_INDEXES) | st.integers(0, 2**64 - 1) | st.integers(-(2**63), 2**70),
)
def test_indexes_from_the_server_are_data_split_anywhere(reader: str, index: int) -> None:
    core = _instance.core()
    body = STREAMS_WITH_INDEXES[reader](index)
    before = _memory_size(core)
    whole = _read_stream(core, reader, [body])
    for cut in range(len(body) + 1):
        assert _read_stream(core, reader, [body[:cut], body[cut:]]) == whole, cut
    if before is not None:
        grown = (_memory_size(core) or 0) - before
        assert grown < 1 << 20, f"the core grew by {grown} bytes reading a {len(body)}-byte stream"


@pytest.mark.parametrize("index", [2**32 - 1, 8_000_000])
@pytest.mark.parametrize("reader", sorted(STREAMS_WITH_INDEXES))
def test_a_huge_index_costs_a_fresh_core_no_memory(reader: str, index: int) -> None:
    core = _core.Core()  # fresh: no free memory left over from other tests to hide a growth in
    before = _memory_size(core)
    chunks, error = _read_stream(core, reader, [STREAMS_WITH_INDEXES[reader](index)])
    if reader == "gemini":  # candidates are few (candidateCount <= 8): a huge index is refused
        assert (chunks, error) == ([], "InvalidResponseError")
    else:  # blocks are many, one open at a time: an index is a key
        assert error is None and chunks[1]["choices"][0]["delta"]["tool_calls"][0]["index"] == 0
    if before is not None:
        assert (_memory_size(core) or 0) - before < 1 << 20


def test_bytes_after_a_bedrock_streams_end_are_ignored() -> None:
    body = _bedrock_stream(0)
    expected = _read_stream(_instance.core(), "bedrock", [body])
    assert expected[1] is None
    for after in (b"\xff" * 40, b"garbage that is no frame", body):
        assert _read_stream(_instance.core(), "bedrock", [body + after]) == expected


@pytest.mark.parametrize("variable", ["HTTPS_PROXY", "ALL_PROXY"])
def test_a_proxys_password_never_shows(
    caller: Caller, server: FakeServer, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    # The test server refuses tunnels (CONNECT) with a 403, and the stacks quote the proxy's URL.
    proxy = server.base_url.replace("http://", "http://alice:proxy-pass-0123456789@").removesuffix("/v1")
    monkeypatch.setenv(variable, proxy)
    ritellm.close()
    try:
        with pytest.raises(ritellm.APIConnectionError) as info:
            caller.completion(
                "openai/m", USER, base_url="https://api.example.invalid/v1", api_key=KEY, max_retries=0
            )
    finally:
        ritellm.close()
    assert server.requests and server.requests[0].method == "CONNECT"
    assert "proxy-pass-0123456789" not in shown(info.value) and "alice" not in shown(info.value)


def test_a_socks_proxy_without_its_package_fails_only_the_calls_through_it(
    caller: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    # socksio is not a dependency (httpx[socks] brings it): the stacks must say so, typed.
    monkeypatch.setenv("ALL_PROXY", "socks5://127.0.0.1:1")
    ritellm.close()
    try:
        assert caller.completion("mock/echo", USER)["choices"][0]["message"]["content"]
        with pytest.raises(ritellm.APIConnectionError):
            caller.completion(
                "openai/m", USER, base_url="https://api.example.invalid/v1", api_key=KEY, max_retries=0
            )
    finally:
        ritellm.close()
