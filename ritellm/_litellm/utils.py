"""``litellm.utils``: the helpers and types clients import from it."""

from __future__ import annotations

import os

from .._api import get_supported_openai_params as get_supported_openai_params
from .._api import validate_environment as validate_environment
from .._cost import completion_cost as completion_cost
from .._model_table import get_max_tokens as get_max_tokens
from .._model_table import get_model_info as get_model_info
from .._model_table import supports_function_calling as supports_function_calling
from .._model_table import supports_reasoning as supports_reasoning
from .._model_table import supports_response_schema as supports_response_schema
from .._model_table import supports_vision as supports_vision
from .._tokens import token_counter as token_counter
from .main import CustomStreamWrapper as CustomStreamWrapper
from .main import get_llm_provider as get_llm_provider
from .main import stream_chunk_builder as stream_chunk_builder
from .types.utils import *  # noqa: F403


def get_secret_bool(secret_name: str, default_value: bool | None = None) -> bool | None:
    """LiteLLM's reading of a true/false environment variable."""
    value = os.environ.get(secret_name)
    if value is None:
        return default_value
    return value.strip().lower() == "true"
