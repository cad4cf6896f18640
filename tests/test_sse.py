"""The SSE and AWS event-stream conformance vectors (shared with the Rust and Node tests) through
the Python boundary."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ritellm import _instance
from ritellm._exceptions import LimitExceededError

VECTORS = json.loads((Path(__file__).parent / "fixtures" / "sse_vectors.json").read_text("utf-8"))
RAW_SSE = json.dumps({"protocol": "raw_sse"}).encode()


def decode(pieces: list[bytes]) -> list[dict[str, Any]]:
    decoder = _instance.core().open_stream(RAW_SSE)
    events: list[dict[str, Any]] = []
    for piece in pieces:
        batch = decoder.feed(piece)
        assert "error" not in batch
        events.extend(batch["chunks"])
    events.extend(decoder.finish()["chunks"])
    return events


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_whole_bytewise_and_split_everywhere(vector: dict[str, Any]) -> None:
    data = bytes(vector["input_bytes"]) if "input_bytes" in vector else vector["input"].encode()
    expected = vector["events"]
    assert decode([data]) == expected
    assert decode([data[i : i + 1] for i in range(len(data))]) == expected
    for cut in range(len(data) + 1):
        assert decode([data[:cut], data[cut:]]) == expected, cut


def test_limit_on_event_size() -> None:
    context = json.dumps({"protocol": "raw_sse", "limits": {"max_event_bytes": 100}}).encode()
    decoder = _instance.core().open_stream(context)
    batch = decoder.feed(b"data: " + b"x" * 200)
    assert isinstance(batch["error"], LimitExceededError)
    assert "max_event_bytes" in str(batch["error"])


EVENT_STREAM_VECTORS = json.loads(
    (Path(__file__).parent / "fixtures" / "eventstream_vectors.json").read_text("utf-8")
)["vectors"]
RAW_EVENT_STREAM = json.dumps({"protocol": "raw_event_stream"}).encode()


@pytest.mark.parametrize("vector", EVENT_STREAM_VECTORS, ids=[v["name"] for v in EVENT_STREAM_VECTORS])
def test_event_stream_vector_split_everywhere(vector: dict[str, Any]) -> None:
    data = bytes.fromhex(vector["input_hex"])
    for cut in range(len(data) + 1):
        decoder = _instance.core().open_stream(RAW_EVENT_STREAM)
        events: list[Any] = []
        error = None
        for piece in (data[:cut], data[cut:]):
            batch = decoder.feed(piece)
            events.extend(batch["chunks"])
            if "error" in batch:
                error = batch["error"]
                break
        decoder.close()
        assert events == vector.get("events", []), cut
        if "error" in vector:
            assert error is not None and vector["error"] in str(error), (cut, error)
        else:
            assert error is None, (cut, error)
