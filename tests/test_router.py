"""ritellm.Router on 127.0.0.1: every rule driven by a server that fails on cue, sync and async,
and state shared by two processes through a real Redis."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import pytest

import ritellm
from ritellm import _router
from tests.redis_server import redis_server, redis_url  # noqa: F401
from tests.responses_formats import message, output_text, response
from tests.server import FakeServer, Recorded, Reply, echo_chunks
from tests.wire_formats import anthropic_error, gemini_blocked, gemini_error

KEY = "sk-router-test-0123"
USER = [{"role": "user", "content": "hello"}]


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)


@pytest.fixture
def events() -> Iterator[list[ritellm.CallEvent]]:
    seen: list[ritellm.CallEvent] = []
    ritellm.callbacks.append(seen.append)
    yield seen
    ritellm.callbacks.remove(seen.append)


@pytest.fixture(autouse=True)
def no_retry_waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Records the transport's waits between retries instead of waiting."""
    waits: list[float] = []

    real_sleep = asyncio.sleep

    async def no_async_sleep(seconds: float) -> None:
        waits.append(seconds)
        await real_sleep(0)  # still a point where other tasks run

    monkeypatch.setattr(time, "sleep", waits.append)
    monkeypatch.setattr(asyncio, "sleep", no_async_sleep)
    return waits


