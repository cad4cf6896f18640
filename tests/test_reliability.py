"""Errors, retries, timeouts, limits and hostile servers, sync and async, on 127.0.0.1."""

from __future__ import annotations

import asyncio
import email.utils
import gzip
import json
import logging
import time
import traceback
from typing import Any

import httpx
import pytest

import ritellm
from ritellm import _instance, _pools, _prepare
from ritellm._transports.aiohttp import AiohttpTransport
from tests.conftest import USER, Caller
from tests.server import FakeServer, Recorded, Reply

KEY = "sk-SECRET-7f3a9c"


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Records the waits between retries instead of waiting."""
    waits: list[float] = []

    async def no_async_sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(time, "sleep", waits.append)
    monkeypatch.setattr(asyncio, "sleep", no_async_sleep)
    return waits


def error(status: int, headers: dict[str, str] | None = None, message: str = "nope") -> Reply:
    return Reply.json({"error": {"message": message, "type": "t"}}, status, headers=headers)


# Errors


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (403, ritellm.PermissionDeniedError),
        (408, ritellm.RequestTimeoutError),
        (409, ritellm.ConflictError),
        (413, ritellm.RequestTooLargeError),
        (422, ritellm.UnprocessableEntityError),
        (502, ritellm.BadGatewayError),
        (504, ritellm.GatewayTimeoutError),
        (529, ritellm.OverloadedError),
        (599, ritellm.InternalServerError),
        (418, ritellm.APIStatusError),
    ],
)
def test_every_status_has_its_class(
    caller: Caller, server: FakeServer, status: int, cls: type[ritellm.APIStatusError]
) -> None:
    server.queue(error(status))
    with pytest.raises(cls) as info:
        caller.completion("openai/m", USER, base_url=server.base_url, max_retries=0)
    assert info.value.status_code == status


def test_rate_limit_carries_retry_after(caller: Caller, server: FakeServer) -> None:
    server.queue(error(429, {"retry-after": "7", "x-request-id": "req_9"}))
    with pytest.raises(ritellm.RateLimitError) as info:
        caller.completion("openai/m", USER, base_url=server.base_url, max_retries=0)
    assert (info.value.retry_after, info.value.request_id) == (7.0, "req_9")


CREDENTIALS = {
    "openai/m": ("OPENAI_API_KEY", "authorization"),
    "anthropic/m": ("ANTHROPIC_API_KEY", "x-api-key"),
    "azure/m": ("AZURE_API_KEY", "api-key"),
    "gemini/m": ("GEMINI_API_KEY", "x-goog-api-key"),
}


@pytest.mark.parametrize("model", sorted(CREDENTIALS))
def test_keys_never_reach_messages_reprs_tracebacks_or_logs(
    caller: Caller,
    server: FakeServer,
    model: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    env, header = CREDENTIALS[model]
    monkeypatch.setenv(env, KEY)
    for name in ("ritellm", "httpx", "httpcore"):
        caplog.set_level(logging.DEBUG, logger=name)
    echo_key = f"Incorrect API key provided: {KEY}. You can find your key at ..."
    server.queue(Reply.json({"error": {"message": echo_key, "type": "invalid_request_error"}}, 401))
    failures: list[BaseException] = []
    with pytest.raises(ritellm.AuthenticationError) as info:
        caller.completion(model, USER, base_url=server.base_url)
    failures.append(info.value)
    with pytest.raises(ritellm.APIConnectionError) as refused:
        caller.completion(model, USER, base_url="http://127.0.0.1:9/v1", max_retries=0)
    failures.append(refused.value)
    assert server.requests[0].headers[header].endswith(KEY)  # the key was really sent
    for failure in failures:
        text = "".join(traceback.format_exception(type(failure), failure, failure.__traceback__))
        chain = [failure, failure.__cause__, failure.__context__]
        assert KEY not in text
        assert all(KEY not in repr(link) and KEY not in str(link) for link in chain)
    assert "[redacted]" in str(info.value)
    records = [r.getMessage() + repr(r.args) for r in caplog.records]
    assert records
    assert not [r for r in records if KEY in r]
    prepared = _prepare.prepare(
        model,
        USER,
        stream=False,
        base_url=server.base_url,
        additional_params=None,
        api_key=None,
        timeout=None,
        extra_headers=None,
        params={},
    )
    assert KEY not in repr(prepared)


# Retries


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504, 529])
def test_retryable_statuses_are_retried(
    caller: Caller, server: FakeServer, sleeps: list[float], status: int
) -> None:
    server.queue(error(status), error(status))
    result = caller.completion("openai/m", USER, base_url=server.base_url)
    assert result["choices"][0]["message"]["content"] == "echo: hello"
    assert len(server.requests) == 3
    assert len(sleeps) == 2 and 0.375 <= sleeps[0] <= 0.5 and 0.75 <= sleeps[1] <= 1.0


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_client_errors_are_never_retried(
    caller: Caller, server: FakeServer, sleeps: list[float], status: int
) -> None:
    server.queue(error(status))
    with pytest.raises(ritellm.APIStatusError):
        caller.completion("openai/m", USER, base_url=server.base_url)
    assert len(server.requests) == 1 and sleeps == []


def test_retries_give_up_after_max_retries(caller: Caller, server: FakeServer, sleeps: list[float]) -> None:
    server.queue(*[error(503)] * 4)
    with pytest.raises(ritellm.ServiceUnavailableError, match=r"after 4 attempts in \d+\.\d s"):
        caller.completion("openai/m", USER, base_url=server.base_url, max_retries=3)
    assert len(server.requests) == 4 and len(sleeps) == 3
    with pytest.raises(ritellm.APIConnectionError, match="after 2 attempts"):
        caller.completion("openai/m", USER, base_url="http://127.0.0.1:9/v1", max_retries=1)


@pytest.mark.parametrize(
    ("headers", "low", "high"),
    [
        ({"retry-after-ms": "250"}, 0.25, 0.25),
        ({"retry-after": "2"}, 2.0, 2.0),
        ({"retry-after": "1.5", "retry-after-ms": "oops"}, 1.5, 1.5),
        ({"retry-after": "soon"}, 0.375, 0.5),  # unreadable: backoff
        ({"retry-after": "3600"}, 0.375, 0.5),  # beyond the cap: backoff
        ({"retry-after": "-3"}, 0.375, 0.5),
    ],
)
def test_retry_after_headers(
    caller: Caller, server: FakeServer, sleeps: list[float], headers: dict[str, str], low: float, high: float
) -> None:
    server.queue(error(429, headers))
    caller.completion("openai/m", USER, base_url=server.base_url)
    assert len(sleeps) == 1 and low <= sleeps[0] <= high


def test_retry_after_as_an_http_date(caller: Caller, server: FakeServer, sleeps: list[float]) -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)  # whole seconds: 29 to 30 s away
    server.queue(error(503, {"retry-after": when}))
    caller.completion("openai/m", USER, base_url=server.base_url)
    assert 20.0 <= sleeps[0] <= 30.0  # however long this machine took to get there


def test_no_retry_that_would_outlive_the_deadline(
    caller: Caller, server: FakeServer, sleeps: list[float]
) -> None:
    server.queue(error(503, {"retry-after": "5"}))
    with pytest.raises(ritellm.ServiceUnavailableError):
        caller.completion("openai/m", USER, base_url=server.base_url, timeout=2.0)
    assert len(server.requests) == 1 and sleeps == []


def test_x_should_retry_overrides_the_status(caller: Caller, server: FakeServer, sleeps: list[float]) -> None:
    server.queue(error(503, {"x-should-retry": "false"}))
    with pytest.raises(ritellm.ServiceUnavailableError):
        caller.completion("openai/m", USER, base_url=server.base_url)
    assert len(server.requests) == 1
    server.reset()
    server.queue(error(400, {"x-should-retry": "true"}))
    assert caller.completion("openai/m", USER, base_url=server.base_url)["choices"]
    assert len(server.requests) == 2


def test_connection_failures_are_retried(caller: Caller, server: FakeServer, sleeps: list[float]) -> None:
    server.queue(Reply(abort=True))
    assert caller.completion("openai/m", USER, base_url=server.base_url)["choices"]
    assert len(server.requests) == 2 and len(sleeps) == 1


def test_streams_retry_while_opening_only(caller: Caller, server: FakeServer, sleeps: list[float]) -> None:
    server.queue(error(503))
    assert caller.stream("openai/m", USER, base_url=server.base_url)
    assert len(server.requests) == 2
    server.reset()
    first = {"choices": [{"index": 0, "delta": {"content": "part"}}]}
    server.queue(
        Reply(200, {"content-type": "text/event-stream"}, Reply.sse([first], done=False).pieces, drop=True)
    )
    chunks, failure = caller.stream_until_error("openai/m", USER, base_url=server.base_url)
    assert chunks == [first] and isinstance(failure, ritellm.StreamInterruptedError)
    assert failure.delivered_chunks == 1
    assert len(server.requests) == 1


# Timeouts


def _trickle(content_type: str, body: bytes) -> Reply:
    """``body`` a byte every 20 ms, half a minute of it: a server always sending, faster than
    any read timeout, and never done in a test's time."""
    return Reply(200, {"content-type": content_type}, [body[i : i + 1] for i in range(len(body))], delay=0.02)


