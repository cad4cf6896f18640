"""LiteLLM's calls (``litellm.main``), made with ritellm: LiteLLM's signatures and module
settings read at each call, ritellm's errors given LiteLLM's classes, results and streams of
LiteLLM's types. No I/O of its own: each call is one of ritellm's."""

from __future__ import annotations

import sys
from collections.abc import AsyncGenerator, Generator
from typing import Any, cast

from .. import _api, _assembly, _instance, _model_table, _streaming
from .exceptions import BadRequestError, litellm_errors
from .types.utils import AS_LITELLM, ModelResponse, ModelResponseStream

__all__ = [
    "acompletion",
    "aembedding",
    "aresponses",
    "completion",
    "embedding",
    "get_llm_provider",
    "responses_api_bridge_check",
    "responses",
    "stream_chunk_builder",
]

#: Where LiteLLM sends a model name given without a provider: its lists of OpenAI's and
#: Anthropic's models (``get_llm_provider``). ritellm looks the name up in its model table
#: under these providers, in this order.
_BARE_NAME_PROVIDERS = ("openai", "anthropic")


def _settings() -> Any:
    """The ``litellm`` module, whose settings clients set (``litellm.drop_params = True``)."""
    return sys.modules[__package__ or ""]


def get_llm_provider(
    model: str,
    custom_llm_provider: str | None = None,
    api_base: str | None = None,
    api_key: str | None = None,
) -> tuple[str, str, str | None, str | None]:
    """LiteLLM's ``(model, provider, api_key, api_base)`` for ``model``: its name without the
    provider, the provider (its prefix, ``custom_llm_provider``, or for a bare name of OpenAI's
    or Anthropic's that provider), and the key and base URL given. Raises LiteLLM's
    ``BadRequestError`` for a model no provider is known for."""
    full = model_string(model, custom_llm_provider)
    provider, _, name = full.partition("/")
    return name, provider, api_key, api_base


def responses_api_bridge_check(
    model: str, custom_llm_provider: str | None = None, **_: Any
) -> tuple[dict[str, Any], str]:
    """LiteLLM's answer to whether a chat call to ``model`` goes to the Responses API: the
    model's entry with ``mode`` ``"responses"`` for a Responses-only model (ritellm sends those
    there, as LiteLLM does) or for LiteLLM's ``responses/`` spelling, and the model's name
    without that spelling."""
    full = _model_table.model_string(model, custom_llm_provider)
    info = dict(_model_table.lookup(full) or {})
    if model.startswith("responses/"):
        model = model.removeprefix("responses/")
        info["mode"] = "responses"
    return info, model


def model_string(model: Any, custom_llm_provider: str | None) -> Any:
    """``model`` as ritellm calls it: through ``litellm.model_alias_map``, with
    ``custom_llm_provider`` before a bare name, or the provider LiteLLM would pick for it."""
    if not isinstance(model, str):
        return model  # ritellm refuses it, by name
    aliases = _settings().model_alias_map
    model = aliases.get(model, model) if aliases else model
    if custom_llm_provider:
        return _model_table.model_string(model, custom_llm_provider)
    prefix = model.partition("/")[0]
    if prefix in _instance.core().config_env:
        return model
    for provider in _BARE_NAME_PROVIDERS:
        if _model_table.lookup(f"{provider}/{model}") is not None:
            return f"{provider}/{model}"
    known = ", ".join(sorted(_instance.core().config_env))
    if "/" in model:
        said = f"ritellm has no provider {prefix!r} (from the model {model!r}); its providers: {known}"
    else:
        said = (
            "LLM Provider NOT provided. Pass in the LLM provider you are trying to call, as "
            f"'<provider>/{model}' (ritellm's providers: {known})"
        )
    raise BadRequestError(said, llm_provider=None, model=model)


