"""``litellm.utils``: the helpers and types clients import from it."""

from __future__ import annotations

import json
import os
from typing import Any

from .. import _api, _instance
from .._api import get_supported_openai_params as get_supported_openai_params
from .._api import validate_environment as validate_environment
from .._cost import completion_cost as completion_cost
from .._model_table import get_max_tokens as get_max_tokens
from .._model_table import get_model_info as get_model_info
from .._model_table import model_string
from .._model_table import supports_function_calling as supports_function_calling
from .._model_table import supports_reasoning as supports_reasoning
from .._model_table import supports_response_schema as supports_response_schema
from .._model_table import supports_vision as supports_vision
from .._tokens import token_counter as token_counter
from .main import CustomStreamWrapper as CustomStreamWrapper
from .main import get_llm_provider as get_llm_provider
from .main import stream_chunk_builder as stream_chunk_builder
from .types.utils import *  # noqa: F403

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
    model = model_string(model, custom_llm_provider)
    call = {
        "model": model,
        "messages": [{"role": "user", "content": "x"}],
        "params": {name: value for name, value in params.items() if value is not None},
        "env": _api._PROBE_ENV,
        "base_url": None if _api._has_base_url(model) else "http://probe.invalid",
        "drop_params": bool(drop_params),
    }
    _, body = _instance.core().prepare(json.dumps(call).encode())
    built = json.loads(body)
    for own in ("model", "messages", "stream", "system", "contents", "anthropic_version"):
        built.pop(own, None)
    return built  # type: ignore[no-any-return]


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