def test_a_trickling_server_cannot_outlive_the_deadline(caller: Caller, server: FakeServer) -> None:
    reply = _trickle(
        "application/json", json.dumps({"id": "x", "choices": [], "padding": "." * 1500}).encode()
    )
    server.queue(reply)
    started = time.monotonic()
    with pytest.raises(ritellm.APITimeoutError, match="deadline"):
        caller.completion("openai/m", USER, base_url=server.base_url, timeout=0.5)
    assert time.monotonic() - started >= 0.5
    assert not reply.sent_all.is_set()  # the call ended while the server was still sending
    assert len(server.requests) == 1  # no retry either: the deadline covers the retries too


def test_a_trickling_stream_cannot_stall_forever(caller: Caller, server: FakeServer) -> None:
    event = b'data: {"choices": [{"index": 0, "delta": {"content": "' + b"x" * 1500 + b'"}}]}\n\n'
    reply = _trickle("text/event-stream", event)  # one chunk that never completes
    server.queue(reply)
    started = time.monotonic()
    chunks, failure = caller.stream_until_error(
        "openai/m", USER, base_url=server.base_url, timeout=0.5, max_retries=0
    )
    assert chunks == [] and isinstance(failure, ritellm.APITimeoutError), repr(failure)
    assert time.monotonic() - started >= 0.5
    assert not reply.sent_all.is_set()  # the stream ended while the server was still sending