class Clock:
    def __init__(self, now: float = 1_000_020.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Mode:
    """Runs a Router's call sync, or async in a fresh loop."""

    def __init__(self, is_async: bool) -> None:
        self.is_async = is_async

    def call(self, router: ritellm.Router, method: str, *args: Any, **kwargs: Any) -> Any:
        if self.is_async:
            return asyncio.run(getattr(router, f"a{method}")(*args, **kwargs))
        return getattr(router, method)(*args, **kwargs)

    def completion(self, router: ritellm.Router, model: str, **kwargs: Any) -> Any:
        return self.call(router, "completion", model, USER, **kwargs)

    def stream(self, router: ritellm.Router, model: str, **kwargs: Any) -> tuple[list[Any], Exception | None]:
        chunks: list[Any] = []

        async def collect() -> Exception | None:
            try:
                stream = await router.acompletion(model, USER, stream=True, **kwargs)
                async with stream:
                    async for chunk in stream:
                        chunks.append(chunk)
            except Exception as exc:
                return exc
            return None

        if self.is_async:
            return chunks, asyncio.run(collect())
        try:
            with router.completion(model, USER, stream=True, **kwargs) as stream:
                for chunk in stream:
                    chunks.append(chunk)
        except Exception as exc:
            return chunks, exc
        return chunks, None


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> Mode:
    return Mode(request.param == "async")


def deployment(server: FakeServer, model: str, name: str = "g", **extra: Any) -> dict[str, Any]:
    """A model_list entry on the test server; ``extra`` goes in litellm_params, but
    ``model_info`` beside it."""
    info = extra.pop("model_info", None)
    entry: dict[str, Any] = {
        "model_name": name,
        "litellm_params": {"model": model, "api_base": server.base_url, **extra},
    }
    if info is not None:
        entry["model_info"] = info
    return entry


def by_model(server: FakeServer, replies: dict[str, Callable[[Recorded], Reply | None]]) -> None:
    """Answers each request by the model it names (its body's ``model``, or Gemini's path)."""

    def answer(recorded: Recorded) -> Reply | None:
        body = recorded.json() if recorded.body else {}
        for model, reply in replies.items():
            if body.get("model") == model or f"/models/{model}:" in recorded.path:
                return reply(recorded)
        return None

    server.answer = answer


def models_asked(server: FakeServer) -> list[str]:
    return [r.json().get("model", r.path) for r in server.requests]


def error(status: int, message: str = "nope", headers: dict[str, str] | None = None, **fields: Any) -> Reply:
    return Reply.json({"error": {"message": message, "type": "t", **fields}}, status, headers=headers)


# Moving on, and the breaker


def test_rate_limit_moves_on_cools_down_then_one_trial(
    mode: Mode, server: FakeServer, events: list[ritellm.CallEvent], no_retry_waits: list[float]
) -> None:
    clock = Clock()
    router = ritellm.Router(
        [deployment(server, "openai/a", weight=1e9), deployment(server, "openai/b")],
        num_retries=1,
        clock=clock,
        seed=1,
    )
    by_model(server, {"a": lambda r: error(429, headers={"retry-after": "30"})})
    answer = mode.completion(router, "g")
    assert answer.choices[0].message.content == "echo: hello"
    assert models_asked(server) == ["a", "a", "b"]  # a's own retry, honouring Retry-After
    assert no_retry_waits == [30.0]
    first, second = events
    assert (first.deployment, type(first.exception), first.attempts) == ("g[0]", ritellm.RateLimitError, 2)
    assert (second.deployment, second.route) == ("g[1]", ("g[0]: RateLimitError, cooling down 30 s",))

    server.requests.clear()
    mode.completion(router, "g")
    assert models_asked(server) == ["b"]
    assert events[-1].route[0].startswith("g[0]: skipped, cooling down until ")

    clock.now += 31  # the cooldown is over: one trial request
    server.requests.clear()
    server.answer = lambda recorded: None
    mode.completion(router, "g")
    assert models_asked(server) == ["a"]
    assert events[-1].route == ("g[0]: trial request after its cooldown",)
    mode.completion(router, "g")
    assert not events[-1].route and events[-1].deployment == "g[0]"  # closed again


def test_allowed_fails_then_cooldown_then_fallback(mode: Mode, server: FakeServer, events: list[Any]) -> None:
    clock = Clock()
    router = ritellm.Router(
        [deployment(server, "openai/a"), deployment(server, "openai/b", name="backup")],
        fallbacks=[{"g": ["backup"]}],
        num_retries=0,
        allowed_fails=2,
        cooldown_time=10,
        clock=clock,
    )
    by_model(server, {"a": lambda r: error(500)})
    for _ in range(2):
        mode.completion(router, "g")
        assert events[-1].route == ("g[0]: InternalServerError", "fallback to backup")
    mode.completion(router, "g")
    assert events[-1].route == ("g[0]: InternalServerError, cooling down 10 s", "fallback to backup")
    server.requests.clear()
    mode.completion(router, "g")
    assert models_asked(server) == ["b"]
    assert events[-1].route[0].startswith("g[0]: skipped, cooling down until")
    assert events[-1].route[1] == "fallback to backup"


def test_every_deployment_cooling_without_fallbacks_raises_a_typed_error(
    mode: Mode, server: FakeServer
) -> None:
    clock = Clock()
    router = ritellm.Router(
        [deployment(server, "openai/a"), deployment(server, "openai/b")],
        num_retries=0,
        allowed_fails=0,
        cooldown_time=60,
        clock=clock,
    )
    server.answer = lambda recorded: error(503)
    with pytest.raises(ritellm.ServiceUnavailableError) as first:
        mode.completion(router, "g")
    assert "g[0]: ServiceUnavailableError, cooling down 60 s" in first.value.__notes__[0]
    with pytest.raises(ritellm.NoDeploymentAvailableError) as info:
        mode.completion(router, "g")
    assert isinstance(info.value, ritellm.RateLimitError)
    assert info.value.deployments == {"g[0]": clock.now + 60, "g[1]": clock.now + 60}
    assert info.value.retry_after == 60
    assert "g[0] until" in str(info.value) and "g[1] until" in str(info.value)


def test_half_open_lets_exactly_one_request_through(mode: Mode, server: FakeServer) -> None:
    clock = Clock()
    router = ritellm.Router(
        [deployment(server, "openai/a")], num_retries=0, allowed_fails=0, cooldown_time=5, clock=clock
    )
    server.queue(error(500))
    with pytest.raises(ritellm.InternalServerError):
        mode.completion(router, "g")
    with pytest.raises(ritellm.NoDeploymentAvailableError):
        mode.completion(router, "g")
    clock.now += 5
    arrived, release = threading.Event(), threading.Event()

    def held(recorded: Recorded) -> Reply | None:
        arrived.set()
        release.wait(10)
        return None

    server.answer = held
    outcome: list[Any] = []
    trial = threading.Thread(target=lambda: outcome.append(mode.completion(router, "g")))
    trial.start()
    assert arrived.wait(10)
    with pytest.raises(ritellm.NoDeploymentAvailableError, match="trial in flight"):
        mode.completion(router, "g")
    release.set()
    trial.join(10)
    assert outcome and outcome[0].choices[0].message.content == "echo: hello"
    assert mode.completion(router, "g").choices[0].message.content == "echo: hello"
    assert len(server.requests) == 3


def test_a_failed_trial_opens_the_breaker_again(mode: Mode, server: FakeServer) -> None:
    clock = Clock()
    router = ritellm.Router(
        [deployment(server, "openai/a")], num_retries=0, allowed_fails=5, cooldown_time=5, clock=clock
    )
    server.queue(error(429), error(502))
    with pytest.raises(ritellm.RateLimitError):  # a 429 cools down at once
        mode.completion(router, "g")
    clock.now += 5
    with pytest.raises(ritellm.BadGatewayError):  # the trial fails: one failure is enough
        mode.completion(router, "g")
    with pytest.raises(ritellm.NoDeploymentAvailableError):
        mode.completion(router, "g")


@pytest.mark.parametrize(
    "reply",
    [
        error(500),
        error(502),
        error(504),
        error(408),
        Reply(abort=True),
        Reply(200, {"content-type": "application/json"}, [b"{not json"]),
    ],
    ids=["500", "502", "504", "408", "connection-dropped", "invalid-response"],
)
def test_server_and_connection_failures_move_on(mode: Mode, server: FakeServer, reply: Reply) -> None:
    router = ritellm.Router(
        [deployment(server, "openai/a", weight=1e9), deployment(server, "openai/b")], num_retries=0
    )
    by_model(server, {"a": lambda r: reply})
    assert mode.completion(router, "g").choices[0].message.content == "echo: hello"
    assert models_asked(server) == ["a", "b"]


def test_a_timeout_moves_on(mode: Mode, server: FakeServer, events: list[Any]) -> None:
    router = ritellm.Router(
        [deployment(server, "openai/a", weight=1e9), deployment(server, "openai/b")],
        num_retries=0,
        timeout=0.3,
    )
    by_model(server, {"a": lambda r: _slow()})
    assert mode.completion(router, "g").choices[0].message.content == "echo: hello"
    assert type(events[0].exception) is ritellm.APITimeoutError
    assert events[1].route == ("g[0]: APITimeoutError",)


def _slow() -> Reply:
    reply = Reply.json({"late": True})
    reply.delay = 5.0
    return reply


# Errors that are the request's or the deployment's


def test_a_bad_request_raises_at_once(mode: Mode, server: FakeServer) -> None:
    router = ritellm.Router(
        [deployment(server, "openai/a"), deployment(server, "openai/b", name="other")],
        fallbacks=[{"g": ["other"]}],
    )
    server.queue(error(400, "bad field"))
    with pytest.raises(ritellm.BadRequestError, match="bad field"):
        mode.completion(router, "g")
    assert len(server.requests) == 1


def test_an_auth_error_moves_only_to_other_credentials_never_to_fallbacks(
    mode: Mode, server: FakeServer, events: list[Any]
) -> None:
    router = ritellm.Router(
        [
            deployment(server, "openai/a", api_key="sk-first-key-0001", weight=1e12),
            deployment(server, "openai/b", api_key="sk-first-key-0001", weight=1e6),
            deployment(server, "openai/c", api_key="sk-other-key-0002"),
            deployment(server, "openai/d", name="other"),
        ],
        fallbacks=[{"g": ["other"]}],
        num_retries=0,
    )
    server.answer = lambda r: error(401) if r.headers["authorization"].endswith("0001") else None
    answer = mode.completion(router, "g")
    assert answer.model == "c"
    assert events[-1].route == (
        "g[0]: AuthenticationError, cooling down 5 s",
        "g[1]: skipped, the same credentials failed on g[0]",
    )
    server.answer = lambda r: error(403)
    with pytest.raises(ritellm.PermissionDeniedError) as info:
        mode.completion(router, "g")
    assert "d" not in models_asked(server)
    assert "fallback" not in info.value.__notes__[0]


# Context windows and content policy


@pytest.mark.parametrize(
    ("model", "refusal"),
    [
        (
            "openai/small",
            error(400, "This model's maximum context length is 8192 tokens.", code="context_length_exceeded"),
        ),
        (
            "anthropic/small",
            anthropic_error(
                400, "invalid_request_error", "prompt is too long: 210000 tokens > 200000 maximum"
            ),
        ),
        (
            "gemini/small",
            gemini_error(
                400,
                "INVALID_ARGUMENT",
                "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).",
            ),
        ),
    ],
    ids=["openai", "anthropic", "gemini"],
)
def test_a_context_window_error_goes_to_the_context_window_fallbacks(
    mode: Mode, server: FakeServer, events: list[Any], model: str, refusal: Reply
) -> None:
    router = ritellm.Router(
        [
            deployment(server, model, api_key="key-0123456789", model_info={"max_input_tokens": 1000}),
            deployment(server, "openai/tiny", name="tiny", model_info={"max_input_tokens": 500}),
            deployment(server, "openai/big", name="big", model_info={"max_input_tokens": 100_000}),
            deployment(server, "openai/other", name="other"),
        ],
        fallbacks=[{"g": ["other"]}],
        context_window_fallbacks=[{"g": ["tiny", "big"]}],
        num_retries=0,
    )
    server.queue(refusal)
    assert mode.completion(router, "g").model == "big"
    assert events[0].exception.__class__ is ritellm.ContextWindowExceededError
    assert events[-1].route == (
        "g[0]: ContextWindowExceededError",
        "context-window fallback to tiny",
        "tiny[0]: skipped, its window (500 tokens) is no larger than the one that refused",
        "context-window fallback to big",
    )


def test_a_prompt_too_long_for_a_window_skips_it_before_any_request(
    mode: Mode, server: FakeServer, events: list[Any]
) -> None:
    ritellm.register_model({"openai/registered-small": {"max_input_tokens": 50}})
    try:
        router = ritellm.Router(
            [
                deployment(server, "openai/registered-small"),
                deployment(server, "openai/unknown-window", name="unknown"),
            ],
            context_window_fallbacks=[{"g": ["unknown"]}],
        )
        long = [{"role": "user", "content": "word " * 400}]
        assert mode.call(router, "completion", "g", long).model == "unknown-window"
        assert models_asked(server) == ["unknown-window"]  # an unknown window is tried
        assert events[-1].route[0].startswith("g[0]: skipped, ~")
        assert events[-1].route[0].endswith("exceed its 50-token window")
        server.requests.clear()
        assert mode.completion(router, "g").model == "registered-small"  # a short one fits
        router_alone = ritellm.Router([deployment(server, "openai/registered-small")])
        with pytest.raises(ritellm.ContextWindowExceededError, match="can take this prompt"):
            mode.call(router_alone, "completion", "g", long)
    finally:
        from ritellm import _model_table

        _model_table.unregister_all()


def test_a_content_policy_refusal_goes_to_the_content_policy_fallbacks(
    mode: Mode, server: FakeServer, events: list[Any]
) -> None:
    router = ritellm.Router(
        [
            deployment(server, "gemini/strict", api_key="gemini-key-0123"),
            deployment(server, "openai/lenient", name="lenient"),
            deployment(server, "openai/other", name="other"),
        ],
        fallbacks=[{"g": ["other"]}],
        content_policy_fallbacks=[{"g": ["lenient"]}],
    )
    server.queue(gemini_blocked(False))
    assert mode.completion(router, "g").model == "lenient"
    assert events[-1].route == ("g[0]: ContentPolicyError", "content-policy fallback to lenient")
    server.queue(gemini_blocked(False), error(400, "nope"))
    with pytest.raises(ritellm.BadRequestError):
        mode.completion(router, "g")


# Streams


def test_a_stream_cut_before_its_first_chunk_moves_on(
    mode: Mode, server: FakeServer, events: list[Any]
) -> None:
    router = ritellm.Router(
        [deployment(server, "openai/a", weight=1e9), deployment(server, "openai/b")], num_retries=0
    )
    by_model(server, {"a": lambda r: Reply.sse([], done=False, drop=True)})
    chunks, error_ = mode.stream(router, "g")
    assert error_ is None
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "echo: hello"
    assert {c.model for c in chunks} == {"b"}  # nothing of a's in b's answer
    assert events[-1].route == ("g[0]: StreamInterruptedError",)


def test_a_stream_cut_after_its_first_chunk_raises_and_is_not_spliced(mode: Mode, server: FakeServer) -> None:
    router = ritellm.Router(
        [deployment(server, "openai/a", weight=1e9), deployment(server, "openai/b")], num_retries=0
    )
    by_model(server, {"a": lambda r: Reply.sse(echo_chunks(r.json())[:2], done=False, drop=True)})
    chunks, error_ = mode.stream(router, "g")
    assert isinstance(error_, ritellm.StreamInterruptedError)
    assert error_.delivered_chunks == 2 and len(chunks) == 2
    assert {c.model for c in chunks} == {"a"} and models_asked(server) == ["a"]


def test_a_stream_refused_with_an_error_status_moves_on(mode: Mode, server: FakeServer) -> None:
    router = ritellm.Router(
        [deployment(server, "openai/a", weight=1e9), deployment(server, "openai/b")], num_retries=0
    )
    by_model(server, {"a": lambda r: error(529)})
    chunks, error_ = mode.stream(router, "g")
    assert error_ is None and {c.model for c in chunks} == {"b"}
    assert models_asked(server) == ["a", "b"]


# Limits under concurrency, and the strategies


def run_many(mode: Mode, router: ritellm.Router, count: int, **kwargs: Any) -> list[Any]:
    """``count`` calls at once: threads, or tasks on one loop. Exceptions are returned."""
    if mode.is_async:

        async def all_at_once() -> list[Any]:
            return await asyncio.gather(
                *(router.acompletion("g", USER, **kwargs) for _ in range(count)), return_exceptions=True
            )

        return asyncio.run(all_at_once())

    def one(_: int) -> Any:
        try:
            return router.completion("g", USER, **kwargs)
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def hold_until(server: FakeServer, count: int) -> None:
    """Holds each request until ``count`` have arrived, so that they are all in flight."""
    arrived = threading.Semaphore(0)
    everyone = threading.Event()
    seen = [0]
    lock = threading.Lock()

    def answer(recorded: Recorded) -> Reply | None:
        with lock:
            seen[0] += 1
            if seen[0] == count:
                everyone.set()
        everyone.wait(20)
        arrived.release()
        return None

    server.answer = answer


def test_rpm_is_never_oversubscribed_with_100_calls_in_flight(mode: Mode, server: FakeServer) -> None:
    clock = Clock(1_000_020.0)  # the start of a minute: the next is 60 s away
    router = ritellm.Router(
        [deployment(server, "openai/a", rpm=50), deployment(server, "openai/b", rpm=30)],
        clock=clock,
        timeout=5,
        seed=3,
    )
    hold_until(server, 80)
    results = run_many(mode, router, 100)
    answered = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(answered) == 80 and len(refused) == 20
    assert all(type(e) is ritellm.NoDeploymentAvailableError for e in refused)
    assert models_asked(server).count("a") == 50 and models_asked(server).count("b") == 30
    assert (
        getattr(refused[0], "retry_after", None) == 60
    )  # the next minute; the call would not wait that long


def test_a_call_waits_for_the_next_minute_when_it_may(mode: Mode, server: FakeServer) -> None:
    clock = Clock(1_000_079.5)  # half a second before the next minute
    waited: list[float] = []

    def sleep(seconds: float) -> None:
        waited.append(seconds)
        clock.now += seconds

    async def asleep(seconds: float) -> None:
        sleep(seconds)

    router = ritellm.Router([deployment(server, "openai/a", rpm=1)], clock=clock, timeout=5)
    router.sleep, router.asleep = sleep, asleep
    mode.completion(router, "g")
    mode.completion(router, "g")
    assert waited == [pytest.approx(0.5)] and len(server.requests) == 2


def test_tpm_counts_the_prompt_first_and_the_usage_after(mode: Mode, server: FakeServer) -> None:
    clock = Clock(1_000_020.0)
    router = ritellm.Router(
        [deployment(server, "openai/a", tpm=15, weight=1e9), deployment(server, "openai/b", tpm=1000)],
        clock=clock,
    )
    estimate = ritellm.token_counter("openai/a", USER)
    a, b = router.groups["g"]
    mode.completion(router, "g")
    assert router.state.used([a.id]) == [(1, 5)]  # the answer's usage (5), not the estimate
    assert estimate != 5
    mode.completion(router, "g")
    assert router.state.used([a.id]) == [(2, 10)]
    assert estimate == 9
    mode.completion(router, "g")  # 10 + the estimate would pass 15: b takes it
    assert router.state.used([a.id, b.id]) == [(2, 10), (1, 5)]


def test_least_busy_spreads_100_calls_in_flight_evenly(mode: Mode, server: FakeServer) -> None:
    router = ritellm.Router(
        [deployment(server, "openai/a"), deployment(server, "openai/b")],
        routing_strategy="least-busy",
        seed=0,
    )
    hold_until(server, 100)
    results = run_many(mode, router, 100)
    assert not [r for r in results if isinstance(r, Exception)]
    assert models_asked(server).count("a") == models_asked(server).count("b") == 50


def test_simple_shuffle_follows_the_weights(server: FakeServer) -> None:
    router = ritellm.Router(
        [deployment(server, "openai/a", rpm=900), deployment(server, "openai/b", rpm=100)], seed=7
    )
    firsts = [router._ordered("g", None)[0][0].model for _ in range(2000)]
    assert 0.85 < firsts.count("openai/a") / 2000 < 0.95


def test_latency_based_prefers_the_faster_deployment(mode: Mode, server: FakeServer) -> None:
    router = ritellm.Router(
        [deployment(server, "openai/slow"), deployment(server, "openai/fast")],
        routing_strategy="latency-based",
        seed=0,
    )
    by_model(server, {"slow": lambda r: _delayed(0.2)})
    for _ in range(2):
        mode.completion(router, "g")
    assert sorted(models_asked(server)) == ["fast", "slow"]  # each tried once, unknown first
    server.requests.clear()
    for _ in range(3):
        mode.completion(router, "g")
    assert models_asked(server) == ["fast"] * 3


def _delayed(seconds: float) -> Reply:
    reply = Reply.json(
        {
            "id": "x",
            "object": "chat.completion",
            "created": 1,
            "model": "slow",
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}
            ],
        }
    )
    reply.delay = seconds
    return reply


