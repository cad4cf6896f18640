"""The steps of a call that do no I/O, shared by the sync and async paths: assembling the
request through the core, adding the key, and reading a complete answer."""

from __future__ import annotations

import json
import math
import os
import re
import sys
import time
import urllib.parse
from collections.abc import Callable, Hashable, Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple, NoReturn, Union

from . import _cloud
from ._exceptions import (
    APIError,
    InternalError,
    InvalidRequestError,
    InvalidResponseError,
    MissingAPIKeyError,
    RitellmError,
)
from ._limits import DEFAULT_LIMITS, Limits
from ._retries import DEFAULT_MAX_RETRIES, retry_after
from ._transports.base import Timeouts
from .types import ChatCompletion, ChatCompletionChunk

if TYPE_CHECKING:
    import httpx

    from ._core import Core

TimeoutTypes = Union[None, float, "httpx.Timeout"]

#: Like the official SDKs: a long read allowance for slow generations, a short connect.
DEFAULT_TIMEOUT = Timeouts(connect=5.0, read=600.0, write=600.0, pool=600.0)

#: Response headers that carry the provider's request id, most common first.
REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-goog-request-id", "apim-request-id")


def core_loaded() -> bool:
    """Whether wasmtime is imported and the module compiled, without importing anything."""
    # While another thread imports it, the module is in sys.modules half made: not loaded yet.
    loaded = getattr(sys.modules.get(f"{__package__}._core"), "loaded", None)
    return loaded is not None and bool(loaded())


def load_core() -> None:
    """Imports wasmtime and compiles the module: tens of milliseconds, best spent off an event loop."""
    from ._core import load

    load()


def core() -> Core:
    """This thread's core instance. Imported on first use so that ``import ritellm`` loads
    neither wasmtime nor the module."""
    from ._core import core as this_threads_core

    return this_threads_core()


class Prepared(NamedTuple):
    """One call's HTTP request, as the core assembled it, with the key added, and how to send it.

    A named tuple, not a dataclass: it is made on every call, and this is several times cheaper.
    """

    provider: str
    model: str
    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    context: bytes
    timeouts: Timeouts
    #: Seconds the whole call may take, retries included, however the server paces its bytes.
    deadline: float
    max_retries: int
    limits: Limits
    #: Credential header values, removed from every error message.
    secrets: tuple[str, ...]
    #: The core says a success answer needs no translation (see `answer`).
    passthrough: bool
    #: Credentials options for providers the host authorizes itself (see `_cloud.authorize`).
    cloud: Mapping[str, Any] = MappingProxyType({})
    #: Signs each attempt (method, URL, headers, body -> headers), for providers that sign.
    sign: Callable[[str, str, Mapping[str, str], bytes], dict[str, str]] | None = None

    def __repr__(self) -> str:  # leaves out headers and body, which hold the key
        return f"Prepared({self.method} {self.url}, provider={self.provider!r}, model={self.model!r})"


_BAD_IN_NAME = re.compile(r"[\r\n\0:]|^\s|\s$|^$")
_BAD_IN_VALUE = re.compile(r"[\r\n\0]|^\s|\s$")


def has_credentials(url: str) -> bool:
    """Whether ``url`` has a user name or password before its host."""
    if "@" not in url:
        return False
    parts = urllib.parse.urlsplit(url)
    return parts.username is not None or parts.password is not None


def _check_header(name: str, value: str, what: str) -> None:
    """Refuses header names and values that would split or smuggle a request line. The message
    names the header, never its value."""
    if _BAD_IN_NAME.search(name):
        raise InvalidRequestError(f"{what}: {name!r} is not a valid header name")
    if _BAD_IN_VALUE.search(value):
        raise InvalidRequestError(
            f"{what}: the value of header {name!r} has a line break, NUL or surrounding whitespace"
        )


def _timeouts(timeout: Any) -> tuple[Timeouts, float]:
    """The per-phase timeouts of ``timeout`` (seconds, or an ``httpx.Timeout``; httpx is not
    imported for it), and the deadline of a whole call: the longest of its phases."""
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout > 0:
        timeouts = Timeouts(*[float(timeout)] * 4)
    elif all(hasattr(timeout, phase) for phase in Timeouts._fields):
        timeouts = Timeouts(*(getattr(timeout, phase) for phase in Timeouts._fields))
    else:
        raise InvalidRequestError(
            f"timeout must be a number of seconds above 0 or an httpx.Timeout, got {timeout!r}"
        )
    return timeouts, max((t for t in timeouts if t is not None), default=math.inf)


_DEFAULT_TIMEOUTS = _timeouts(DEFAULT_TIMEOUT)
#: Made once: ``json.dumps`` with any non-default option makes a new encoder on every call.
_ENCODER = json.JSONEncoder(allow_nan=False, separators=(",", ":"))


