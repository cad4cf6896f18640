"""Checks of ritellm inside Pyodide, run in Node (``node.mjs``) and in a page in Chromium
(``chromium.mjs``) against ritellm installed from its wheel. ``tests/test_pyodide.py`` starts
the loopback API they call and asserts on each check's outcome.

The API is scripted by model name (see ``tests/test_pyodide.py``): ``openai/unauthorized``
answers 401, ``openai/rate-limited`` 429 once, ``openai/cut`` drops its stream, ``openai/slow``
waits, ``openai/gzip`` compresses. Any ``/embeddings`` request gets the vectors of
:func:`vector_for` for its texts, and any ``/responses`` request OpenAI's stream of the text
``context["response_text"]``.
"""

from __future__ import annotations

import base64
import json
import math
import random
import struct
import sys
import time
import traceback
import zlib
from collections.abc import Awaitable
from typing import Any, Callable

import ritellm
from ritellm import _core

KEY = "sk-browser-check-0123456789"
HELLO = [{"role": "user", "content": "hello from Pyodide"}]

Check = Callable[[dict[str, Any]], Awaitable[None]]
CHECKS: dict[str, Check] = {}


def check(function: Check) -> Check:
    CHECKS[function.__name__] = function
    return function


def loopback(context: dict[str, Any], **options: Any) -> dict[str, Any]:
    return {"base_url": context["base_url"], "api_key": KEY, "max_retries": 0, **options}


async def streamed_text(stream: Any) -> str:
    parts: list[str] = []
    async for chunk in stream:
        assert chunk["object"] == "chat.completion.chunk", chunk
        parts.extend(choice["delta"].get("content") or "" for choice in chunk["choices"])
    return "".join(parts)


@check
async def mock_complete(context: dict[str, Any]) -> None:
    answer = await ritellm.acompletion("mock/echo", HELLO)
    assert answer["object"] == "chat.completion"
    assert answer["choices"][0]["message"]["content"] == "hello from Pyodide"


@check
async def mock_stream(context: dict[str, Any]) -> None:
    stream = await ritellm.acompletion("mock/echo", HELLO, stream=True)
    assert await streamed_text(stream) == "hello from Pyodide"


@check
async def loopback_complete(context: dict[str, Any]) -> None:
    answer = await ritellm.acompletion("openai/gpt-4o-mini", HELLO, **loopback(context))
    assert answer["choices"][0]["message"]["content"] == "echo: hello from Pyodide", answer
    assert answer["usage"]["total_tokens"] == 5


@check
async def loopback_stream(context: dict[str, Any]) -> None:
    stream = await ritellm.acompletion("openai/gpt-4o-mini", HELLO, stream=True, **loopback(context))
    assert await streamed_text(stream) == "echo: hello from Pyodide"


async def streamed_response(stream: Any) -> ritellm.Response:
    events = [event async for event in stream]
    assert events[0]["type"] == "response.created", events[0]
    assert events[-1]["type"] == "response.completed", events[-1]
    assert [event["sequence_number"] for event in events] == list(range(len(events)))
    return ritellm.response_from_events(events)


@check
async def responses_stream_natively(context: dict[str, Any]) -> None:
    stream = await ritellm.aresponses("openai/gpt-4.1", "hello", stream=True, **loopback(context))
    response = await streamed_response(stream)
    assert response.output_text == context["response_text"], response


@check
async def responses_stream_through_a_chat_api(context: dict[str, Any]) -> None:
    stream = await ritellm.aresponses("mock/echo", "hello from Pyodide", stream=True)
    response = await streamed_response(stream)
    assert response.output_text == "hello from Pyodide", response
    assert response.status == "completed"


@check
async def gzip_answer_decoded_once(context: dict[str, Any]) -> None:
    # fetch decodes the body itself; decoding it again would fail.
    answer = await ritellm.acompletion("openai/gzip", HELLO, **loopback(context))
    assert answer["choices"][0]["message"]["content"] == "echo: hello from Pyodide"


@check
async def authentication_error_is_typed_and_redacted(context: dict[str, Any]) -> None:
    try:
        await ritellm.acompletion("openai/unauthorized", HELLO, **loopback(context))
    except ritellm.AuthenticationError as error:
        assert error.status_code == 401
        assert "Incorrect API key provided" in str(error)
        assert KEY not in str(error) and KEY not in repr(vars(error))
        # Cross-origin, a browser shows x-request-id only when the server exposes it.
        assert error.request_id == (context["request_id"] and "req_browser_check"), error.request_id
    else:
        raise AssertionError("no AuthenticationError")