def test_usage_based_prefers_the_least_used_deployment(mode: Mode, server: FakeServer) -> None:
    clock = Clock(1_000_020.0)
    router = ritellm.Router(
        [deployment(server, "openai/a", tpm=1000), deployment(server, "openai/b", tpm=1000)],
        routing_strategy="usage-based",
        clock=clock,
        seed=0,
    )
    a, b = router.groups["g"]
    router.state.reserve(a.id, 500, None, None)
    for _ in range(3):
        mode.completion(router, "g")
    assert models_asked(server) == ["b", "b", "b"]


# Other operations, per-call fallbacks, configuration


def test_embedding_and_responses_route_too(mode: Mode, server: FakeServer, events: list[Any]) -> None:
    router = ritellm.Router(
        [deployment(server, "openai/a", weight=1e9), deployment(server, "openai/b")], num_retries=0
    )

    def answer(recorded: Recorded) -> Reply:
        body = recorded.json()
        if body["model"] == "a":
            return error(500)
        if recorded.path.endswith("/embeddings"):
            data = [{"object": "embedding", "index": 0, "embedding": [0.5, 0.25]}]
            usage = {"prompt_tokens": 1, "total_tokens": 1}
            return Reply.json({"object": "list", "data": data, "model": "b", "usage": usage})
        return Reply.json(response("r", model="b", output=[message("m", output_text("hi"))]))

    server.answer = answer
    assert mode.call(router, "embedding", "g", "hello").data[0].embedding == [0.5, 0.25]
    assert events[-1].operation == "embedding" and events[-1].route == ("g[0]: InternalServerError",)
    assert mode.call(router, "responses", "g", "hello").output_text == "hi"
    assert events[-1].operation == "responses" and events[-1].deployment == "g[1]"