# Limits


def test_answer_size_limit(caller: Caller, server: FakeServer) -> None:
    server.queue(Reply.json({"choices": [], "padding": "x" * 5000}))
    with pytest.raises(ritellm.LimitExceededError, match="max_response_bytes"):
        caller.completion(
            "openai/m", USER, base_url=server.base_url, limits=ritellm.Limits(max_response_bytes=1000)
        )


def test_gzip_answers_decode_and_a_gzip_bomb_stops_at_the_limit(caller: Caller, server: FakeServer) -> None:
    answer = {
        "id": "gz",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"content": "hi"}}],
    }
    server.queue(
        Reply(
            200,
            {"content-type": "application/json", "content-encoding": "gzip"},
            [gzip.compress(json.dumps(answer).encode())],
        )
    )
    assert caller.completion("openai/m", USER, base_url=server.base_url) == answer
    bomb = gzip.compress(b"{" + b" " * (200 << 20) + b"}", compresslevel=9)
    assert len(bomb) < 300_000
    server.queue(Reply(200, {"content-type": "application/json", "content-encoding": "gzip"}, [bomb]))
    with pytest.raises(ritellm.LimitExceededError, match="max_response_bytes"):
        caller.completion(
            "openai/m", USER, base_url=server.base_url, limits=ritellm.Limits(max_response_bytes=1 << 20)
        )


def test_event_size_and_depth_limits(caller: Caller, server: FakeServer) -> None:
    big = {"choices": [{"index": 0, "delta": {"content": "x" * 5000}}]}
    server.queue(Reply.sse([big]))
    _, failure = caller.stream_until_error(
        "openai/m", USER, base_url=server.base_url, limits=ritellm.Limits(max_event_bytes=1000)
    )
    assert isinstance(failure, ritellm.LimitExceededError) and "max_event_bytes" in str(failure)
    deep: Any = "bottom"
    for _ in range(40):
        deep = {"d": deep}
    server.queue(Reply.sse([{"choices": [], "deep": deep}]))
    _, failure = caller.stream_until_error(
        "openai/m", USER, base_url=server.base_url, limits=ritellm.Limits(max_depth=20)
    )
    assert isinstance(failure, ritellm.LimitExceededError) and "max_depth" in str(failure)


