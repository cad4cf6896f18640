"""Hostile input at the edges: servers that echo secrets back, in long messages a cut falls
into, in response headers, and as request signatures. Each on every transport."""

from __future__ import annotations

import json
import re
import zlib
from typing import Any

import pytest

import ritellm
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