def test_per_call_fallbacks(mode: Mode, server: FakeServer, events: list[Any]) -> None:
    by_model(server, {"a": lambda r: error(500)})
    # Each fallback goes where its own entry says, with its own key: never the first model's.
    fallbacks: list[Any] = [
        {"model": "openai/b", "base_url": server.base_url, "api_key": "sk-b-key-0000"},
        {"model": "openai/b", "base_url": server.base_url, "api_key": "sk-c-key-0000"},
    ]

    def call() -> Any:
        options: dict[str, Any] = {
            "base_url": server.base_url,
            "api_key": "sk-first-key-0000",
            "num_retries": 0,
        }
        if mode.is_async:
            return asyncio.run(ritellm.acompletion("openai/a", USER, fallbacks=fallbacks, **options))
        return ritellm.completion("openai/a", USER, fallbacks=fallbacks, **options)

    assert call().model == "b"
    assert events[-1].route == ("openai/a[0]: InternalServerError", "fallback to fallback 1: openai/b")
    keys = [r.headers["authorization"] for r in server.requests]
    assert keys == ["Bearer sk-first-key-0000", "Bearer sk-b-key-0000"]  # num_retries=0: one try each
    # The same model with a backup key is tried second, in the order given.
    by_model(
        server,
        {
            "a": lambda r: error(500),
            "b": lambda r: error(503) if "sk-b" in r.headers["authorization"] else None,
        },
    )
    server.requests.clear()
    assert call().model == "b"
    keys = [r.headers["authorization"] for r in server.requests]
    assert keys == ["Bearer sk-first-key-0000", "Bearer sk-b-key-0000", "Bearer sk-c-key-0000"]


