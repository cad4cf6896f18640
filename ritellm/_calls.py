"""The steps of a call that do no I/O, shared by the sync and async paths: assembling the
request through the core, adding the key, and reading a complete answer."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union

import httpx

from ._exceptions import APIError, InvalidRequestError, MissingAPIKeyError

if TYPE_CHECKING:
    from ._core import Core

TimeoutTypes = Union[None, float, httpx.Timeout]


def core() -> Core:
    """This thread's core instance. Imported on first use so that ``import ritellm`` loads
    neither wasmtime nor the module."""
    from ._core import core as this_threads_core

    return this_threads_core()


@dataclass(frozen=True)
class Prepared:
    """One call's HTTP request, as the core assembled it, with the key added."""

    provider: str
    model: str
    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    context: bytes
    timeout: TimeoutTypes


def prepare(
    model: str,
    messages: Any,
    *,
    stream: bool,
    base_url: str | None,
    additional_params: Any,
    api_key: str | None,
    timeout: TimeoutTypes,
    extra_headers: Mapping[str, str] | None,
    api_version: str | None = None,
    params: Mapping[str, Any],
) -> Prepared:
    """Validates the call and assembles its request; raises before any I/O."""
    instance = core()
    call = {
        "model": model,
        "messages": messages,
        "stream": stream,
        "base_url": base_url,
        "params": {name: value for name, value in params.items() if value is not None},
        "additional_params": additional_params,
        "api_version": api_version,
        "created": int(time.time()),
        "env": {name: value for name in instance.config_env if (value := os.environ.get(name)) is not None},
    }
    try:
        encoded = json.dumps(call, allow_nan=False).encode()
    except (TypeError, ValueError) as exc:
        raise InvalidRequestError(f"the call cannot be sent as JSON: {exc}") from exc
    head, body = instance.prepare(encoded)
    headers: dict[str, str] = head["headers"]
    auth = head["auth"]
    if auth is not None:
        key = api_key or os.environ.get(auth["env"])
        if key:
            headers[auth["header"]] = auth["prefix"] + key
        elif auth["required"]:
            raise MissingAPIKeyError(
                f"{head['provider']}/ needs an API key: set {auth['env']} or pass api_key="
            )
    if extra_headers:
        headers.update(extra_headers)
    return Prepared(
        provider=head["provider"],
        model=head["model"],
        method=head["method"],
        url=head["url"],
        headers=headers,
        body=body,
        context=head["context"].encode(),
        timeout=timeout,
    )


REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-goog-request-id", "apim-request-id")


def request_id(headers: httpx.Headers) -> str | None:
    """The provider's id for the request, from whichever header it uses."""
    for name in REQUEST_ID_HEADERS:
        value: str | None = headers.get(name)
        if value:
            return value
    return None


def answer(prepared: Prepared, response: httpx.Response) -> dict[str, Any]:
    """Translates a read response into a chat.completion, or raises the provider's error."""
    try:
        return core().parse(prepared.context, response.status_code, response.content)
    except APIError as exc:
        exc.request_id = request_id(response.headers)
        raise