#: Calls alike (everything but the messages the same) of a provider whose body holds the
#: messages as given: the core's head, and the body before and after the messages. Saves the
#: core a crossing per call; the core says when a body allows it (its ``messages_slot``).
_templates: dict[Hashable, tuple[dict[str, Any], bytes, bytes]] = {}
TEMPLATES_KEPT = 256
#: The messages in a template's slot: as the core would write them (UTF-8, no NaN).
_MESSAGES_ENCODER = json.JSONEncoder(allow_nan=False, ensure_ascii=False, separators=(",", ":"))


def _shape(
    model: Any,
    stream: bool,
    base_url: Any,
    additional_params: Any,
    api_version: Any,
    params: dict[str, Any],
    limits: Limits,
    env: dict[str, str],
    drop_params: bool,
) -> Hashable | None:
    """What makes two calls alike, as a key for ``_templates``; None when it cannot be told
    cheaply (the core then prepares the call)."""
    try:
        extra = (
            additional_params
            if isinstance(additional_params, str) or additional_params is None
            else _ENCODER.encode(additional_params)
        )
        shape = (
            model,
            stream,
            base_url,
            extra,
            api_version,
            _ENCODER.encode(params) if params else "",
            limits,
            tuple(env.items()),
            drop_params,
        )
        hash(shape)
    except (TypeError, ValueError):
        return None
    return shape


def _from_template(
    template: tuple[dict[str, Any], bytes, bytes] | None, messages: Any
) -> tuple[dict[str, Any], bytes] | None:
    """The head and body of a call alike ``template``'s, with ``messages``; None when the core
    must check the messages itself (they are not a list of objects, or not JSON)."""
    if template is None or type(messages) is not list or not all(type(m) is dict for m in messages):
        return None
    head, before, after = template
    try:
        return head, before + _MESSAGES_ENCODER.encode(messages).encode() + after
    except (TypeError, ValueError):
        return None


#: LiteLLM's client-side options that ritellm has no equivalent for. Sent as body fields they
#: would reach the provider (or make real calls where a test meant a mock), so they are
#: refused by name instead.
LITELLM_ONLY = frozenset(
    {
        "fallbacks",
        "context_window_fallback_dict",
        "caching",
        "cache",
        "custom_llm_provider",
        "model_list",
        "deployment_id",
        "input_cost_per_token",
        "output_cost_per_token",
        "input_cost_per_second",
        "output_cost_per_second",
        "logger_fn",
        "litellm_logging_obj",
        "litellm_call_id",
        "litellm_trace_id",
        "litellm_metadata",
        "mock_tool_calls",
        "mock_timeout",
        "mock_delay",
        "max_budget",
        "budget_duration",
        "retry_policy",
        "cooldown_time",
        "client",
        "proxy_server_request",
        "no-log",
        "use_litellm_proxy",
        "base_model",
        "hf_model_name",
        "eos_token",
        "initial_prompt_value",
        "roles",
        "final_prompt_value",
        "bos_token",
        "tpm",
        "rpm",
        "request_timeout",
    }
)
#: LiteLLM's options with a meaning here.
LITELLM_HONOURED = frozenset({"api_base", "num_retries", "drop_params", "mock_response"})
_LITELLM_NAMES = LITELLM_ONLY | LITELLM_HONOURED
#: What ritellm says instead, where it has its own way.
_INSTEAD = {
    "request_timeout": "timeout=",
    "custom_llm_provider": "the model's prefix, openai/... or anthropic/...",
    "fallbacks": "catch the error and call again",
    "context_window_fallback_dict": "catch ContextWindowExceededError",
}


def _litellm_options(
    model: Any, base_url: str | None, max_retries: int, params: Mapping[str, Any]
) -> tuple[Any, str | None, int, Mapping[str, Any], bool]:
    """LiteLLM's options with their LiteLLM meaning: ``api_base``, ``num_retries``,
    ``drop_params``, ``mock_response``; its other client-side options refused by name.
    Returns the call's model, base URL, retries, body parameters and ``drop_params``."""
    if _LITELLM_NAMES.isdisjoint(params):  # the usual call: nothing to copy or take out
        return model, base_url, max_retries, params, False
    params = dict(params)
    refused = sorted(LITELLM_ONLY.intersection(params))
    if refused:
        hints = [f"{name} (instead: {_INSTEAD[name]})" if name in _INSTEAD else name for name in refused]
        raise InvalidRequestError(
            f"{', '.join(hints)}: LiteLLM option{'s' if len(refused) > 1 else ''} that ritellm does not "
            "have; nothing was sent. Provider-specific fields go in additional_params"
        )
    api_base = params.pop("api_base", None)
    if api_base is not None:
        if base_url is not None and base_url != api_base:
            raise InvalidRequestError("base_url and api_base (its LiteLLM name) disagree: give one")
        base_url = api_base
    num_retries = params.pop("num_retries", None)
    if num_retries is not None:
        max_retries = num_retries
    drop_params = bool(params.pop("drop_params", False))
    mock_response = params.pop("mock_response", None)
    if isinstance(mock_response, BaseException):
        raise mock_response
    if mock_response is not None:
        if not isinstance(mock_response, str):
            raise InvalidRequestError(
                f"mock_response must be a string or an exception, got {type(mock_response).__name__}"
            )
        prefix, _, name = model.partition("/") if isinstance(model, str) else ("", "", "")
        if prefix in core().config_env:  # an unknown prefix is still refused as such
            model, base_url = f"mock/{name}", None
            params["mock_response"] = mock_response
    return model, base_url, max_retries, params, drop_params