def test_the_configuration_is_checked_when_the_router_is_made(server: FakeServer) -> None:
    with pytest.raises(ritellm.InvalidRequestError, match="not in the model_list"):
        ritellm.Router([deployment(server, "openai/a")], fallbacks=[{"g": ["nowhere"]}])
    with pytest.raises(ritellm.InvalidRequestError, match="routing_strategy"):
        ritellm.Router([deployment(server, "openai/a")], routing_strategy="fastest")
    with pytest.raises(ritellm.InvalidRequestError, match="litellm_params"):
        ritellm.Router([{"model_name": "g"}])
    router = ritellm.Router([deployment(server, "openai/a")])
    with pytest.raises(ritellm.InvalidRequestError, match="no model_name 'h'"):
        router.completion("h", USER)
    # rpm and tpm inside litellm_params are the router's, never sent
    router = ritellm.Router([deployment(server, "openai/a", rpm=5, tpm=500)])
    router.completion("g", USER)
    assert "rpm" not in server.requests[0].json() and router.groups["g"][0].rpm == 5


def test_the_verdicts_come_from_classes_alone() -> None:
    assert _router.verdict(ritellm.OverloadedError("x")) == _router.MOVE_ON
    assert _router.verdict(ritellm.APITimeoutError("x")) == _router.MOVE_ON
    assert _router.verdict(ritellm.ContextWindowExceededError("anything")) == _router.CONTEXT_WINDOW
    assert _router.verdict(ritellm.ContentPolicyError("x")) == _router.CONTENT_POLICY
    assert _router.verdict(ritellm.NotFoundError("x")) == _router.CONFIGURATION
    assert _router.verdict(ritellm.BadRequestError("maximum context length")) == _router.RAISE
    cut = ritellm.StreamInterruptedError("x")
    assert _router.verdict(cut) == _router.MOVE_ON
    cut.delivered_chunks = 1
    assert _router.verdict(cut) == _router.RAISE


