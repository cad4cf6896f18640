"""How a call travels: through the proxies the environment names, compressed, redirected, and
stalled mid-stream; sync and on both async stacks, against servers on 127.0.0.1."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from typing import Any

import pytest

import ritellm
from tests.conftest import USER, Caller
from tests.server import FakeServer, Reply, echo_chunks, echo_completion

KEY = "sk-transport-0123456789"


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)


# Proxies -------------------------------------------------------------------------------------


@pytest.fixture
def fresh_pools() -> Iterator[None]:
    """Pools read the proxy variables when they are made: the sync ones are made again around
    the test (each async call's loop makes its own)."""
    ritellm.close()
    yield
    ritellm.close()


@pytest.mark.parametrize("variable", ["HTTPS_PROXY", "https_proxy", "ALL_PROXY"])
def test_https_calls_tunnel_through_the_proxy(
    caller: Caller, server: FakeServer, monkeypatch: pytest.MonkeyPatch, fresh_pools: None, variable: str
) -> None:
    monkeypatch.setenv(variable, server.base_url.removesuffix("/v1"))
    # The test server refuses tunnels, so the call fails; without the proxy it would fail too
    # (the host does not exist), but it would not have asked the proxy.
    with pytest.raises(ritellm.APIConnectionError):
        caller.completion("openai/m", USER, base_url="https://api.example.invalid/v1", max_retries=0)
    [tunnel] = server.requests
    assert (tunnel.method, tunnel.path) == ("CONNECT", "api.example.invalid:443")
    assert KEY not in repr(tunnel.headers)  # the key goes inside the tunnel only


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "ALL_PROXY", "all_proxy"])
def test_http_calls_go_through_the_proxy(
    caller: Caller, server: FakeServer, monkeypatch: pytest.MonkeyPatch, fresh_pools: None, variable: str
) -> None:
    monkeypatch.setenv(variable, server.base_url.removesuffix("/v1"))
    answer = caller.completion("openai/m", USER, base_url="http://api.example.invalid/v1")
    assert answer["choices"][0]["message"]["content"] == "echo: hello"
    [forwarded] = server.requests
    assert forwarded.path == "http://api.example.invalid/v1/chat/completions"  # a proxy's request form
    assert forwarded.headers["host"] == "api.example.invalid"


def test_http_proxy_alone_leaves_https_calls_direct(
    caller: Caller, server: FakeServer, monkeypatch: pytest.MonkeyPatch, fresh_pools: None
) -> None:
    monkeypatch.setenv("HTTP_PROXY", server.base_url.removesuffix("/v1"))
    with pytest.raises(ritellm.APIConnectionError):
        caller.completion("openai/m", USER, base_url="https://api.example.invalid/v1", max_retries=0)
    assert server.requests == []  # as curl and requests do: HTTP_PROXY is for http:// only


# Compression ---------------------------------------------------------------------------------

#: What ``content-encoding`` says -> a compressor of that format. HTTP's deflate is the zlib
#: format (RFC 9110), which servers and ritellm's Accept-Encoding mean by it.
COMPRESSORS = {
    "gzip": lambda: zlib.compressobj(wbits=16 + zlib.MAX_WBITS),
    "deflate": lambda: zlib.compressobj(wbits=zlib.MAX_WBITS),
}


@pytest.mark.parametrize("encoding", sorted(COMPRESSORS))
def test_a_compressed_stream_arrives_event_by_event(
    caller: Caller, server: FakeServer, encoding: str
) -> None:
    """As a server compresses a stream (nginx, Cloudflare): flushed after each event, so each
    is readable as it arrives, and split across reads wherever the network splits it."""
    events = echo_chunks({"model": "m", "messages": [{"role": "user", "content": "compressed words arrive"}]})
    compressor = COMPRESSORS[encoding]()
    pieces = []
    for event in [*Reply.sse(events).pieces]:
        flushed = compressor.compress(event) + compressor.flush(zlib.Z_SYNC_FLUSH)
        pieces += [flushed[:5], flushed[5:]]
    pieces.append(compressor.flush())
    # The server waits before its last events until the reader has the first one: a reader
    # that decompressed the whole body first would get nothing until the pause ran out.
    reply = Reply(
        200,
        {"content-type": "text/event-stream", "content-encoding": encoding},
        pieces,
        pauses={len(pieces) - 4: 30.0},
    )
    server.queue(reply)
    early: list[bool] = []

    def first_arrives(chunk: Any) -> None:
        if not early:
            early.append(not reply.sent_all.is_set())
            reply.resume.set()

    chunks = caller.stream("openai/m", USER, base_url=server.base_url, on_chunk=first_arrives)
    assert chunks == events
    assert early == [True]
    assert server.requests[0].headers["accept-encoding"] == "gzip, deflate"


def test_a_deflate_answer_decodes(caller: Caller, server: FakeServer) -> None:
    # Large enough to be decompressed in several bounded slices.
    answer = echo_completion({"model": "m", "messages": [{"role": "user", "content": "wörd " * 100_000}]})
    body = zlib.compress(json.dumps(answer, ensure_ascii=False).encode())
    server.queue(Reply(200, {"content-type": "application/json", "content-encoding": "deflate"}, [body]))
    assert caller.completion("openai/m", USER, base_url=server.base_url) == answer


def test_a_raw_deflate_answer_decodes_as_browsers_and_httpx_read_it(
    caller: Caller, server: FakeServer
) -> None:
    answer = echo_completion({"model": "m", "messages": [{"role": "user", "content": "raw " * 50_000}]})
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    body = raw.compress(json.dumps(answer).encode()) + raw.flush()
    server.queue(Reply(200, {"content-type": "application/json", "content-encoding": "deflate"}, [body]))
    assert caller.completion("openai/m", USER, base_url=server.base_url) == answer


# Redirects -----------------------------------------------------------------------------------


def test_a_redirect_loop_ends_in_an_error(caller: Caller, server: FakeServer) -> None:
    def redirect_loop(recorded: Any) -> Reply | None:
        if len(server.requests) <= 50:  # then answers, so that a client without a cap ends too
            return Reply(308, {"location": "/v1/chat/completions"}, [b""])
        return None

    server.answer = redirect_loop
    with pytest.raises(ritellm.APIStatusError, match="stopped after 5 redirects") as raised:
        caller.completion("openai/m", USER, base_url=server.base_url)
    assert raised.value.status_code == 308
    assert len(server.requests) == 6  # the call and five redirects (_transport.MAX_REDIRECTS)


# A server that stalls mid-stream ------------------------------------------------------------


def test_a_stream_that_stalls_mid_way_times_out_after_its_chunks(caller: Caller, server: FakeServer) -> None:
    events = [{"choices": [{"index": 0, "delta": {"content": word}}]} for word in ("one", "two", "three")]
    reply = Reply.sse(events, pauses={2: 30.0})  # the connection stays open, silent
    server.queue(reply)
    chunks, error = caller.stream_until_error("openai/m", USER, base_url=server.base_url, timeout=0.5)
    assert not reply.sent_all.is_set()  # the server was still silent when the call gave up
    reply.end()
    assert chunks == events[:2]
    assert type(error) is ritellm.APITimeoutError, repr(error)
    assert "timed out" in str(error)
    assert len(server.requests) == 1  # a stream is never retried after its first chunk
