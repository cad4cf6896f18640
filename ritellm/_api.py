"""The public calls: :func:`completion` and :func:`embedding`, and their async twins."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal, overload

from . import _callbacks, _cloud, _embeddings, _instance, _pools, _transport
from ._answers import read
from ._limits import Limits
from ._options import TimeoutTypes
from ._prepare import prepare
from ._retries import DEFAULT_MAX_RETRIES
from ._streaming import AsyncStream, Stream
from .types import ChatCompletion, EmbeddingResponse, Provider

#: A list of openai's ChatCompletionMessageParam, of TypedDicts or of plain dicts all fit.
Messages = Iterable[Mapping[str, Any]]


@overload
def completion(
    model: str,
    messages: Messages,
    temperature: float | None = None,
    max_tokens: int | None = None,
    base_url: str | None = None,
    stream: Literal[False] = False,
    additional_params: str | None = None,
    *,
    api_key: str | None = None,
    timeout: TimeoutTypes = None,
    extra_headers: Mapping[str, str] | None = None,
    api_version: str | None = None,
    max_retries: int = DEFAULT_MAX_RETRIES,
    limits: Limits | None = None,
    **params: Any,
) -> ChatCompletion: ...


@overload
def completion(
    model: str,
    messages: Messages,
    temperature: float | None = None,
    max_tokens: int | None = None,
    base_url: str | None = None,
    *,
    stream: Literal[True],
    additional_params: str | None = None,
    api_key: str | None = None,
    timeout: TimeoutTypes = None,
    extra_headers: Mapping[str, str] | None = None,
    api_version: str | None = None,
    max_retries: int = DEFAULT_MAX_RETRIES,
    limits: Limits | None = None,
    **params: Any,
) -> Stream: ...


@overload
def completion(
    model: str,
    messages: Messages,
    temperature: float | None = None,
    max_tokens: int | None = None,
    base_url: str | None = None,
    stream: bool = False,
    additional_params: str | None = None,
    *,
    api_key: str | None = None,
    timeout: TimeoutTypes = None,
    extra_headers: Mapping[str, str] | None = None,
    api_version: str | None = None,
    max_retries: int = DEFAULT_MAX_RETRIES,
    limits: Limits | None = None,
    **params: Any,
) -> ChatCompletion | Stream: ...


def completion(
    model: str,
    messages: Messages,
    temperature: float | None = None,
    max_tokens: int | None = None,
    base_url: str | None = None,
    stream: bool = False,
    additional_params: str | None = None,
    *,
    api_key: str | None = None,
    timeout: TimeoutTypes = None,
    extra_headers: Mapping[str, str] | None = None,
    api_version: str | None = None,
    max_retries: int = DEFAULT_MAX_RETRIES,
    limits: Limits | None = None,
    **params: Any,
) -> ChatCompletion | Stream:
    """Sends a chat completion to the provider named by ``model``'s prefix.

    Args:
        model: ``"<provider>/<model>"``, for example ``"openai/gpt-4o-mini"``. The model part
            may contain slashes (``"openrouter/meta-llama/llama-3.1-70b"``).
        messages: OpenAI-style messages, sent as given.
        temperature, max_tokens: sent when not ``None``.
        base_url: the API base (``https://api.openai.com/v1``); ``/chat/completions`` is
            appended unless it is already there.
        stream: return a :class:`Stream` of chat.completion.chunk dicts.
        additional_params: a JSON object, as text, merged into the request body; its keys win.
        api_key: overrides the provider's environment variable (``OPENAI_API_KEY``, ...).
        timeout: seconds, or an ``httpx.Timeout``; default 600 s with a 5 s connect.
        extra_headers: added to the request's headers.
        api_version: for ``azure/``; default ``$AZURE_API_VERSION``, else a current GA version.
        max_retries: retries of a failed attempt (see ``ritellm._retries`` for which); default 2.
        limits: a :class:`Limits` with the answer size and nesting bounds.
        **params: any other body field (``top_p``, ``stop``, ``tools``, ``response_format``,
            ``stream_options``, ...), sent as given.

    Returns:
        A chat.completion dict, or with ``stream=True`` a :class:`Stream`.

    Raises:
        UnsupportedProviderError: (a ``ValueError``) the model has no known provider prefix.
        InvalidRequestError: (a ``ValueError``) the call is malformed; nothing was sent.
        MissingAPIKeyError: the provider needs a key and none was found.
        APIError: the provider failed the call; see the subclasses in ``ritellm``.
    """
    watch = _callbacks.watch(model, stream)
    try:
        prepared = prepare(
            model,
            messages,
            stream=stream,
            base_url=base_url,
            additional_params=additional_params,
            api_key=api_key,
            timeout=timeout,
            extra_headers=extra_headers,
            api_version=api_version,
            max_retries=max_retries,
            limits=limits,
            params={"temperature": temperature, "max_tokens": max_tokens, **params},
        )
        prepared = _cloud.authorize(prepared)
        sent = _transport.request(_pools.sync_pools(), prepared, stream=stream)
        if sent.body is None:
            return Stream(sent, watch)
        result = read(sent, ChatCompletion)
    except Exception as exc:
        if watch is not None:
            watch.end(exception=exc)
        raise
    if watch is not None:
        watch.answered(result, sent.attempts)
    return result


@overload
async def acompletion(
    model: str,
    messages: Messages,
    temperature: float | None = None,
    max_tokens: int | None = None,
    base_url: str | None = None,
    stream: Literal[False] = False,
    additional_params: str | None = None,
    *,
    api_key: str | None = None,
    timeout: TimeoutTypes = None,
    extra_headers: Mapping[str, str] | None = None,
    api_version: str | None = None,
    max_retries: int = DEFAULT_MAX_RETRIES,
    limits: Limits | None = None,
    **params: Any,
) -> ChatCompletion: ...


@overload
async def acompletion(
    model: str,
    messages: Messages,
    temperature: float | None = None,
    max_tokens: int | None = None,
    base_url: str | None = None,
    *,
    stream: Literal[True],
    additional_params: str | None = None,
    api_key: str | None = None,
    timeout: TimeoutTypes = None,
    extra_headers: Mapping[str, str] | None = None,
    api_version: str | None = None,
    max_retries: int = DEFAULT_MAX_RETRIES,
    limits: Limits | None = None,
    **params: Any,
) -> AsyncStream: ...


@overload
async def acompletion(
    model: str,
    messages: Messages,
    temperature: float | None = None,
    max_tokens: int | None = None,
    base_url: str | None = None,
    stream: bool = False,
    additional_params: str | None = None,
    *,
    api_key: str | None = None,
    timeout: TimeoutTypes = None,
    extra_headers: Mapping[str, str] | None = None,
    api_version: str | None = None,
    max_retries: int = DEFAULT_MAX_RETRIES,
    limits: Limits | None = None,
    **params: Any,
) -> ChatCompletion | AsyncStream: ...


async def acompletion(
    model: str,
    messages: Messages,
    temperature: float | None = None,
    max_tokens: int | None = None,
    base_url: str | None = None,
    stream: bool = False,
    additional_params: str | None = None,
    *,
    api_key: str | None = None,
    timeout: TimeoutTypes = None,
    extra_headers: Mapping[str, str] | None = None,
    api_version: str | None = None,
    max_retries: int = DEFAULT_MAX_RETRIES,
    limits: Limits | None = None,
    **params: Any,
) -> ChatCompletion | AsyncStream:
    """The async twin of :func:`completion`, with the same arguments.

    With ``stream=True`` it returns an :class:`AsyncStream` once the provider has accepted the
    request (an error answer raises here, as with :func:`completion`).
    """
    import asyncio  # here, not at the top: importing it costs sync-only users ~20 ms

    watch = _callbacks.watch(model, stream)
    try:
        if not _instance.loaded():
            await asyncio.get_running_loop().run_in_executor(None, _instance.load)
        prepared = prepare(
            model,
            messages,
            stream=stream,
            base_url=base_url,
            additional_params=additional_params,
            api_key=api_key,
            timeout=timeout,
            extra_headers=extra_headers,
            api_version=api_version,
            max_retries=max_retries,
            limits=limits,
            params={"temperature": temperature, "max_tokens": max_tokens, **params},
        )
        if _cloud.needs_authorizing(prepared):  # may do I/O: not on the event loop
            prepared = await asyncio.get_running_loop().run_in_executor(None, _cloud.authorize, prepared)
        sent = await _transport.arequest(await _pools.async_pools(), prepared, stream=stream)
        if sent.body is None:
            return AsyncStream(sent, watch)
        result = read(sent, ChatCompletion)
    except Exception as exc:
        if watch is not None:
            watch.end(exception=exc)
        raise
    if watch is not None:
        watch.answered(result, sent.attempts)
    return result


def embedding(
    model: str,
    input: str | Iterable[str] | Iterable[int] | Iterable[Iterable[int]],
    *,
    dimensions: int | None = None,
    encoding_format: Literal["float", "base64"] | None = None,
    input_type: str | None = None,
    user: str | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
    timeout: TimeoutTypes = None,
    num_retries: int | None = None,
    additional_params: str | None = None,
    api_version: str | None = None,
    extra_headers: Mapping[str, str] | None = None,
    **provider_options: Any,
) -> EmbeddingResponse:
    """Embeds ``input`` with the model named by ``model``'s prefix (``"openai/text-embedding-3-small"``).

    Args:
        input: a string, a list of strings, a list of token ids (one input), or a list of lists
            of token ids, where the provider takes them.
        dimensions: the length of each vector, where the model can shorten them; refused by
            name where it cannot (or left out with ``drop_params=True``).
        encoding_format: ``"base64"`` returns each vector as base64 of little-endian float32,
            as OpenAI does; otherwise floats. (ritellm asks the provider for whatever is
            fastest to read, and never sends ``null``.)
        input_type: ``"query"`` or ``"document"`` (each provider's own word for them is sent),
            or the provider's own value.
        user, base_url, api_key, timeout, additional_params, api_version, extra_headers: as for
            :func:`completion`. ``num_retries``: retries of a failed request (default 2).
        **provider_options: other body fields, sent as given.

    Returns:
        An :class:`~ritellm.types.EmbeddingResponse`: one vector per input, in input order,
        with the usage summed over the requests the call was split into.

    Raises:
        As :func:`completion`. A call split into several requests fails when one fails, with
        that request's error, whose ``failed_inputs`` says which inputs it carried.
    """
    settings = {
        "base_url": base_url,
        "api_key": api_key,
        "timeout": timeout,
        "num_retries": num_retries,
        "additional_params": additional_params,
        "api_version": api_version,
        "extra_headers": extra_headers,
    }
    params = {
        "dimensions": dimensions,
        "encoding_format": encoding_format,
        "input_type": input_type,
        "user": user,
    }
    watch = _callbacks.watch(model, False, "embedding")
    try:
        plan = _embeddings.plan(model, input, settings, {**params, **provider_options})
        if watch is not None:
            watch.inputs = plan.total
        result, attempts = _embeddings.sent_in_threads(plan)
    except Exception as exc:
        if watch is not None:
            watch.end(exception=exc)
        raise
    if watch is not None:
        watch.answered(result, attempts)
    return result


async def aembedding(
    model: str,
    input: str | Iterable[str] | Iterable[int] | Iterable[Iterable[int]],
    *,
    dimensions: int | None = None,
    encoding_format: Literal["float", "base64"] | None = None,
    input_type: str | None = None,
    user: str | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
    timeout: TimeoutTypes = None,
    num_retries: int | None = None,
    additional_params: str | None = None,
    api_version: str | None = None,
    extra_headers: Mapping[str, str] | None = None,
    **provider_options: Any,
) -> EmbeddingResponse:
    """The async twin of :func:`embedding`, with the same arguments; a split call's requests go
    out on the event loop, a few at a time."""
    import asyncio

    settings = {
        "base_url": base_url,
        "api_key": api_key,
        "timeout": timeout,
        "num_retries": num_retries,
        "additional_params": additional_params,
        "api_version": api_version,
        "extra_headers": extra_headers,
    }
    params = {
        "dimensions": dimensions,
        "encoding_format": encoding_format,
        "input_type": input_type,
        "user": user,
    }
    watch = _callbacks.watch(model, False, "embedding")
    try:
        if not _instance.loaded():
            await asyncio.get_running_loop().run_in_executor(None, _instance.load)
        plan = _embeddings.plan(model, input, settings, {**params, **provider_options})
        if watch is not None:
            watch.inputs = plan.total
        result, attempts = await _embeddings.sent_on_the_loop(plan)
    except Exception as exc:
        if watch is not None:
            watch.end(exception=exc)
        raise
    if watch is not None:
        watch.answered(result, attempts)
    return result


def providers() -> list[Provider]:
    """The providers ritellm knows, from the core's own table, in its order."""
    return [
        Provider(
            prefix=p["prefix"],
            protocol=p["protocol"],
            base_url=p["base_url"],
            base_url_env=tuple(p["base_url_env"]),
            key_env=p["auth"]["env"] if p["auth"] else None,
            key_required=bool(p["auth"] and p["auth"]["required"]),
            operations=tuple(p.get("operations", ("chat",))),
        )
        for p in _instance.core().describe["providers"]
    ]