def _response_format(value: Any) -> Any:
    """``response_format=`` as people write it: a Pydantic model class (or anything with
    ``model_json_schema()``) becomes OpenAI's strict ``json_schema`` form; anything else is sent
    as given. Pydantic itself is not needed by ritellm."""
    schema_of = getattr(value, "model_json_schema", None)
    if not callable(schema_of):
        return value
    return {
        "type": "json_schema",
        "json_schema": {
            "name": getattr(value, "__name__", type(value).__name__),
            "schema": _strict(schema_of()),
            "strict": True,
        },
    }


def _strict(schema: Any) -> Any:
    """A JSON schema as OpenAI's strict mode takes it: every object closed
    (``additionalProperties: false``) with all its properties required (an optional field stays
    optional by being nullable), and no ``default`` of None."""
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    strict = {
        key: _strict(value) for key, value in schema.items() if not (key == "default" and value is None)
    }
    if strict.get("type") == "object" and isinstance(strict.get("properties"), dict):
        strict["additionalProperties"] = False
        strict["required"] = list(strict["properties"])
    return strict


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
    max_retries: int = DEFAULT_MAX_RETRIES,
    limits: Limits | None = None,
    params: Mapping[str, Any],
) -> Prepared:
    """Validates the call and assembles its request; raises before any I/O."""
    model, base_url, max_retries, params, drop_params = _litellm_options(model, base_url, max_retries, params)
    if not isinstance(max_retries, int) or max_retries < 0:
        raise InvalidRequestError(f"max_retries must be a whole number of at least 0, got {max_retries!r}")
    limits = limits or DEFAULT_LIMITS
    if not isinstance(messages, (list, str, bytes, Mapping)) and isinstance(messages, Iterable):
        messages = list(messages)  # a tuple, a generator: sent as the JSON array it stands for
    instance = core()
    params = {name: value for name, value in params.items() if value is not None}
    if "response_format" in params:
        params["response_format"] = _response_format(params["response_format"])
    prefix = model.partition("/")[0] if isinstance(model, str) else ""
    env = {
        name: value
        for name in instance.config_env.get(prefix, ())
        if (value := os.environ.get(name)) is not None
    }
    params, env, cloud = _cloud.settings(prefix, params, env)
    shape = _shape(model, stream, base_url, additional_params, api_version, params, limits, env, drop_params)
    assembled = _from_template(_templates.get(shape), messages) if shape is not None else None
    if assembled is not None:
        head, body = assembled
    else:
        # Fields at their defaults are left out: the core reads less.
        call: dict[str, Any] = {
            "model": model,
            "messages": messages,
            "stream": stream,
            "created": int(time.time()),
        }
        optional: dict[str, Any] = {
            "base_url": base_url,
            "additional_params": additional_params,
            "api_version": api_version,
            "params": params,
            "env": env,
        }
        call.update((name, value) for name, value in optional.items() if value is not None and value != {})
        if limits is not DEFAULT_LIMITS:
            call["limits"] = limits.for_core
        if drop_params:
            call["drop_params"] = True
        try:
            encoded = _ENCODER.encode(call).encode()
        except (TypeError, ValueError) as exc:
            raise InvalidRequestError(f"the call cannot be sent as JSON: {exc}") from exc
        head, body = instance.prepare(encoded)
        slot = head.get("messages_slot")
        if slot is not None and shape is not None:
            if len(_templates) >= TEMPLATES_KEPT:
                _templates.clear()
            _templates[shape] = (head, body[: slot[0]], body[slot[1] :])
    headers: dict[str, str] = dict(head["headers"])  # the head is shared by calls alike
    secrets: tuple[str, ...] = ()
    auth = head["auth"]
    if auth is not None:
        key = api_key or os.environ.get(auth["env"])
        if key:
            _check_header(auth["header"], key, "the API key from " + ("api_key" if api_key else auth["env"]))
            headers[auth["header"]] = auth["prefix"] + key
            secrets = (key,)
        elif auth["required"]:
            raise MissingAPIKeyError(
                f"{head['provider']}/ needs an API key: set {auth['env']} or pass api_key="
            )
    for name, value in (extra_headers or {}).items():
        _check_header(name, value, "extra_headers")
        headers[name] = value
    if has_credentials(head["url"]):
        raise InvalidRequestError(
            "the URL carries a user name or password, which ritellm does not send (and would show in "
            "errors): give credentials as api_key= or extra_headers="
        )
    timeouts, deadline = _DEFAULT_TIMEOUTS if timeout is None else _timeouts(timeout)
    return Prepared(
        provider=head["provider"],
        model=head["model"],
        method=head["method"],
        url=head["url"],
        headers=headers,
        body=body,
        context=head["context"],
        timeouts=timeouts,
        deadline=deadline,
        max_retries=max_retries,
        limits=limits,
        secrets=secrets,
        passthrough=head["passthrough"],
        cloud=cloud,
    )