def _options(model: Any, options: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The model string and keyword arguments of a ritellm call for LiteLLM's arguments, with
    the module's settings where the call gives none."""
    settings = _settings()
    model = model_string(model, options.pop("custom_llm_provider", None))
    if options.get("api_key") is None and settings.api_key is not None:
        options["api_key"] = settings.api_key
    if options.get("api_base") is None and options.get("base_url") is None and settings.api_base is not None:
        options["api_base"] = settings.api_base
    if options.get("api_version") is None and settings.api_version is not None:
        options["api_version"] = settings.api_version
    if options.get("drop_params") is None and settings.drop_params:
        options["drop_params"] = True
    if (
        options.get("num_retries") is None
        and options.get("max_retries") is None
        and settings.num_retries is not None
    ):
        options["num_retries"] = settings.num_retries
    if options.get("timeout") is None and settings.request_timeout is not None:
        options["timeout"] = settings.request_timeout
    if "max_retries" in options and options["max_retries"] is None:  # LiteLLM's None: not given
        del options["max_retries"]
    return model, options


def litellm_result(result: Any) -> Any:
    """``result`` of LiteLLM's type (its class changed in place), or a stream of them whose
    errors are LiteLLM's."""
    if isinstance(result, _streaming.Stream):
        result._chunks = _litellm_chunks(result._chunks, ModelResponseStream)
        result.__class__ = CustomStreamWrapper
    elif isinstance(result, _streaming.AsyncStream):
        result._chunks = _alitellm_chunks(result._chunks, ModelResponseStream)
        result.__class__ = AsyncCustomStreamWrapper
    elif isinstance(result, _streaming.ResponseStream):
        result._chunks = _litellm_chunks(result._chunks, None)
    elif isinstance(result, _streaming.AsyncResponseStream):
        result._chunks = _alitellm_chunks(result._chunks, None)
    else:
        litellm_type = AS_LITELLM.get(type(result))
        if litellm_type is not None:
            result.__class__ = litellm_type
        hidden = getattr(result, "_hidden_params", None)
        if hidden is not None:
            # A plain dict, priced now, as LiteLLM's: clients pickle results where only LiteLLM's
            # and the openai SDK's classes may be read back (DSPy's restricted disk cache).
            result._hidden_params = {**hidden, "response_cost": hidden.get("response_cost")}
    return result


def _litellm_chunks(chunks: Generator[Any, None, None], kind: type[Any] | None) -> Generator[Any, None, None]:
    """A stream's chunks, of class ``kind`` unless None, and its errors LiteLLM's. Closing it
    closes the stream's own generator at once, as ritellm's streams do."""
    try:
        with litellm_errors():
            for chunk in chunks:
                if kind is not None:
                    chunk.__class__ = kind
                yield chunk
    finally:
        chunks.close()


async def _alitellm_chunks(
    chunks: AsyncGenerator[Any, None], kind: type[Any] | None
) -> AsyncGenerator[Any, None]:
    """The async twin of `_litellm_chunks`."""
    try:
        with litellm_errors():
            async for chunk in chunks:
                if kind is not None:
                    chunk.__class__ = kind
                yield chunk
    finally:
        await chunks.aclose()


class _EitherMode(type):
    """LiteLLM has one stream class for sync and async calls: ``isinstance(stream,
    CustomStreamWrapper)`` holds for both here too, each keeping its own mode's methods."""

    def __instancecheck__(cls, instance: Any) -> bool:
        return type.__instancecheck__(cls, instance) or type.__instancecheck__(
            AsyncCustomStreamWrapper, instance
        )


class CustomStreamWrapper(_streaming.Stream, metaclass=_EitherMode):
    """A stream from ``litellm.completion(..., stream=True)``: ritellm's :class:`Stream`, its
    chunks ``ModelResponseStream`` records and its errors LiteLLM's."""

    __module__ = "litellm"


class AsyncCustomStreamWrapper(_streaming.AsyncStream):
    """The stream from ``await litellm.acompletion(..., stream=True)``: ritellm's
    :class:`AsyncStream`, as LiteLLM's, and a ``CustomStreamWrapper`` to ``isinstance``."""

    __module__ = "litellm"


def _chat_options(model: Any, options: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """`_options`, and ``litellm.model_fallbacks`` for a chat call that gives no fallbacks."""
    model, options = _options(model, options)
    if options.get("fallbacks") is None and _settings().model_fallbacks:
        options["fallbacks"] = list(_settings().model_fallbacks)
    return model, options


def completion(
    model: str,
    messages: Any = None,
    timeout: Any = None,
    temperature: float | None = None,
    top_p: float | None = None,
    n: int | None = None,
    stream: bool | None = None,
    **options: Any,
) -> Any:
    """LiteLLM's ``completion``: :func:`ritellm.completion` with LiteLLM's arguments."""
    with litellm_errors():
        model, options = _chat_options(model, {**options, "timeout": timeout, "top_p": top_p, "n": n})
        result = _api.completion(
            model, messages or [], temperature=temperature, stream=bool(stream), **options
        )
        return litellm_result(result)


async def acompletion(
    model: str,
    messages: Any = None,
    timeout: Any = None,
    temperature: float | None = None,
    top_p: float | None = None,
    n: int | None = None,
    stream: bool | None = None,
    **options: Any,
) -> Any:
    """LiteLLM's ``acompletion``: :func:`ritellm.acompletion` with LiteLLM's arguments."""
    with litellm_errors():
        model, options = _chat_options(model, {**options, "timeout": timeout, "top_p": top_p, "n": n})
        result = await _api.acompletion(
            model, messages or [], temperature=temperature, stream=bool(stream), **options
        )
        return litellm_result(result)


def embedding(model: str, input: Any = None, **options: Any) -> Any:
    """LiteLLM's ``embedding``: :func:`ritellm.embedding` with LiteLLM's arguments."""
    with litellm_errors():
        model, options = _options(model, options)
        return litellm_result(_api.embedding(model, input if input is not None else [], **options))


async def aembedding(model: str, input: Any = None, **options: Any) -> Any:
    """LiteLLM's ``aembedding``: :func:`ritellm.aembedding` with LiteLLM's arguments."""
    with litellm_errors():
        model, options = _options(model, options)
        return litellm_result(await _api.aembedding(model, input if input is not None else [], **options))


def responses(input: Any = None, model: str = "", **options: Any) -> Any:
    """LiteLLM's ``responses`` (``input`` first, as LiteLLM has it): :func:`ritellm.responses`."""
    with litellm_errors():
        model, options = _options(model, options)
        return litellm_result(_api.responses(model, input, **options))


async def aresponses(input: Any = None, model: str = "", **options: Any) -> Any:
    """LiteLLM's ``aresponses``: :func:`ritellm.aresponses` with LiteLLM's arguments."""
    with litellm_errors():
        model, options = _options(model, options)
        return litellm_result(await _api.aresponses(model, input, **options))


def stream_chunk_builder(chunks: Any, messages: Any = None, **_: Any) -> ModelResponse | None:
    """LiteLLM's ``stream_chunk_builder``: the complete answer the chunks make, None for no
    chunks (as LiteLLM)."""
    chunks = list(chunks)
    if not chunks:
        return None
    built = _assembly.stream_chunk_builder(chunks)
    built.__class__ = ModelResponse
    return cast(ModelResponse, built)