@check
async def an_echoed_key_cut_by_the_core_leaves_no_part_of_it(context: dict[str, Any]) -> None:
    try:
        await ritellm.acompletion("openai/echo-key", HELLO, **loopback(context))
    except ritellm.BadRequestError as error:
        shown = f"{error} {vars(error)!r}"
        assert "\u2026" in error.message and "Bearer [r" in shown, shown
        assert not [KEY[i : i + 7] for i in range(len(KEY) - 6) if KEY[i : i + 7] in shown], shown
    else:
        raise AssertionError("no BadRequestError")


@check
async def caller_headers_that_would_change_the_request_are_refused(context: dict[str, Any]) -> None:
    hostile = {"Transfer-Encoding": "chunked", "Host": "evil.example", "X A": "1", "X-Ok": "caf\u00e9"}
    for name, value in hostile.items():
        try:
            await ritellm.acompletion(
                "openai/gpt-4o-mini", HELLO, **loopback(context, extra_headers={name: value})
            )
        except ritellm.InvalidRequestError as error:
            assert "extra_headers" in str(error) and value not in str(error), error
        else:
            raise AssertionError(f"{name} was sent")


@check
async def rate_limit_is_retried_with_or_without_retry_after(context: dict[str, Any]) -> None:
    answer = await ritellm.acompletion("openai/rate-limited", HELLO, **loopback(context, max_retries=2))
    assert answer["choices"][0]["message"]["content"] == "echo: hello from Pyodide"


@check
async def cut_stream_is_an_interruption(context: dict[str, Any]) -> None:
    stream = await ritellm.acompletion("openai/cut", HELLO, stream=True, **loopback(context))
    chunks = []
    try:
        async for chunk in stream:
            chunks.append(chunk)
    except ritellm.StreamInterruptedError:
        pass
    else:
        raise AssertionError(f"no StreamInterruptedError after {chunks}")
    assert chunks and chunks[0]["choices"][0]["delta"]["role"] == "assistant"


@check
async def slow_answer_times_out(context: dict[str, Any]) -> None:
    started = time.monotonic()
    try:
        await ritellm.acompletion("openai/slow", HELLO, **loopback(context, timeout=0.5))
    except ritellm.APITimeoutError:
        assert time.monotonic() - started < 1.5
    else:
        raise AssertionError("no APITimeoutError")


@check
async def refused_connection_is_a_connection_error(context: dict[str, Any]) -> None:
    try:
        await ritellm.acompletion(
            "openai/gpt-4o-mini", HELLO, **loopback(context, base_url=context["closed_url"])
        )
    except ritellm.APIConnectionError as error:
        assert not isinstance(error, ritellm.APITimeoutError), error
        assert context["closed_url"] in str(error)
        if context["browser"]:  # which says why no more than this
            assert "does not allow calls from this page's origin" in str(error), error
    else:
        raise AssertionError("no APIConnectionError")


@check
async def unsupported_prefix_is_a_value_error(context: dict[str, Any]) -> None:
    try:
        await ritellm.acompletion("nosuch/model", HELLO)
    except ValueError as error:
        assert "nosuch" in str(error)
    else:
        raise AssertionError("no ValueError")


@check
async def sse_vectors_through_the_javascript_engine(context: dict[str, Any]) -> None:
    raw_sse = json.dumps({"protocol": "raw_sse"}).encode()

    def decode(pieces: list[bytes]) -> list[Any]:
        decoder = _core.core().open_stream(raw_sse)
        events: list[Any] = []
        for piece in pieces:
            batch = decoder.feed(piece)
            assert "error" not in batch, batch
            events.extend(batch["chunks"])
        events.extend(decoder.finish()["chunks"])
        return events

    assert type(_core.core()._instance).__name__ == "JavaScriptInstance"
    for vector in context["vectors"]:
        data = bytes(vector["input_bytes"]) if "input_bytes" in vector else vector["input"].encode()
        assert decode([data]) == vector["events"], vector["name"]
        for cut in range(len(data) + 1):
            assert decode([data[:cut], data[cut:]]) == vector["events"], (vector["name"], cut)


@check
async def memory_limit_holds_without_fuel(context: dict[str, Any]) -> None:
    # The module declares its own maximum, which the JavaScript engine enforces.
    core = _core.Core()
    try:
        core._call("ritellm_input", 0x7FFFFFFF)
    except ritellm.LimitExceededError as error:
        assert "memory limit" in str(error)
    else:
        raise AssertionError("no LimitExceededError")
    assert core.broken
    assert (await ritellm.acompletion("mock/echo", HELLO))["choices"][0]["message"]["content"]


@check
async def sync_calls(context: dict[str, Any]) -> None:
    """``context["sync"]`` lists how sync calls go out here: "jspi", "xhr" (a browser without
    JavaScript Promise Integration, made so by hiding it), or "none" where they must fail."""
    from ritellm._transports import fetch

    for way in context["sync"]:
        real = fetch.can_run_sync  # type: ignore[attr-defined]
        if way == "xhr":
            fetch.can_run_sync = lambda: False  # type: ignore[attr-defined]
        try:
            sync_round(context, way)
        finally:
            fetch.can_run_sync = real  # type: ignore[attr-defined]


