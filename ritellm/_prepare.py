"""Preparing a call, before any I/O: the options read, the request assembled by the core (or
from a template), the key and the caller's headers added and checked."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from . import _cloud, _templates
from ._exceptions import InvalidRequestError, MissingAPIKeyError
from ._instance import core
from ._limits import DEFAULT_LIMITS, Limits
from ._models import Prepared, has_credentials
from ._options import DEFAULT_TIMEOUTS, TimeoutTypes, litellm_options, response_format, timeouts
from ._retries import DEFAULT_MAX_RETRIES

if TYPE_CHECKING:
    from ._core import Core

#: RFC 9110's token: what a header name may be made of.
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
#: Visible ASCII with inner spaces and tabs: what every transport sends unchanged.
_HEADER_VALUE = re.compile(r"([\x21-\x7e]([\x20-\x7e\t]*[\x21-\x7e])?)?")
#: Headers that say how a request is framed, where it goes or how its connection behaves:
#: the transport writes them, and a caller's value would smuggle or misdirect the request.
TRANSPORT_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "proxy-connection",
        "upgrade",
        "te",
        "trailer",
        "expect",
    }
)
#: Made once: ``json.dumps`` with any non-default option makes a new encoder on every call.
_ENCODER = json.JSONEncoder(allow_nan=False, separators=(",", ":"))


def _check_header(name: str, value: str, what: str) -> None:
    """Refuses header names and values that would split or smuggle a request, or that some
    transport would send differently or refuse. The message names the header, never its value."""
    if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
        raise InvalidRequestError(f"{what}: {name!r} is not a valid header name")
    if not isinstance(value, str) or not _HEADER_VALUE.fullmatch(value):
        raise InvalidRequestError(
            f"{what}: the value of header {name!r} must be printable ASCII without line breaks, "
            "control characters or surrounding whitespace"
        )


class Settled(NamedTuple):
    """A call's options, settled (see `_settled`)."""

    model: Any
    base_url: str | None
    max_retries: int
    params: dict[str, Any]
    drop_params: bool
    #: The environment variables the core may read for this provider.
    env: dict[str, str]
    #: The cloud credentials options (see `_cloud.settings`).
    cloud: Mapping[str, Any]
    messages: Any
    #: LiteLLM's ``headers=``: HTTP headers, below ``extra_headers``.
    headers: Mapping[str, str] | None


def _settled(
    instance: Core,
    model: Any,
    messages: Any,
    base_url: str | None,
    max_retries: Any,
    params: Mapping[str, Any],
    operation: str,
) -> Settled:
    """The call's options settled: LiteLLM's read, nulls left out, the provider's settings from
    the environment."""
    model, base_url, max_retries, params, drop_params, headers = litellm_options(
        model, base_url, max_retries, params, instance.config_env
    )
    if not isinstance(max_retries, int) or max_retries < 0:
        raise InvalidRequestError(f"max_retries must be a whole number of at least 0, got {max_retries!r}")
    if not isinstance(messages, (list, str, bytes, Mapping)) and isinstance(messages, Iterable):
        messages = list(messages)  # a tuple, a generator: sent as the JSON array it stands for
    if operation == "embedding":
        # The mock provider makes its own vectors; mock_response only chose it.
        params = {name: value for name, value in params.items() if name != "mock_response"}
    params = {name: value for name, value in params.items() if value is not None}
    if "response_format" in params:
        params["response_format"] = response_format(params["response_format"])
    prefix = model.partition("/")[0] if isinstance(model, str) else ""
    env = {
        name: value
        for name in instance.config_env.get(prefix, ())
        if (value := os.environ.get(name)) is not None
    }
    params, env, cloud = _cloud.settings(prefix, params, env)
    return Settled(model, base_url, max_retries, params, drop_params, env, cloud, messages, headers)


def _call(
    model: Any,
    messages: Any,
    base_url: str | None,
    additional_params: Any,
    api_version: str | None,
    params: Mapping[str, Any],
    env: Mapping[str, str],
    drop_params: bool,
    operation: str,
) -> dict[str, Any]:
    """The call as the core reads it; fields at their defaults are left out: the core reads less."""
    call: dict[str, Any] = {
        "model": model,
        "input" if operation in ("embedding", "responses") else "messages": messages,
    }
    optional: dict[str, Any] = {
        "base_url": base_url,
        "additional_params": additional_params,
        "api_version": api_version,
        "params": params,
        "env": env,
    }
    call.update((name, value) for name, value in optional.items() if value is not None and value != {})
    if drop_params:
        call["drop_params"] = True
    if operation != "chat":
        call["operation"] = operation
    return call