def request_id(headers: Mapping[str, str]) -> str | None:
    """The provider's id for the request, from whichever header it uses."""
    for name in REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return value
    return None


def annotated(
    exc: RitellmError, prepared: Prepared, headers: Mapping[str, str] | None = None
) -> RitellmError:
    """Adds what the response headers say to an error, and removes the call's secrets from it."""
    if isinstance(exc, APIError) and headers is not None:
        exc.request_id = request_id(headers)
        exc.retry_after = retry_after(headers)
    exc.redact(prepared.secrets)
    return exc


def raise_error(prepared: Prepared, status: int, headers: Mapping[str, str], body: bytes) -> NoReturn:
    """Raises the provider's error for an error answer."""
    answer(prepared, status, headers, body)
    raise InternalError(f"the core accepted an answer with HTTP status {status}")


def is_event_stream(headers: Mapping[str, str]) -> bool:
    """Whether an answer to a stream request can be an event stream: not JSON, not a web page,
    not empty. (Servers that stream under another content type still stream.)"""
    content_type = headers.get("content-type", "").lower()
    return not ("json" in content_type or "html" in content_type or headers.get("content-length") == "0")


def answer_as_chunks(
    prepared: Prepared, status: int, headers: Mapping[str, str], body: bytes
) -> list[ChatCompletionChunk]:
    """A stream request answered with a complete answer instead (proxies do this): its chunk,
    the error it reports, or an error that shows what arrived."""
    try:
        completion = answer(prepared, status, headers, body)
    except InvalidResponseError:
        shown = body[:200].decode("utf-8", "replace")
        error = InvalidResponseError(
            f"the stream request was answered with {headers.get('content-type') or 'no content type'}, "
            f"not an event stream: {shown!r}"
        )
        raise annotated(error, prepared) from None
    choices = []
    for choice in completion.get("choices") or []:
        delta = dict(choice.get("message") or {})
        if delta.get("tool_calls"):
            delta["tool_calls"] = [{"index": i, **call} for i, call in enumerate(delta["tool_calls"])]
        choices.append(
            {
                "index": choice.get("index", 0),
                "delta": delta,
                "logprobs": choice.get("logprobs"),
                "finish_reason": choice.get("finish_reason"),
            }
        )
    return [ChatCompletionChunk(completion, object="chat.completion.chunk", choices=choices)]


def answer(prepared: Prepared, status: int, headers: Mapping[str, str], body: bytes) -> ChatCompletion:
    """Translates a complete answer into a chat.completion, or raises the provider's error.

    Read as streams are: bytes that are not UTF-8 become U+FFFD, and Python's ``json`` decides
    what is valid JSON (so ``NaN`` and a lone surrogate escape read the same either way).
    """
    try:
        text = body.decode()
    except UnicodeDecodeError:
        text = body.decode("utf-8", "replace")
        body = text.encode()
    # Already a chat.completion: parsing it here saves a crossing into the core, which would
    # hand back these same bytes. Only an answer with more brackets than max_depth could nest
    # too deep: those, and anything unusual, go to the core, which checks and says what is wrong.
    if (
        prepared.passthrough
        and 200 <= status < 300
        and body.count(b"{") + body.count(b"[") <= prepared.limits.max_depth
    ):
        try:
            result = json.loads(text)
        except (ValueError, RecursionError):
            result = None
        if isinstance(result, dict) and result.get("error") is None:
            return ChatCompletion(result)
    try:
        return ChatCompletion(core().parse(prepared.context, status, body))
    except RitellmError as exc:
        raise annotated(exc, prepared, headers) from None
