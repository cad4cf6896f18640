"""bedrock/ (Converse, SigV4, AWS's event-stream framing) and vertex_ai/ (Gemini and Claude on
Google Cloud, OAuth2 tokens), against loopback servers speaking their wire formats, and the
OpenAI-compatible rows that build their URL from a setting."""

from __future__ import annotations

import datetime
import json
import struct
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest

import ritellm
from ritellm import _aws, _models, _prepare
from tests.conftest import Caller
from tests.server import FakeServer, Recorded, Reply

USER = [{"role": "user", "content": "What is the weather in Rome?"}]
MODEL_ID = "anthropic.claude-3-5-sonnet-20240620-v1:0"
ARN = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-sonnet-20240620-v1:0"
KEY_ID, SECRET = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def prepare(model: str, **params: Any) -> _models.Prepared:
    """The request a call would send, without sending it."""
    options: dict[str, Any] = {"base_url": None, "additional_params": None, "api_key": None}
    return _prepare.prepare(
        model, USER, stream=False, timeout=None, extra_headers=None, params=params, **options
    )


def root(server: FakeServer) -> str:
    return server.base_url.removesuffix("/v1")


# SigV4 -------------------------------------------------------------------------------------


def botocore_signed(url: str, headers: dict[str, str], body: bytes, token: str | None) -> tuple[str, str]:
    """botocore's own signature of the same request: its Authorization and X-Amz-Date."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method="POST", url=url, data=body, headers=dict(headers))
    SigV4Auth(Credentials(KEY_ID, SECRET, token), "bedrock", "us-east-1").add_auth(request)
    return request.headers["Authorization"], request.headers["X-Amz-Date"]


@pytest.mark.parametrize("token", [None, "FwoGZXIvYXdzEJr//////////session+token="])
@pytest.mark.parametrize("model", [MODEL_ID, ARN])
def test_sigv4_matches_botocore(token: str | None, model: str) -> None:
    pytest.importorskip("botocore")
    from urllib.parse import quote

    url = f"https://bedrock-runtime.us-east-1.amazonaws.com/model/{quote(model, safe='')}/converse"
    headers = {"content-type": "application/json", "accept": "application/json"}
    body = json.dumps(
        {"messages": [{"role": "user", "content": [{"text": "Grüße, 東京 ✓"}]}]}, ensure_ascii=False
    )
    expected, stamp = botocore_signed(url, headers, body.encode(), token)
    now = datetime.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    signed = _aws.sign(
        "POST", url, headers, body.encode(), _aws.Credentials(KEY_ID, SECRET, token), "us-east-1", now
    )
    assert signed["authorization"] == expected
    assert signed["x-amz-date"] == stamp
    assert signed.get("x-amz-security-token") == token


# Bedrock over the wire ---------------------------------------------------------------------


def converse_answer(text: str = "Sunny.", tool: bool = False) -> dict[str, Any]:
    content: list[dict[str, Any]] = [{"text": text}]
    if tool:
        content.append({"toolUse": {"toolUseId": "tooluse_1", "name": "weather", "input": {"city": "Rome"}}})
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": "tool_use" if tool else "end_turn",
        "usage": {"inputTokens": 12, "outputTokens": 3, "totalTokens": 15},
        "metrics": {"latencyMs": 210},
    }


def frame(headers: dict[str, str], payload: bytes) -> bytes:
    """One message in AWS's event-stream framing (string headers)."""
    head = b"".join(
        bytes([len(name)]) + name.encode() + b"\x07" + struct.pack(">H", len(value)) + value.encode()
        for name, value in headers.items()
    )
    prelude = struct.pack(">II", 12 + len(head) + len(payload) + 4, len(head))
    message = prelude + struct.pack(">I", zlib.crc32(prelude)) + head + payload
    return message + struct.pack(">I", zlib.crc32(message))