def _encoded(call: dict[str, Any]) -> bytes:
    try:
        return _ENCODER.encode(call).encode()
    except (TypeError, ValueError) as exc:
        raise InvalidRequestError(f"the call cannot be sent as JSON: {exc}") from exc


#: Keys of recent calls, by the call's JSON: a call made again (a cache hit, usually) finds its
#: key without crossing into the core. Only calls of at most ``DIGEST_CALL_BYTES`` are kept.
_digests: dict[bytes, str] = {}
DIGESTS_KEPT = 256
DIGEST_CALL_BYTES = 16 << 10


def cache_key(
    model: str,
    messages: Any,
    *,
    base_url: str | None,
    additional_params: Any,
    api_version: str | None = None,
    params: Mapping[str, Any],
    operation: str = "chat",
) -> str:
    """The call's cache key: SHA-256, in hex, of the core's canonical text of what determines
    its answer (``Core.cache_material``). It holds neither key nor prompt; it does not change
    with ``api_key``, ``timeout``, retries, ``stream`` or headers. Raises what :func:`prepare`
    would for a malformed call, before any I/O."""
    instance = core()
    settled = _settled(instance, model, messages, base_url, DEFAULT_MAX_RETRIES, params, operation)
    encoded = _encoded(
        _call(
            settled.model,
            settled.messages,
            settled.base_url,
            additional_params,
            api_version,
            settled.params,
            settled.env,
            settled.drop_params,
            operation,
        )
    )
    digest = _digests.get(encoded)
    if digest is None:
        import hashlib  # here: loading OpenSSL's costs every import 2 ms, and only caching uses it

        digest = hashlib.sha256(instance.cache_material(encoded).encode()).hexdigest()
        if len(encoded) <= DIGEST_CALL_BYTES:
            if len(_digests) >= DIGESTS_KEPT:
                _digests.clear()
            _digests[encoded] = digest
    return digest


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
    operation: str = "chat",
    stored: Mapping[str, str] | None = None,
) -> Prepared:
    """Validates the call and assembles its request; raises before any I/O. ``messages`` is
    what the operation takes: a chat's messages, an embedding's list of inputs, a Responses
    call's input. ``stored`` (``{"action", "id"}``) makes a Responses call one on a stored
    response."""
    instance = core()
    model, base_url, max_retries, params, drop_params, env, cloud, messages, litellm_headers = _settled(
        instance, model, messages, base_url, max_retries, params, operation
    )
    limits = limits or DEFAULT_LIMITS
    chat = operation == "chat"
    shape = (
        _templates.shape(
            model, stream, base_url, additional_params, api_version, params, limits, env, drop_params
        )
        if chat
        else None
    )
    assembled = _templates.fill(shape, messages) if shape is not None else None
    if assembled is not None:
        head, body = assembled
    else:
        call = _call(
            model, messages, base_url, additional_params, api_version, params, env, drop_params, operation
        )
        call["stream"] = stream
        call["created"] = int(time.time())
        # Ids the core invents for answers that come without (Gemini's) derive from it, so they
        # are unique per call.
        call["nonce"] = os.urandom(8).hex()
        if limits is not DEFAULT_LIMITS:
            call["limits"] = limits.for_core
        if stored is not None:
            call["stored"] = stored
        head, body = instance.prepare(_encoded(call))
        if shape is not None:
            _templates.keep(shape, head, body)
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
    if litellm_headers:
        # extra_headers wins where both name a header, whatever the case of its name.
        named = {name.lower() for name in extra_headers or ()}
        kept = {name: value for name, value in litellm_headers.items() if name.lower() not in named}
        extra_headers = {**kept, **(extra_headers or {})}
    for name, value in (extra_headers or {}).items():
        _check_header(name, value, "extra_headers")
        if name.lower() in TRANSPORT_HEADERS:
            raise InvalidRequestError(
                f"extra_headers: {name!r} is written by the transport (it frames or routes the request) "
                "and cannot be set"
            )
        headers[name] = value
    if has_credentials(head["url"]):
        raise InvalidRequestError(
            "the URL carries a user name or password, which ritellm does not send (and would show in "
            "errors): give credentials as api_key= or extra_headers="
        )
    phases, deadline = DEFAULT_TIMEOUTS if timeout is None else timeouts(timeout)
    return Prepared(
        provider=head["provider"],
        model=head["model"],
        method=head["method"],
        url=head["url"],
        headers=headers,
        body=body,
        context=head["context"],
        timeouts=phases,
        deadline=deadline,
        max_retries=max_retries,
        limits=limits,
        secrets=secrets,
        passthrough=head["passthrough"],
        cloud=cloud,
        max_inputs=head.get("max_inputs", 0),
    )