def sync_round(context: dict[str, Any], way: str) -> None:
    assert ritellm.completion("mock/echo", HELLO)["choices"][0]["message"]["content"] == "hello from Pyodide"
    if way == "none":
        try:
            ritellm.completion("openai/gpt-4o-mini", HELLO, **loopback(context))
        except ritellm.UnsupportedPlatformError as error:
            assert "acompletion" in str(error)
        else:
            raise AssertionError("no UnsupportedPlatformError")
        return
    answer = ritellm.completion("openai/gpt-4o-mini", HELLO, **loopback(context))
    assert answer["choices"][0]["message"]["content"] == "echo: hello from Pyodide", way
    stream = ritellm.completion("openai/gpt-4o-mini", HELLO, stream=True, **loopback(context))
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in stream)
    assert text == "echo: hello from Pyodide", way
    try:
        ritellm.completion("openai/unauthorized", HELLO, **loopback(context))
    except ritellm.AuthenticationError:
        pass
    else:
        raise AssertionError(f"no AuthenticationError ({way})")


def f32(value: float) -> float:
    """``value`` rounded to the nearest float32, as a Python float."""
    result: float = struct.unpack("<f", struct.pack("<f", value))[0]
    return result


def vector_for(text: Any, dims: int) -> list[float]:
    """The vector the test servers give ``text`` (tests/embedding_formats.py answers with it;
    here because Pyodide has only this file): float32 values, different for each text and length."""
    rng = random.Random(zlib.crc32(json.dumps([text, dims]).encode()))
    return [f32(rng.uniform(-0.12, 0.12)) for _ in range(dims)]


@check
async def embedding_through_the_loopback_and_mock(context: dict[str, Any]) -> None:
    texts = ["hello from Pyodide", "\u6771\u4eac\u306e\u5929\u6c17"]
    options = {"base_url": context["base_url"], "api_key": KEY, "num_retries": 0}
    answer = await ritellm.aembedding("openai/text-embedding-3-small", texts, **options)
    assert answer["object"] == "list" and [item["index"] for item in answer["data"]] == [0, 1], answer
    expected = [vector_for(text, 8) for text in texts]
    assert [item["embedding"] for item in answer["data"]] == expected
    assert answer["usage"]["prompt_tokens"] > 0
    encoded = await ritellm.aembedding(
        "openai/text-embedding-3-small", texts, encoding_format="base64", **options
    )
    raw = [base64.b64decode(item["embedding"]) for item in encoded["data"]]
    assert [list(struct.unpack(f"<{len(r) // 4}f", r)) for r in raw] == expected
    mock = await ritellm.aembedding("mock/embedding", ["a", "b", "a"])
    first, second, again = (item["embedding"] for item in mock["data"])
    assert first == again != second and all(math.isfinite(x) for x in first)


def measure(calls: int = 2000) -> dict[str, float]:
    """Microseconds per sync mock ``completion``, per chunk of a mock stream of 200 words, and
    per mock ``embedding`` of 256 inputs into 1,536 dimensions (base64 from the core, decoded
    by the host, as a real provider's answer is): the same code on CPython and under Pyodide
    (bench/pyodide.py compares them)."""
    words = [{"role": "user", "content": " ".join(["word"] * 200)}]
    texts = [f"input number {i}, a sentence of a few words to embed" for i in range(256)]

    def timed(call: Callable[[], object], times: int) -> float:
        for _ in range(times // 10):
            call()
        started = time.perf_counter()
        for _ in range(times):
            call()
        return (time.perf_counter() - started) / times * 1e6

    return {
        "mock completion": timed(lambda: ritellm.completion("mock/echo", HELLO), calls),
        "mock stream, per chunk": timed(
            lambda: list(ritellm.completion("mock/echo", words, stream=True)), calls // 20
        )
        / 202,  # 200 words, the role chunk and the finish chunk
        "mock embedding, 256 x 1536": timed(
            lambda: ritellm.embedding("mock/embedding", texts, dimensions=1536), max(calls // 200, 5)
        ),
    }


async def main(context_json: str) -> str:
    """Runs every check, and measures if the context asks; returns JSON: {"checks": name ->
    "ok" or the failure's traceback, "costs_us": what :func:`measure` gives, or null}."""
    context = json.loads(context_json)
    outcomes = {}
    for name, function in CHECKS.items():
        print("check:", name, file=sys.stderr)  # where a hang is, if one ever hangs
        try:
            await function(context)
            outcomes[name] = "ok"
        except BaseException:
            outcomes[name] = traceback.format_exc()
    return json.dumps({"checks": outcomes, "costs_us": measure() if context.get("measure") else None})