def event(kind: str, payload: dict[str, Any]) -> bytes:
    headers = {":event-type": kind, ":content-type": "application/json", ":message-type": "event"}
    return frame(headers, json.dumps(payload).encode())


def converse_stream(*, exception: str | None = None) -> Reply:
    messages = [
        event("messageStart", {"role": "assistant"}),
        event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "Sunny "}}),
        event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "today."}}),
    ]
    if exception:
        payload = json.dumps({"message": "Too many requests, please wait before trying again."}).encode()
        messages.append(frame({":message-type": "exception", ":exception-type": exception}, payload))
    else:
        messages += [
            event("contentBlockStop", {"contentBlockIndex": 0}),
            event("messageStop", {"stopReason": "end_turn"}),
            event(
                "metadata",
                {"usage": {"inputTokens": 12, "outputTokens": 2, "totalTokens": 14}, "metrics": {}},
            ),
        ]
    return Reply(200, {"content-type": "application/vnd.amazon.eventstream"}, messages)


@pytest.fixture
def aws_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_REGION", "us-east-1")


def assert_signed_as_sent(
    recorded: Recorded, url: str, credentials: Any = None, region: str = "us-east-1"
) -> None:
    """The request arrived with the signature of what arrived (headers and body unchanged
    after signing), by ``credentials`` (default: the test keys); test_sigv4_matches_botocore
    shows the signer is botocore's."""
    credentials = credentials or _aws.Credentials(KEY_ID, SECRET, None)
    headers = {name: recorded.headers[name] for name in ("content-type", "accept")}
    stamp = recorded.headers["x-amz-date"]
    now = datetime.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    ours = _aws.sign("POST", url, headers, recorded.body, credentials, region, now)
    assert recorded.headers["authorization"] == ours["authorization"]
    assert f"Credential={credentials.access_key}/" in ours["authorization"]
    assert credentials.secret_key not in ours["authorization"]
    assert recorded.headers.get("x-amz-security-token") == credentials.token