def test_translated_answers_obey_the_depth_limit(
    caller: Caller, server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "k")
    deep: Any = 1
    for _ in range(100):
        deep = [deep]
    server.queue(Reply.json({"type": "message", "content": [], "x": deep}))
    with pytest.raises(ritellm.LimitExceededError, match="max_depth limit of 64"):
        caller.completion("anthropic/m", USER, base_url=server.base_url)


# Hostile servers and leaks


def _pool_is_quiet(pools: Any) -> bool:
    """Whether no connection of these pools is still in use (all idle or closed)."""
    network = pools.network
    if isinstance(network, AiohttpTransport):
        return not network._session.connector._acquired  # type: ignore[union-attr]
    connections = network._direct._pool.connections
    return all(c.is_idle() or c.is_closed() for c in connections)


def test_leaving_streams_releases_connection_and_core_state(server: FakeServer) -> None:
    slow = Reply.sse(
        [{"choices": [{"index": 0, "delta": {"content": str(i)}}]} for i in range(50)], delay=0.01
    )
    server.queue(slow)
    for chunk in ritellm.completion("openai/m", USER, base_url=server.base_url, stream=True):
        assert chunk["choices"][0]["delta"]["content"] == "0"
        break
    assert _pool_is_quiet(_pools.sync_pools())
    decoder = _instance.core().open_stream(b'{"protocol": "raw_sse"}')
    assert decoder._handle == 1  # the abandoned stream's handle was given back
    decoder.close()


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
def test_cancelling_an_async_stream_releases_everything(
    server: FakeServer, transport: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(_pools.ASYNC_TRANSPORT_ENV, transport)
    # Three chunks, then silence until the test is over: the task is cancelled mid-stream.
    server.queue(
        Reply.sse(
            [{"choices": [{"index": 0, "delta": {"content": str(i)}}]} for i in range(50)], pauses={3: 30}
        )
    )
    received: list[dict[str, Any]] = []

    async def main() -> bool:
        three = asyncio.Event()

        async def consume() -> None:
            stream = await ritellm.acompletion("openai/m", USER, base_url=server.base_url, stream=True)
            async for chunk in stream:
                received.append(chunk)
                if len(received) == 3:
                    three.set()

        task = asyncio.create_task(consume())
        await three.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.sleep(0)  # let any finaliser the cancellation scheduled run
        assert asyncio.all_tasks() == {asyncio.current_task()}  # no task left behind
        return _pool_is_quiet(await _pools.async_pools())

    assert asyncio.run(main())
    decoder = _instance.core().open_stream(b'{"protocol": "raw_sse"}')
    assert decoder._handle == 1
    decoder.close()


def test_redirects_never_carry_credentials_to_another_origin(caller: Caller, server: FakeServer) -> None:
    other = FakeServer()
    try:
        server.queue(Reply(307, {"location": other.base_url + "/chat/completions"}, [b""]))
        with pytest.raises(ritellm.APIStatusError, match="refused to follow the HTTP 307 redirect"):
            caller.completion("openai/m", USER, base_url=server.base_url)
        assert other.requests == []
    finally:
        other.close()
    server.reset()
    server.queue(Reply(302, {"location": "/elsewhere"}, [b""]))
    with pytest.raises(ritellm.APIStatusError, match="302"):
        caller.completion("openai/m", USER, base_url=server.base_url)
    server.reset()
    server.queue(Reply(308, {"location": "/v2/chat/completions"}, [b""]))
    assert caller.completion("openai/m", USER, base_url=server.base_url)["choices"]
    moved = server.requests[1]
    assert moved.path == "/v2/chat/completions" and moved.headers["authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize("bad", ["a\r\nInjected: 1", "a\nb", "a\0b", " padded", "padded "])
def test_header_injection_is_refused_before_any_io(caller: Caller, server: FakeServer, bad: str) -> None:
    with pytest.raises(ValueError, match="'x-trace'") as info:
        caller.completion("openai/m", USER, base_url=server.base_url, extra_headers={"x-trace": bad})
    assert bad not in str(info.value)
    with pytest.raises(ValueError, match="authorization") as info:
        caller.completion("openai/m", USER, base_url=server.base_url, api_key=bad)
    assert bad.strip() not in str(info.value)
    assert server.requests == []


# Load


def _faulty(recorded: Recorded) -> Reply | None:
    """Faults chosen by the prompt, so every caller knows what it must get."""
    prompt = recorded.json()["messages"][0]["content"]
    if prompt.endswith(":400"):
        return error(400, message=prompt)
    if prompt.endswith(":503"):
        return error(503, message=prompt)
    if prompt.endswith(":drop"):
        return Reply(abort=True)
    return None


EXPECTED = {
    "ok": None,
    "400": ritellm.BadRequestError,
    "503": ritellm.ServiceUnavailableError,
    "drop": ritellm.APIConnectionError,
}


def _check(prompt: str, outcome: Any) -> None:
    expected = EXPECTED[prompt.rsplit(":", 1)[1]]
    if expected is None:
        assert outcome["choices"][0]["message"]["content"] == f"echo: {prompt}"
    else:
        assert type(outcome) is expected, (prompt, outcome)
        if expected is not ritellm.APIConnectionError:
            assert outcome.message == prompt  # nobody else's error


def _prompts(count: int, seed: int) -> list[str]:
    import random

    rng = random.Random(seed)
    return [f"caller {i}:{rng.choice(sorted(EXPECTED))}" for i in range(count)]


def test_fifty_threads_with_random_faults(server: FakeServer, sleeps: list[float]) -> None:
    import concurrent.futures

    server.answer = _faulty

    def call(prompt: str) -> Any:
        try:
            return ritellm.completion(
                "openai/m", [{"role": "user", "content": prompt}], base_url=server.base_url
            )
        except ritellm.RitellmError as exc:
            return exc

    prompts = _prompts(200, seed=1)
    with concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = list(pool.map(call, prompts))
    for prompt, outcome in zip(prompts, outcomes):
        _check(prompt, outcome)


def test_two_hundred_tasks_with_random_faults(server: FakeServer, sleeps: list[float]) -> None:
    server.answer = _faulty
    prompts = _prompts(200, seed=2)

    async def main() -> list[Any]:
        calls = [
            ritellm.acompletion("openai/m", [{"role": "user", "content": p}], base_url=server.base_url)
            for p in prompts
        ]
        return list(await asyncio.gather(*calls, return_exceptions=True))

    for prompt, outcome in zip(prompts, asyncio.run(main())):
        _check(prompt, outcome)


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096


def test_ten_thousand_calls_keep_memory_and_descriptors_flat(server: FakeServer) -> None:
    import os

    def calls(count: int) -> None:
        for done in range(count):
            ritellm.completion("openai/m", USER, base_url=server.base_url)
            if done % 1000 == 999:
                server.reset()  # the in-process test server keeps every request it saw

    calls(1000)
    rss, fds = _rss_bytes(), len(os.listdir("/proc/self/fd"))
    calls(10_000)
    growth = _rss_bytes() - rss
    assert growth < 8 << 20, f"RSS grew {growth / 1e6:.1f} MB"
    assert len(os.listdir("/proc/self/fd")) <= fds + 2


@pytest.mark.parametrize(("encoding", "body"), [("br", b"\x1b\x00"), ("gzip", b"not gzip at all")])
def test_unasked_or_corrupt_encodings_are_errors(
    caller: Caller, server: FakeServer, encoding: str, body: bytes
) -> None:
    server.queue(Reply(200, {"content-type": "application/json", "content-encoding": encoding}, [body]))
    with pytest.raises(ritellm.APIError, match=encoding if encoding == "br" else "corrupt") as info:
        caller.completion("openai/m", USER, base_url=server.base_url, max_retries=0)
    assert str(info.value).startswith("[openai/m]")
    assert server.requests[0].headers["accept-encoding"] == "gzip, deflate"
    assert _pool_is_quiet(_pools.sync_pools())


def test_a_stream_that_ends_after_a_quiet_spell_is_not_a_timeout(caller: Caller, server: FakeServer) -> None:
    """A stream's deadline counts from its last chunk, and its end marker ends it whenever it
    comes: here after a keep-alive comment and a spell without chunks longer than the deadline."""
    first = {"choices": [{"index": 0, "delta": {"content": "slow"}}]}
    pieces = [Reply.sse([first]).pieces[0], b": thinking\n\n", b"data: [DONE]\n\n"]
    server.queue(Reply(200, {"content-type": "text/event-stream"}, pieces, pauses={2: 1.2}))
    # A 1 s deadline and no read timeout, so that only the deadline could end the stream.
    timeout = httpx.Timeout(1.0, read=None)
    assert caller.stream("openai/m", USER, base_url=server.base_url, timeout=timeout) == [first]


@pytest.mark.parametrize(
    "bad",
    [
        b'data: {"choices": tru}\n\n',  # balanced, so only Python's parser can refuse it
        b'data: {"choices": [}\n\n',  # unbalanced: the core's scan refuses it
        b'data: {"a": 1} trailing\n\n',
    ],
)
def test_an_invalid_chunk_ends_the_stream_after_the_chunks_before_it(
    caller: Caller, server: FakeServer, bad: bytes
) -> None:
    good = [{"choices": [{"index": 0, "delta": {"content": str(i)}}]} for i in range(2)]
    body = b"".join(b"data: " + json.dumps(chunk).encode() + b"\n\n" for chunk in good) + bad
    server.queue(Reply(200, {"content-type": "text/event-stream"}, [body, b"data: [DONE]\n\n"]))
    chunks, error = caller.stream_until_error("openai/m", USER, base_url=server.base_url)
    assert chunks == good  # delivered from the same network read as the bad chunk
    assert isinstance(error, ritellm.InvalidResponseError)
    assert "stream chunk is not valid JSON" in str(error)


def _shown(failure: BaseException) -> str:
    """Everything an exception shows: its traceback with the cause chain, repr, args and fields."""
    text = "".join(traceback.format_exception(type(failure), failure, failure.__traceback__))
    fields = [getattr(failure, name, None) for name in ("message", "type", "code", "param", "request_id")]
    return "\n".join(
        [text, repr(failure), repr(failure.args), repr(fields), repr(getattr(failure, "__notes__", None))]
    )


def test_a_key_echoed_in_any_server_field_is_redacted(caller: Caller, server: FakeServer) -> None:
    echoed = {
        "message": f"bad key {KEY}",
        "type": f"type-{KEY}",
        "code": f"code-{KEY}",
        "param": f"param-{KEY}",
    }
    server.queue(
        Reply(
            401,
            {"content-type": "application/json", "x-request-id": f"req-{KEY}"},
            [json.dumps({"error": echoed}).encode()],
        )
    )
    with pytest.raises(ritellm.AuthenticationError) as info:
        caller.completion("openai/m", USER, base_url=server.base_url)
    assert KEY not in _shown(info.value)
    assert info.value.type == "type-[redacted]" and info.value.request_id == "req-[redacted]"
    event = json.dumps({"error": {"message": "boom", "type": f"t-{KEY}", "code": f"c-{KEY}"}})
    server.queue(
        Reply(200, {"content-type": "text/event-stream"}, [f"event: error\ndata: {event}\n\n".encode()])
    )
    chunks, error = caller.stream_until_error("openai/m", USER, base_url=server.base_url)
    assert chunks == [] and isinstance(error, ritellm.APIError)
    assert KEY not in _shown(error)
    assert error.type == "t-[redacted]"


@pytest.mark.parametrize(
    "cls", [ritellm.RitellmError, ritellm.InvalidRequestError, ritellm.APIError, ritellm.AuthenticationError]
)
def test_redaction_reaches_an_errors_notes(cls: type[ritellm.RitellmError]) -> None:
    error = cls(f"bad key {KEY}")
    error.__notes__ = [f"sent with {KEY.upper()}", "a note without secrets"]  # add_note, before 3.11
    error.redact((KEY,))
    assert error.__notes__ == ["sent with [redacted]", "a note without secrets"]
    assert KEY.lower() not in _shown(error).lower()


def test_short_keys_do_not_mangle_messages(
    caller: Caller, server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    server.queue(error(401, message="this key is not known"))
    with pytest.raises(ritellm.AuthenticationError, match="this key is not known"):
        caller.completion("openai/m", USER, base_url=server.base_url)


def test_a_password_in_base_url_is_refused_without_showing_it(caller: Caller, server: FakeServer) -> None:
    password = "hunter2-correct-horse"
    base_url = server.base_url.replace("http://", f"http://alice:{password}@")
    with pytest.raises(ritellm.InvalidRequestError, match="user name or password") as info:
        caller.completion("openai/m", USER, base_url=base_url)
    assert password not in _shown(info.value) and "alice" not in _shown(info.value)
    assert server.requests == []  # refused before any I/O
    server.queue(Reply(307, {"location": base_url + "/chat/completions"}, [b""]))
    with pytest.raises(ritellm.APIStatusError, match="refused to follow"):
        caller.completion("openai/m", USER, base_url=server.base_url)


def test_an_event_just_under_max_event_bytes_streams(caller: Caller, server: FakeServer) -> None:
    text = "x" * ((16 << 20) - 4096)  # the default max_event_bytes is 16 MiB
    event = b"data: " + json.dumps({"choices": [{"index": 0, "delta": {"content": text}}]}).encode() + b"\n\n"
    pieces = [event[i : i + (256 << 10)] for i in range(0, len(event), 256 << 10)] + [b"data: [DONE]\n\n"]
    server.queue(Reply(200, {"content-type": "text/event-stream"}, pieces))
    [chunk] = caller.stream("openai/m", USER, base_url=server.base_url)
    assert chunk["choices"][0]["delta"]["content"] == text


def test_the_mock_streams_a_long_prompt(caller: Caller) -> None:
    prompt = " ".join(f"word{i}" for i in range(25_000))  # about 240 KB
    chunks = caller.stream("mock/echo", [{"role": "user", "content": prompt}])
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"]) == prompt


def test_an_error_in_a_success_reports_the_status_sent(caller: Caller, server: FakeServer) -> None:
    server.queue(Reply.json({"error": {"message": "bad field", "type": "invalid_request_error"}}, 200))
    with pytest.raises(ritellm.BadRequestError) as info:  # what its type stands for
        caller.completion("openai/m", USER, base_url=server.base_url)
    assert info.value.status_code == 200 and "HTTP 200" in str(info.value)


def test_attempts_retries_and_failures_are_logged(
    caller: Caller, server: FakeServer, sleeps: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="ritellm")
    server.queue(error(503), error(400, message="final"))
    with pytest.raises(ritellm.BadRequestError):
        caller.completion("openai/m", USER, base_url=server.base_url)
    lines = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "ritellm"]
    url = server.base_url + "/chat/completions"
    assert lines[0] == ("DEBUG", f"POST {url}, attempt 1")
    assert (
        lines[1][0] == "INFO" and lines[1][1].startswith(f"retrying {url} in ") and "HTTP 503" in lines[1][1]
    )
    assert lines[2] == ("DEBUG", f"POST {url}, attempt 2")
    assert lines[3][0] == "INFO" and "final" in lines[3][1] and "after 2 attempts" in lines[3][1]
    assert not [r for r in caplog.records if r.name == "ritellm" and r.levelno >= logging.WARNING]


def test_llama_cpp_context_overflow_is_a_context_window_error(caller: Caller, server: FakeServer) -> None:
    overflow = {
        "code": 400,
        "message": "request (36021 tokens) exceeds the available context size (4096 tokens)",
        "type": "exceed_context_size_error",
        "n_prompt_tokens": 36021,
        "n_ctx": 4096,
    }
    server.queue(Reply.json({"error": overflow}, 400))
    with pytest.raises(ritellm.ContextWindowExceededError, match="exceeds the available context size"):
        caller.completion("openai/m", USER, base_url=server.base_url)


def test_a_stream_request_answered_without_a_stream(caller: Caller, server: FakeServer) -> None:
    server.queue(Reply.json({"error": {"message": "model busy", "type": "invalid_request_error"}}, 200))
    with pytest.raises(ritellm.BadRequestError, match="model busy"):
        caller.stream("openai/m", USER, base_url=server.base_url)
    completion = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "whole",
                    "tool_calls": [{"id": "t", "type": "function"}],
                },
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
    server.queue(Reply.json(completion))
    [chunk] = caller.stream("openai/m", USER, base_url=server.base_url)
    assert chunk["object"] == "chat.completion.chunk" and chunk["usage"] == completion["usage"]
    assert chunk["choices"] == [
        {
            "index": 0,
            "delta": {
                "role": "assistant",
                "content": "whole",
                "tool_calls": [{"index": 0, "id": "t", "type": "function"}],
            },
            "logprobs": None,
            "finish_reason": "stop",
        }
    ]
    for content_type, body in (("text/html", b"<html>Bad gateway page</html>"), ("text/event-stream", b"")):
        server.queue(Reply(200, {"content-type": content_type}, [body]))
        with pytest.raises(ritellm.InvalidResponseError, match="not an event stream") as info:
            caller.stream("openai/m", USER, base_url=server.base_url)
        assert body.decode() in str(info.value) and content_type in str(info.value)


def _answer_and_stream(caller: Caller, server: FakeServer, payload: bytes) -> tuple[Any, Any]:
    """The same chunk object's bytes as a complete answer and as a stream's only chunk."""
    server.queue(Reply(200, {"content-type": "application/json"}, [payload]))
    server.queue(
        Reply(
            200, {"content-type": "text/event-stream"}, [b"data: " + payload + b"\n\n", b"data: [DONE]\n\n"]
        )
    )
    outcomes = []
    for read in (caller.completion, caller.stream):
        try:
            outcomes.append(read("openai/m", USER, base_url=server.base_url))
        except ritellm.RitellmError as exc:
            outcomes.append(type(exc))
    complete, streamed = outcomes
    return complete, streamed[0] if isinstance(streamed, list) else streamed


@pytest.mark.parametrize(
    ("payload", "content"),
    [
        (b'{"choices": [{"index": 0, "delta": {"content": "\\ud83d"}}]}', "\ud83d"),  # a lone surrogate half
        (
            b'{"choices": [{"index": 0, "delta": {"content": "caf\\u00e9 \xff"}}]}',
            "caf\u00e9 \ufffd",
        ),  # not UTF-8
        (b'{"choices": [{"index": 0, "delta": {"content": "x"}, "logprobs": -Infinity}]}', "x"),
    ],
)
def test_answers_and_streams_read_the_same_json(
    caller: Caller, server: FakeServer, payload: bytes, content: str
) -> None:
    complete, streamed = _answer_and_stream(caller, server, payload)
    assert complete == streamed  # what Python's json (and so the openai SDK) makes of them
    assert streamed["choices"][0]["delta"]["content"] == content


def test_a_surrogate_pair_split_across_chunks_arrives_as_its_halves(
    caller: Caller, server: FakeServer
) -> None:
    pieces = [
        b'data: {"choices": [{"index": 0, "delta": {"content": "' + h.encode() + b'"}}]}\n\n'
        for h in ("\\ud83d", "\\ude00")
    ]
    server.queue(Reply(200, {"content-type": "text/event-stream"}, [*pieces, b"data: [DONE]\n\n"]))
    chunks = caller.stream("openai/m", USER, base_url=server.base_url)
    assert [c["choices"][0]["delta"]["content"] for c in chunks] == ["\ud83d", "\ude00"]


def test_max_depth_holds_for_answers_and_streams_alike(caller: Caller, server: FakeServer) -> None:
    deep: Any = 1
    for _ in range(100):
        deep = [deep]
    payload = json.dumps({"choices": [], "x": deep}).encode()
    assert _answer_and_stream(caller, server, payload) == (
        ritellm.LimitExceededError,
        ritellm.LimitExceededError,
    )
    shallow = json.dumps(
        {"choices": [], "usage": {"total_tokens": 1}, "x": [[[[1]]]], "y": [{"a": [1]}] * 80}
    ).encode()  # many brackets, shallow; its usage makes it a chunk a stream yields
    complete, streamed = _answer_and_stream(caller, server, shallow)
    assert complete == streamed == json.loads(shallow)


def test_connection_failures_say_why(caller: Caller, server: FakeServer) -> None:
    server.queue(Reply(abort=True))
    with pytest.raises(ritellm.APIConnectionError) as reset:
        caller.completion("openai/m", USER, base_url=server.base_url, max_retries=0)
    server.queue(Reply(200, {"content-type": "application/json"}, [b"{}", b"{}"], delay=1.0))
    with pytest.raises(ritellm.APITimeoutError) as slow:
        caller.completion("openai/m", USER, base_url=server.base_url, max_retries=0, timeout=0.2)
    for failure in (reset.value, slow.value):
        assert not str(failure).rstrip().endswith(":"), str(failure)
