"""The ``litellm`` module, made of ritellm, for clients written against LiteLLM: after
:func:`ritellm.install_as_litellm`, ``import litellm`` (and ``litellm.exceptions``,
``litellm.types.utils``, ``litellm.utils``, ``litellm.main``, ``litellm.router``) is this.

Nothing here is loaded unless that is called. The module settings clients set are read at
each call: ``drop_params``, ``model_alias_map``, ``model_fallbacks``, ``api_key``,
``api_base``, ``api_version``, ``num_retries``, ``request_timeout`` and ``cache`` (which is
``ritellm.cache``) are honoured; ``suppress_debug_info``, ``set_verbose``, ``telemetry``,
``modify_params``, ``use_litellm_proxy`` and the callback lists are accepted and change
nothing (ritellm prints no debug output and sends no telemetry, leaves messages as they are
given, has no proxy, and runs :data:`ritellm.callbacks` rather than LiteLLM's loggers).
"""

from __future__ import annotations

import logging
import sys
import types as _types
from typing import Any

from .. import _instance
from .._cache import Cache as Cache
from .._cost import cost_per_token as cost_per_token
from .._model_table import register_model as register_model
from . import exceptions as exceptions
from . import main as main
from . import router as router
from . import types as types
from . import utils as utils
from .exceptions import *  # noqa: F403  (LiteLLM's names, all of them)
from .main import AsyncCustomStreamWrapper as AsyncCustomStreamWrapper
from .main import CustomStreamWrapper as CustomStreamWrapper
from .main import acompletion as acompletion
from .main import aembedding as aembedding
from .main import aresponses as aresponses
from .main import completion as completion
from .main import embedding as embedding
from .main import get_llm_provider as get_llm_provider
from .main import responses as responses
from .main import stream_chunk_builder as stream_chunk_builder
from .router import Router as Router
from .types.utils import *  # noqa: F403
from .utils import completion_cost as completion_cost
from .utils import get_max_tokens as get_max_tokens
from .utils import get_model_info as get_model_info
from .utils import get_optional_params as get_optional_params
from .utils import get_secret_bool as get_secret_bool
from .utils import get_supported_openai_params as get_supported_openai_params
from .utils import supports_function_calling as supports_function_calling
from .utils import supports_parallel_function_calling as supports_parallel_function_calling
from .utils import supports_prompt_caching as supports_prompt_caching
from .utils import supports_reasoning as supports_reasoning
from .utils import supports_response_schema as supports_response_schema
from .utils import supports_vision as supports_vision
from .utils import token_counter as token_counter
from .utils import validate_environment as validate_environment

# Honoured at each call (see the module's documentation).
drop_params: bool = False
model_alias_map: dict[str, str] = {}
model_fallbacks: list[Any] | None = None
api_key: str | None = None
api_base: str | None = None
api_version: str | None = None
num_retries: int | None = None
request_timeout: float | None = None
# Accepted, without effect here.
suppress_debug_info: bool = False
set_verbose: bool = False
telemetry: bool = True
modify_params: bool = False
use_litellm_proxy: bool = False
callbacks: list[Any] = []
success_callback: list[Any] = []
failure_callback: list[Any] = []
input_callback: list[Any] = []

#: The OpenAI chat parameters LiteLLM knows, by its list.
OPENAI_CHAT_COMPLETION_PARAMS = [
    "functions", "function_call", "temperature", "top_p", "n", "stream", "stream_options", "stop",
    "max_completion_tokens", "modalities", "prediction", "audio", "max_tokens", "presence_penalty",
    "frequency_penalty", "logit_bias", "user", "request_timeout", "api_base", "api_version",
    "api_key", "deployment_id", "organization", "base_url", "default_headers", "timeout",
    "response_format", "seed", "tools", "tool_choice", "max_retries", "parallel_tool_calls",
    "logprobs", "top_logprobs", "reasoning_effort", "extra_headers", "thinking",
    "web_search_options", "service_tier", "prompt_cache_key", "safety_identifier", "verbosity",
    "store",
]  # fmt: skip
#: ritellm's providers, by the prefixes that name them.
provider_list: list[str] = list(_instance.core().config_env)


class _Module(_types.ModuleType):
    """The module's class: ``litellm.cache`` is ritellm's cache, read and set."""

    @property
    def cache(self) -> Cache | None:
        return sys.modules[__package__.rpartition(".")[0]].cache  # type: ignore[no-any-return]

    @cache.setter
    def cache(self, value: Cache | None) -> None:
        ritellm: Any = sys.modules[__package__.rpartition(".")[0]]
        ritellm.cache = value


sys.modules[__name__].__class__ = _Module

#: LiteLLM's logger, which clients configure (``litellm._logging.verbose_logger``).
_logging = _types.ModuleType(f"{__name__}._logging")
_logging.verbose_logger = logging.getLogger("LiteLLM")  # type: ignore[attr-defined]

#: The submodules clients import, by their names under ``litellm``.
SUBMODULES = ("exceptions", "main", "types", "types.utils", "utils", "router", "_logging")