def test_bedrock_complete_call_with_tools(caller: Caller, server: FakeServer, aws_keys: None) -> None:
    server.queue(Reply.json(converse_answer(tool=True)))
    tools = [{"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}}}]
    answer = caller.completion(f"bedrock/{MODEL_ID}", USER, base_url=root(server), tools=tools, max_tokens=50)
    message = answer.choices[0].message
    assert message.content == "Sunny."
    assert message.tool_calls[0].function.name == "weather"
    assert json.loads(message.tool_calls[0].function.arguments) == {"city": "Rome"}
    assert answer.choices[0].finish_reason == "tool_calls"
    assert answer.usage.total_tokens == 15 and answer.model == MODEL_ID
    recorded = server.requests[0]
    assert recorded.path == "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse"
    sent = recorded.json()
    assert sent["inferenceConfig"] == {"maxTokens": 50}
    assert sent["toolConfig"]["tools"][0]["toolSpec"]["name"] == "weather"
    assert_signed_as_sent(recorded, root(server) + recorded.path)


def test_bedrock_signs_each_attempt_a_redirect_included(
    caller: Caller, server: FakeServer, aws_keys: None
) -> None:
    moved = "/model/anthropic.claude-3-5-sonnet-20240620-v2%3A0/converse"
    server.queue(Reply(307, {"location": moved}, [b""]), Reply.json(converse_answer()))
    caller.completion(f"bedrock/{MODEL_ID}", USER, base_url=root(server))
    first, second = server.requests
    assert second.path == moved
    for recorded in (first, second):  # each signed for its own URL
        assert_signed_as_sent(recorded, root(server) + recorded.path)


def test_bedrock_stream_in_event_stream_framing(caller: Caller, server: FakeServer, aws_keys: None) -> None:
    server.queue(converse_stream())
    chunks = caller.stream(
        f"bedrock/{ARN}", USER, base_url=root(server), stream_options={"include_usage": True}
    )
    built = ritellm.stream_chunk_builder(chunks)
    assert built.choices[0].message.content == "Sunny today."
    assert built.choices[0].finish_reason == "stop"
    assert built.usage is not None and built.usage.total_tokens == 14
    assert server.requests[0].path.startswith(
        "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2F"
    )
    assert server.requests[0].path.endswith("/converse-stream")


def test_bedrock_parallel_tool_calls_complete_and_streamed_agree(
    caller: Caller, server: FakeServer, aws_keys: None
) -> None:
    calls = [("tooluse_1", "weather", {"city": "Rome"}), ("tooluse_2", "time", {"tz": "Europe/Rome"})]
    complete = {
        "output": {
            "message": {
                "role": "assistant",
                "content": [{"toolUse": {"toolUseId": i, "name": n, "input": a}} for i, n, a in calls],
            }
        },
        "stopReason": "tool_use",
        "usage": {"inputTokens": 12, "outputTokens": 9, "totalTokens": 21},
    }
    messages = [event("messageStart", {"role": "assistant"})]
    for index, (tool_id, name, arguments) in enumerate(calls):
        text = json.dumps(arguments)
        messages += [
            event(
                "contentBlockStart",
                {"contentBlockIndex": index, "start": {"toolUse": {"toolUseId": tool_id, "name": name}}},
            ),
            event(
                "contentBlockDelta", {"contentBlockIndex": index, "delta": {"toolUse": {"input": text[:5]}}}
            ),
            event(
                "contentBlockDelta", {"contentBlockIndex": index, "delta": {"toolUse": {"input": text[5:]}}}
            ),
            event("contentBlockStop", {"contentBlockIndex": index}),
        ]
    messages += [
        event("messageStop", {"stopReason": "tool_use"}),
        event("metadata", {"usage": complete["usage"], "metrics": {}}),
    ]
    server.queue(
        Reply.json(complete), Reply(200, {"content-type": "application/vnd.amazon.eventstream"}, messages)
    )
    answer = caller.completion(f"bedrock/{MODEL_ID}", USER, base_url=root(server))
    built = ritellm.stream_chunk_builder(
        caller.stream(
            f"bedrock/{MODEL_ID}", USER, base_url=root(server), stream_options={"include_usage": True}
        )
    )
    for result in (answer, built):
        tool_calls = result.choices[0].message.tool_calls
        assert tool_calls is not None
        assert [(c.id, c.function.name, json.loads(c.function.arguments or "")) for c in tool_calls] == calls
        assert result.choices[0].finish_reason == "tool_calls"
    assert built.usage == answer.usage


def test_a_bedrock_exception_mid_stream_raises_after_the_chunks(
    caller: Caller, server: FakeServer, aws_keys: None
) -> None:
    server.queue(converse_stream(exception="throttlingException"))
    chunks, error = caller.stream_until_error(f"bedrock/{MODEL_ID}", USER, base_url=root(server))
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "Sunny today."
    assert isinstance(error, ritellm.RateLimitError) and "Too many requests" in str(error)


@pytest.mark.parametrize(
    ("status", "error_type", "message", "expected"),
    [
        (
            400,
            "ValidationException",
            "Input is too long for requested model.",
            ritellm.ContextWindowExceededError,
        ),
        (400, "ValidationException", "The provided model identifier is invalid.", ritellm.BadRequestError),
        (
            403,
            "AccessDeniedException",
            "You don't have access to the model with the specified model ID.",
            ritellm.PermissionDeniedError,
        ),
        (
            429,
            "ThrottlingException",
            "Too many requests, please wait before trying again.",
            ritellm.RateLimitError,
        ),
        (
            503,
            "ServiceUnavailableException",
            "Bedrock is unable to process your request.",
            ritellm.ServiceUnavailableError,
        ),
    ],
)
def test_bedrock_errors_map_to_the_exception_classes(
    caller: Caller,
    server: FakeServer,
    aws_keys: None,
    status: int,
    error_type: str,
    message: str,
    expected: type,
) -> None:
    headers = {"x-amzn-errortype": f"{error_type}:http://internal.amazon.com/coral/com.amazon.bedrock/"}
    server.queue(*[Reply.json({"message": message}, status, headers)] * 3)
    with pytest.raises(expected, match=message[:20]) as raised:
        caller.completion(f"bedrock/{MODEL_ID}", USER, base_url=root(server), max_retries=0)
    assert SECRET not in repr(raised.value)


def test_bedrock_credentials_from_keywords_files_and_api_keys(
    server: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = root(server)
    with pytest.raises(ritellm.MissingAPIKeyError, match="needs AWS credentials"):
        ritellm.completion(f"bedrock/{MODEL_ID}", USER, base_url=base, aws_region_name="us-east-1")
    assert server.requests == []

    # A profile's files, with its region.
    (tmp_path / "credentials").write_text(
        "[work]\naws_access_key_id = AKIAWORK\naws_secret_access_key = worksecret\n"
    )
    (tmp_path / "config").write_text("[profile work]\nregion = eu-west-3\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_PROFILE", "work")
    server.queue(Reply.json(converse_answer()))
    ritellm.completion(f"bedrock/{MODEL_ID}", USER, base_url=base)
    assert "Credential=AKIAWORK/" in server.requests[-1].headers["authorization"]
    assert "/eu-west-3/bedrock/aws4_request" in server.requests[-1].headers["authorization"]

    # Keywords win, with a session token; the region keyword too.
    server.queue(Reply.json(converse_answer()))
    ritellm.completion(
        f"bedrock/{MODEL_ID}",
        USER,
        base_url=base,
        aws_access_key_id="AKIAKW",
        aws_secret_access_key="kwsecret",
        aws_session_token="kwtoken",
        aws_region_name="ap-south-1",
    )
    sent = server.requests[-1]
    assert (
        "Credential=AKIAKW/" in sent.headers["authorization"]
        and "/ap-south-1/" in sent.headers["authorization"]
    )
    assert sent.headers["x-amz-security-token"] == "kwtoken"
    assert not any(name.startswith("aws_") for name in sent.json())

    # A Bedrock API key is a bearer token: nothing is signed.
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "bedrock-api-key-0123456789")
    server.queue(Reply.json(converse_answer()))
    ritellm.completion(f"bedrock/{MODEL_ID}", USER, base_url=base)
    assert server.requests[-1].headers["authorization"] == "Bearer bedrock-api-key-0123456789"
    assert "x-amz-date" not in server.requests[-1].headers


@pytest.fixture
def own_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Makes a profile of the test's own, in a config file of its own, the one calls use
    (ritellm keeps botocore's credentials per profile name for the process): call it with the
    profile's settings; it returns the profile's name."""
    pytest.importorskip("botocore")

    def make(settings: str) -> str:
        name = f"ritellm-{tmp_path.name}"
        (tmp_path / "config").write_text(f"[profile {name}]\nregion = eu-west-1\n{settings}")
        monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
        monkeypatch.setenv("AWS_PROFILE", name)
        return name

    return make


PROCESS_CREDENTIALS = _aws.Credentials(
    "ASIAPROCESS0123", "process-secret-0123456789", "process-token-0123456789"
)


def test_bedrock_credentials_from_a_credential_process(
    caller: Caller, server: FakeServer, tmp_path: Path, own_profile: Any
) -> None:
    """``credential_process`` (aws-vault, SSO helpers) is botocore's to run: only its chain
    finds these."""
    script = tmp_path / "credentials.py"
    key, secret, token = PROCESS_CREDENTIALS
    assert token is not None
    issued = {"Version": 1, "AccessKeyId": key, "SecretAccessKey": secret, "SessionToken": token}
    script.write_text(f"import json\nprint(json.dumps({issued!r}))\n")
    own_profile(f"credential_process = {sys.executable} {script}\n")
    server.queue(Reply.json(converse_answer()))
    answer = caller.completion(f"bedrock/{MODEL_ID}", USER, base_url=root(server))
    assert answer.choices[0].message.content == "Sunny."
    recorded = server.requests[0]
    assert_signed_as_sent(recorded, root(server) + recorded.path, PROCESS_CREDENTIALS, "eu-west-1")
    # Credentials found here are secrets like a key: echoed back, they are redacted.
    server.queue(Reply.json({"message": f"The security token {token} is invalid."}, 403))
    with pytest.raises(ritellm.PermissionDeniedError) as raised:
        caller.completion(f"bedrock/{MODEL_ID}", USER, base_url=root(server), max_retries=0)
    assert token not in str(raised.value) and "[redacted]" in str(raised.value)


def test_bedrock_credentials_from_a_container_endpoint(
    caller: Caller, server: FakeServer, monkeypatch: pytest.MonkeyPatch, own_profile: Any
) -> None:
    """ECS and EKS Pod Identity hand out credentials at a local endpoint that botocore asks."""
    own_profile("")
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", root(server) + "/credentials")
    monkeypatch.setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "container-authorization-0123")
    issued = _aws.Credentials("ASIACONTAINER0123", "container-secret-0123456789", "container-token-0123")

    def answer(recorded: Recorded) -> Reply:
        if recorded.path == "/credentials":
            return Reply.json(
                {
                    "AccessKeyId": issued.access_key,
                    "SecretAccessKey": issued.secret_key,
                    "Token": issued.token,
                    "Expiration": "2099-01-01T00:00:00Z",
                }
            )
        return Reply.json(converse_answer())

    server.answer = answer
    assert caller.completion(f"bedrock/{MODEL_ID}", USER, base_url=root(server)).choices[0].message.content
    asked, call = server.requests
    assert (asked.method, asked.path) == ("GET", "/credentials")
    assert asked.headers["authorization"] == "container-authorization-0123"
    assert_signed_as_sent(call, root(server) + call.path, issued, "eu-west-1")


def test_bedrock_default_url_needs_a_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "bedrock-api-key-0123456789")
    with pytest.raises(ritellm.InvalidRequestError, match="AWS_REGION"):
        ritellm.completion(f"bedrock/{MODEL_ID}", USER)
    prepared = prepare(f"bedrock/{MODEL_ID}", aws_region_name="us-west-2")
    assert prepared.url == (
        "https://bedrock-runtime.us-west-2.amazonaws.com/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse"
    )


# Vertex AI -------------------------------------------------------------------------------


def gemini_answer(text: str) -> dict[str, Any]:
    return {
        "candidates": [
            {"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP", "index": 0}
        ],
        "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 2, "totalTokenCount": 7},
        "modelVersion": "gemini-2.5-flash",
    }


def test_vertex_gemini_with_a_token_and_project_settings(caller: Caller, server: FakeServer) -> None:
    server.queue(Reply.json(gemini_answer("Sunny.")))
    answer = caller.completion(
        "vertex_ai/gemini-2.5-flash",
        USER,
        base_url=root(server),
        api_key="ya29.token-0123456789",
        vertex_project="my-project",
        vertex_location="europe-west4",
    )
    assert answer.choices[0].message.content == "Sunny."
    recorded = server.requests[0]
    assert recorded.path == (
        "/v1/projects/my-project/locations/europe-west4/publishers/google/models/gemini-2.5-flash:generateContent"
    )
    assert recorded.headers["authorization"] == "Bearer ya29.token-0123456789"
    assert "vertex_project" not in recorded.json() and "contents" in recorded.json()


def test_vertex_claude_streams_through_raw_predict(
    caller: Caller, server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.wire_formats import anthropic_stream

    monkeypatch.setenv("VERTEXAI_ACCESS_TOKEN", "ya29.env-token-0123456789")
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "fallback-project")
    server.queue(anthropic_stream("text"))
    chunks = caller.stream("vertex_ai/claude-sonnet-4-5@20250929", USER, base_url=root(server))
    assert ritellm.stream_chunk_builder(chunks).choices[0].message.content
    recorded = server.requests[0]
    assert recorded.path == (
        "/v1/projects/fallback-project/locations/us-central1/publishers/anthropic/models/"
        "claude-sonnet-4-5@20250929:streamRawPredict"
    )
    sent = recorded.json()
    assert sent["anthropic_version"] == "vertex-2023-10-16" and "model" not in sent and sent["stream"] is True
    assert recorded.headers["authorization"] == "Bearer ya29.env-token-0123456789"


def test_vertex_needs_a_project(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERTEXAI_ACCESS_TOKEN", "ya29.env-token-0123456789")
    with pytest.raises(ritellm.InvalidRequestError, match="vertex_project="):
        ritellm.completion("vertex_ai/gemini-2.5-flash", USER)


def test_vertex_without_a_token_or_google_auth_says_what_to_do(
    server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "google.auth", None)  # as if google-auth were not installed
    monkeypatch.setattr("ritellm._google._credentials", None)
    with pytest.raises(ritellm.MissingAPIKeyError, match=r"ritellm\[vertex\]"):
        ritellm.completion("vertex_ai/gemini-2.5-flash", USER, base_url=root(server), vertex_project="p")
    assert server.requests == []


def service_account(tmp_path: Path, token_uri: str) -> Path:
    """A service-account key file whose token endpoint is the loopback server."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    path = tmp_path / "service-account.json"
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "adc-project",
                "private_key_id": "k1",
                "private_key": pem,
                "client_email": "ritellm-test@adc-project.iam.gserviceaccount.com",
                "client_id": "1",
                "token_uri": token_uri,
            }
        )
    )
    return path