# Redis


OTHER_PROCESS = """
import json, sys, ritellm
base_url, redis_url, now = sys.argv[1], sys.argv[2], float(sys.argv[3])
router = ritellm.Router(
    [
        {"model_name": "g", "litellm_params": {"model": "openai/a", "api_base": base_url}, "rpm": 3},
        {"model_name": "g", "litellm_params": {"model": "openai/b", "api_base": base_url}},
    ],
    routing_strategy="least-busy", redis_url=redis_url, timeout=1, num_retries=0, clock=lambda: now,
)
seen = []
ritellm.callbacks.append(seen.append)
outcomes = []
for _ in range(2):
    try:
        outcomes.append(router.completion("g", [{"role": "user", "content": "hi"}]).model)
    except Exception as exc:
        outcomes.append(type(exc).__name__)
        seen.extend(getattr(exc, "__notes__", []))
print(json.dumps({"outcomes": outcomes, "routes": [e if isinstance(e, str) else " ".join(e.route) for e in seen]}))
"""


def test_two_processes_share_cooldowns_and_rpm_through_redis(
    mode: Mode,
    server: FakeServer,
    redis_url: str,  # noqa: F811
) -> None:
    def entry(model: str, **extra: Any) -> dict[str, Any]:
        return {"model_name": "g", "litellm_params": {"model": model, "api_base": server.base_url}, **extra}

    b_first = entry("openai/b")
    b_first["litellm_params"]["weight"] = 1e12  # weights are not part of a deployment's identity
    # Both processes at one moment in the middle of a minute: rpm counts by the minute, and a
    # test that ran across a minute's end would see the count start again.
    now = time.time() // 60 * 60 + 30
    router = ritellm.Router(
        [entry("openai/a", rpm=3), b_first],
        redis_url=redis_url,
        num_retries=0,
        timeout=1,
        seed=0,
        clock=lambda: now,
    )
    # Here, b fails and cools down: the other process sees it cooling and sends nothing there.
    by_model(server, {"b": lambda r: error(429, headers={"retry-after": "50"})})
    results = [mode.completion(router, "g").model for _ in range(2)]
    assert results == ["a", "a"] and models_asked(server) == ["b", "a", "a"]
    done = subprocess.run(
        [sys.executable, "-c", OTHER_PROCESS, server.base_url, redis_url, repr(now)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    other = json.loads(done.stdout)
    # a had 2 of its 3 requests this minute here; the other process gets the third, then none.
    assert other["outcomes"] == ["a", "NoDeploymentAvailableError"]
    assert "g[1]: skipped, cooling down until" in other["routes"][-1]
    assert "g[0]: skipped, at its rpm/tpm limit this minute" in other["routes"][-1]
    assert models_asked(server).count("a") == 3


def test_a_redis_outage_degrades_to_local_state(
    mode: Mode, server: FakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    clock = Clock()
    router = ritellm.Router(
        [deployment(server, "openai/a")],
        redis_url=f"redis://127.0.0.1:{port}/0",
        allowed_fails=0,
        num_retries=0,
        clock=clock,
    )
    server.queue(error(500))
    with caplog.at_level(logging.WARNING, logger="ritellm"):
        with pytest.raises(ritellm.InternalServerError):
            mode.completion(router, "g")
        with pytest.raises(ritellm.NoDeploymentAvailableError):  # the cooldown, kept locally
            mode.completion(router, "g")
    warnings = [r for r in caplog.records if "Redis" in r.getMessage()]
    assert len(warnings) == 1 and "own state" in warnings[0].getMessage()


def test_the_routers_cache_is_the_cache_of_its_calls(
    mode: Mode, server: FakeServer, events: list[Any]
) -> None:
    router = ritellm.Router([deployment(server, "openai/a")], cache=ritellm.Cache())
    first = mode.completion(router, "g")
    again = mode.completion(router, "g")
    assert first == again and len(server.requests) == 1
    assert (events[-1].cache_hit, events[-1].deployment) == (True, "g[0]")
    ritellm.completion("openai/a", USER, base_url=server.base_url)  # ritellm.cache is not the router's
    assert len(server.requests) == 2


def test_a_trial_refused_by_the_rpm_limit_gives_its_slot_back(mode: Mode, server: FakeServer) -> None:
    clock = Clock()
    router = ritellm.Router(
        [deployment(server, "openai/a", rpm=1)], allowed_fails=0, num_retries=0, cooldown_time=5, clock=clock
    )
    router.sleep = lambda seconds: setattr(clock, "now", clock.now + seconds)

    async def asleep(seconds: float) -> None:
        clock.now += seconds

    router.asleep = asleep
    server.queue(error(500))
    with pytest.raises(ritellm.InternalServerError):
        mode.completion(router, "g")
    clock.now += 6  # the cooldown is over, but this minute's one request is spent: the trial waits
    assert mode.completion(router, "g").model == "a"
    clock.now += 120  # later on, healthy: no trial slot left claimed
    assert mode.completion(router, "g").model == "a"


def test_deployments_differing_in_any_setting_are_apart(server: FakeServer) -> None:
    east = {"model_name": "g", "litellm_params": {"model": "bedrock/m", "aws_region_name": "us-east-1"}}
    west = {"model_name": "g", "litellm_params": {"model": "bedrock/m", "aws_region_name": "us-west-2"}}
    a, b = ritellm.Router([east, west]).groups["g"]
    assert a.id != b.id  # each its own breaker and rpm count


def test_notes_on_errors_work_before_python_3_11() -> None:
    import ast
    from pathlib import Path

    source = (Path(_router.__file__)).read_text("utf-8")
    calls = [
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "add_note"
    ]
    assert calls == []  # BaseException.add_note is Python 3.11's; ritellm runs on 3.9
