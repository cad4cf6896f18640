"""Random input at every entry point of the core, through the Python boundary: only typed
errors may come out, never a trap (InternalError), a hang or a crash."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ritellm import _core
from ritellm._engines import wasmtime as _wasmtime
from ritellm._exceptions import InternalError, LimitExceededError, RitellmError

FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)

PROTOCOLS = ["openai", "azure", "anthropic", "gemini", "raw_sse"]
contexts = st.builds(
    lambda protocol, usage, json_tool: json.dumps(
        {
            "protocol": protocol,
            "provider": "p",
            "model": "m",
            "created": 1,
            "include_usage": usage,
            "json_tool": json_tool,
        }
    ).encode(),
    st.sampled_from(PROTOCOLS),
    st.booleans(),
    st.none() | st.just("answer"),
)
prefixes = st.sampled_from(["openai", "anthropic", "gemini", "azure", "mock", "hosted_vllm", "nope", ""])


def typed_only(call: Any) -> None:
    """Runs ``call``; a raised error must be a typed, non-internal ritellm error."""
    try:
        call()
    except InternalError:
        raise
    except RitellmError:
        pass


def check_batch(batch: dict[str, Any]) -> None:
    assert isinstance(batch["chunks"], list) and isinstance(batch["done"], bool)
    assert all(isinstance(chunk, dict) for chunk in batch["chunks"])
    if "error" in batch:
        assert isinstance(batch["error"], RitellmError) and not isinstance(batch["error"], InternalError)


@FUZZ
@given(st.binary(max_size=3000))
def test_prepare_random_bytes(data: bytes) -> None:
    typed_only(lambda: _core.core().prepare(data))


@FUZZ
@given(
    prefixes, st.text(max_size=20), json_values, json_values, json_values, st.none() | st.text(max_size=30)
)
def test_prepare_random_calls(
    prefix: str, name: str, messages: Any, params: Any, extra: Any, base_url: str | None
) -> None:
    call = {
        "model": f"{prefix}/{name}",
        "messages": messages,
        "params": params if isinstance(params, dict) else {},
        "additional_params": extra,
        "base_url": base_url,
        "stream": bool(name),
    }
    typed_only(lambda: _core.core().prepare(json.dumps(call).encode()))


@FUZZ
@given(
    prefixes,
    st.lists(
        st.dictionaries(
            st.sampled_from(["role", "content", "tool_calls", "tool_call_id", "name"]),
            json_values,
            max_size=5,
        ),
        max_size=5,
    ),
    json_values,
)
def test_prepare_random_messages_for_every_protocol(prefix: str, messages: list[Any], tools: Any) -> None:
    call = {
        "model": f"{prefix}/m",
        "messages": messages,
        "base_url": "http://h/v1",
        "params": {"tools": tools, "tool_choice": tools, "response_format": tools},
    }
    typed_only(lambda: _core.core().prepare(json.dumps(call).encode()))


@FUZZ
@given(
    contexts,
    st.integers(0, 999),
    st.binary(max_size=2000) | json_values.map(lambda v: json.dumps(v).encode()),
)
def test_parse_random_answers(context: bytes, status: int, body: bytes) -> None:
    typed_only(lambda: _core.core().parse(context, status, body))


@FUZZ
@given(st.binary(max_size=300), st.integers(0, 999), st.binary(max_size=300))
def test_parse_random_contexts(context: bytes, status: int, body: bytes) -> None:
    typed_only(lambda: _core.core().parse(context, status, body))


def sse(events: list[tuple[str, Any]]) -> bytes:
    return b"".join(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode() for name, data in events)


ANTHROPIC_EVENTS = [
    "message_start",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
    "message_delta",
    "message_stop",
    "ping",
    "error",
]
event_data = st.fixed_dictionaries(
    {"type": st.sampled_from(ANTHROPIC_EVENTS)},
    optional={
        "index": st.integers(-3, 6),
        "delta": json_values,
        "content_block": json_values,
        "message": json_values,
        "usage": json_values,
        "candidates": json_values,
        "choices": json_values,
        "error": json_values,
    },
)
event_streams = st.lists(
    st.tuples(st.sampled_from([*ANTHROPIC_EVENTS, "message"]), event_data | json_values), max_size=8
).map(sse)


@FUZZ
@given(contexts, st.lists(st.binary(max_size=500) | event_streams, max_size=6), st.integers(1, 64))
def test_streams_take_random_bytes_and_events(context: bytes, pieces: list[bytes], cut: int) -> None:
    decoder = _core.core().open_stream(context)
    try:
        data = b"".join(pieces)
        for start in range(0, len(data), cut):
            batch = decoder.feed(data[start : start + cut])
            check_batch(batch)
            if "error" in batch or batch["done"]:
                break
        else:
            check_batch(decoder.finish())
    finally:
        decoder.close()


@FUZZ
@given(st.binary(max_size=2000) | json_values.map(lambda v: json.dumps(v).encode()))
def test_mock_random_requests(body: bytes) -> None:
    typed_only(lambda: _core.core().mock(body))


def test_work_is_bounded_by_fuel(monkeypatch: pytest.MonkeyPatch) -> None:
    call = json.dumps(
        {"model": "openai/m", "messages": [{"role": "user", "content": "x" * 100_000}]}
    ).encode()
    starved = _core.core()
    with monkeypatch.context() as patched:
        patched.setattr(_wasmtime, "FUEL_PER_CALL", 10_000)
        patched.setattr(_wasmtime, "FUEL_PER_BYTE", 0)
        starved._instance._calls_before_refill = 0  # type: ignore[attr-defined]  # refill now
        with pytest.raises(LimitExceededError, match="work limit"):
            starved.prepare(call)
    assert starved.broken
    head, _ = _core.core().prepare(call)  # a fresh instance, with the normal allowance
    assert head["provider"] == "openai"