@pytest.mark.parametrize("lifetime", [3600, 1])
def test_vertex_gets_and_refreshes_tokens_with_application_default_credentials(
    caller: Caller, server: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lifetime: int
) -> None:
    pytest.importorskip("google.auth")
    monkeypatch.setattr("ritellm._google._credentials", None)
    monkeypatch.setenv(
        "GOOGLE_APPLICATION_CREDENTIALS", str(service_account(tmp_path, root(server) + "/token"))
    )
    issued: list[str] = []

    def answer(recorded: Recorded) -> Reply | None:
        if recorded.path == "/token":
            issued.append(f"ya29.issued-{len(issued)}-0123456789")
            return Reply.json({"access_token": issued[-1], "expires_in": lifetime, "token_type": "Bearer"})
        return Reply.json(gemini_answer("ok"))

    server.answer = answer
    for _ in range(2):
        caller.completion("vertex_ai/gemini-2.5-flash", USER, base_url=root(server), vertex_project="p")
    calls = [r for r in server.requests if r.path != "/token"]
    assert (
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer" in server.requests[0].body.decode()
    )
    # A long-lived token is reused; one about to expire is refreshed before the next call.
    assert len(issued) == (1 if lifetime == 3600 else 2)
    assert calls[-1].headers["authorization"] == f"Bearer {issued[-1]}"


# OpenAI-compatible rows with a setting in their URL ---------------------------------------


def test_cloudflare_builds_its_url_from_the_account_id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_KEY", "cf-key-0123456789")
    with pytest.raises(ritellm.InvalidRequestError, match="CLOUDFLARE_ACCOUNT_ID"):
        ritellm.completion("cloudflare/@cf/meta/llama-3.1-8b-instruct", USER)
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "0123abcd")
    prepared = prepare("cloudflare/@cf/meta/llama-3.1-8b-instruct")
    assert prepared.url == "https://api.cloudflare.com/client/v4/accounts/0123abcd/ai/v1/chat/completions"
    assert prepared.headers["authorization"] == "Bearer cf-key-0123456789"
