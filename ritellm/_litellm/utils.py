"""``litellm.utils``: the helpers and types clients import from it."""

from __future__ import annotations

import os
from typing import Any

from .. import _api, _cost, _instance, _model_table, _tokens
from .exceptions import BadRequestError
from .main import CustomStreamWrapper as CustomStreamWrapper
from .main import get_llm_provider as get_llm_provider
from .main import model_string
from .main import stream_chunk_builder as stream_chunk_builder
from .types.utils import *  # noqa: F403


def _named(model: Any, custom_llm_provider: str | None = None) -> Any:
    """``model`` as ritellm names it, found as LiteLLM's calls find it (a bare name of OpenAI's
    or Anthropic's, ``model_alias_map``, ``custom_llm_provider``); a name no provider is known
    for stays as it is, for the helper to answer as it does for an unknown model."""
    try:
        return model_string(model, custom_llm_provider)
    except BadRequestError:
        return model


# ritellm's helpers, with model names read the LiteLLM way (``supports_function_calling("gpt-4o")``).


def get_model_info(model: str, custom_llm_provider: str | None = None) -> dict[str, Any]:
    return _model_table.get_model_info(_named(model, custom_llm_provider))


def get_max_tokens(model: str) -> int | None:
    return _model_table.get_max_tokens(_named(model))


def supports_function_calling(model: str, custom_llm_provider: str | None = None) -> bool:
    return _model_table.supports_function_calling(_named(model, custom_llm_provider))


def supports_parallel_function_calling(model: str, custom_llm_provider: str | None = None) -> bool:
    return _model_table.supports_parallel_function_calling(_named(model, custom_llm_provider))


def supports_reasoning(model: str, custom_llm_provider: str | None = None) -> bool:
    return _model_table.supports_reasoning(_named(model, custom_llm_provider))


def supports_response_schema(model: str, custom_llm_provider: str | None = None) -> bool:
    return _model_table.supports_response_schema(_named(model, custom_llm_provider))


def supports_vision(model: str, custom_llm_provider: str | None = None) -> bool:
    return _model_table.supports_vision(_named(model, custom_llm_provider))


def supports_prompt_caching(model: str, custom_llm_provider: str | None = None) -> bool:
    return _model_table.supports_prompt_caching(_named(model, custom_llm_provider))


def get_supported_openai_params(model: str, custom_llm_provider: str | None = None, **_: Any) -> list[str]:
    return _api.get_supported_openai_params(_named(model, custom_llm_provider))


def validate_environment(model: str | None = None, **_: Any) -> dict[str, Any]:
    return _api.validate_environment(_named(model))


def token_counter(
    model: str = "",
    messages: Any = None,
    text: Any = None,
    tools: Any = None,
    custom_llm_provider: str | None = None,
    **_: Any,
) -> int:
    return _tokens.token_counter(
        _named(model, custom_llm_provider) if model else model, messages, text, tools
    )


def completion_cost(
    completion_response: Any = None,
    model: str | None = None,
    custom_llm_provider: str | None = None,
    **options: Any,
) -> float:
    named = _named(model, custom_llm_provider) if model else None
    return _cost.completion_cost(completion_response, model=named, **options)


#: LiteLLM's default thinking budget for ``thinking=True`` (its "medium" effort).
DEFAULT_THINKING_BUDGET = 2048


def get_secret_bool(secret_name: str, default_value: bool | None = None) -> bool | None:
    """LiteLLM's reading of a true/false environment variable."""
    value = os.environ.get(secret_name)
    if value is None:
        return default_value
    return value.strip().lower() == "true"


def validate_and_fix_thinking_param(thinking: Any) -> Any:
    """LiteLLM's reading of ``thinking=``: True is enabled with its medium budget, False is
    None, and a dict's ``budgetTokens`` is ``budget_tokens``."""
    if thinking is True:
        return {"type": "enabled", "budget_tokens": DEFAULT_THINKING_BUDGET}
    if thinking is False:
        return None
    if not isinstance(thinking, dict):
        return thinking
    fixed = dict(thinking)
    budget = fixed.pop("budgetTokens", None)
    if budget is not None:
        fixed.setdefault("budget_tokens", budget)
    return fixed


def get_optional_params(
    model: str, custom_llm_provider: str | None = None, drop_params: bool | None = None, **params: Any
) -> dict[str, Any]:
    """The body fields ``params`` (OpenAI's names) become in a call to ``model``, as ritellm's
    core builds that provider's request (``thinking`` for Anthropic's ``reasoning_effort``,
    ...). Nothing is sent; a parameter the provider has no place for is refused by name unless
    ``drop_params``."""
    built = _api.probed(
        _named(model, custom_llm_provider),
        {name: value for name, value in params.items() if value is not None},
        bool(drop_params),
    )
    for own in ("model", "messages", "stream", "system", "contents", "anthropic_version"):
        built.pop(own, None)
    return built


class ProviderConfigManager:
    """The one question clients ask of LiteLLM's provider configurations: whether a provider
    has a Responses API of its own (ritellm's ``native_responses`` rows)."""

    @staticmethod
    def get_provider_responses_api_config(
        provider: Any, model: str | None = None, api_base: str | None = None
    ) -> Any:
        """A truthy description of ``provider``'s Responses API, or None where it has none (ritellm
        answers ``responses()`` there through the provider's chat API)."""
        name = getattr(provider, "value", provider)
        native = _instance.core().describe.get("native_responses", ())
        return {"provider": name, "responses": "native"} if name in native else None
