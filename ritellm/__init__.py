"""ritellm: one call to reach any LLM provider, with a sandboxed WebAssembly core.

>>> import ritellm
>>> reply = ritellm.completion("mock/echo", [{"role": "user", "content": "Hi"}])
>>> reply["choices"][0]["message"]["content"]
'Hi'
"""

import importlib as _importlib
import typing as _typing

from . import types as types
from ._api import acancel_response as acancel_response
from ._api import acompletion as acompletion
from ._api import acount_tokens as acount_tokens
from ._api import adelete_response as adelete_response
from ._api import aembedding as aembedding
from ._api import aget_response as aget_response
from ._api import alist_input_items as alist_input_items
from ._api import aresponses as aresponses
from ._api import cancel_response as cancel_response
from ._api import completion as completion
from ._api import count_tokens as count_tokens
from ._api import delete_response as delete_response
from ._api import embedding as embedding
from ._api import get_response as get_response
from ._api import get_supported_openai_params as get_supported_openai_params
from ._api import list_input_items as list_input_items
from ._api import providers as providers
from ._api import responses as responses
from ._api import validate_environment as validate_environment
from ._assembly import response_from_events as response_from_events
from ._assembly import stream_chunk_builder as stream_chunk_builder
from ._cache import Cache as Cache
from ._callbacks import CallEvent as CallEvent
from ._callbacks import callbacks as callbacks
from ._exceptions import APIConnectionError as APIConnectionError
from ._exceptions import APIError as APIError
from ._exceptions import APIStatusError as APIStatusError
from ._exceptions import APITimeoutError as APITimeoutError
from ._exceptions import AuthenticationError as AuthenticationError
from ._exceptions import BadGatewayError as BadGatewayError
from ._exceptions import BadRequestError as BadRequestError
from ._exceptions import ConflictError as ConflictError
from ._exceptions import ContentPolicyError as ContentPolicyError
from ._exceptions import ContextWindowExceededError as ContextWindowExceededError
from ._exceptions import GatewayTimeoutError as GatewayTimeoutError
from ._exceptions import InternalError as InternalError
from ._exceptions import InternalServerError as InternalServerError
from ._exceptions import InvalidRequestError as InvalidRequestError
from ._exceptions import InvalidResponseError as InvalidResponseError
from ._exceptions import LimitExceededError as LimitExceededError
from ._exceptions import MissingAPIKeyError as MissingAPIKeyError
from ._exceptions import NoDeploymentAvailableError as NoDeploymentAvailableError
from ._exceptions import NotFoundError as NotFoundError
from ._exceptions import OverloadedError as OverloadedError
from ._exceptions import PermissionDeniedError as PermissionDeniedError
from ._exceptions import RateLimitError as RateLimitError
from ._exceptions import RequestTimeoutError as RequestTimeoutError
from ._exceptions import RequestTooLargeError as RequestTooLargeError
from ._exceptions import RitellmError as RitellmError
from ._exceptions import ServiceUnavailableError as ServiceUnavailableError
from ._exceptions import StreamInterruptedError as StreamInterruptedError
from ._exceptions import UnknownModelError as UnknownModelError
from ._exceptions import UnprocessableEntityError as UnprocessableEntityError
from ._exceptions import UnsupportedPlatformError as UnsupportedPlatformError
from ._exceptions import UnsupportedProviderError as UnsupportedProviderError
from ._limits import Limits as Limits
from ._pools import aclose as aclose
from ._pools import close as close
from ._streaming import AsyncResponseStream as AsyncResponseStream
from ._streaming import AsyncStream as AsyncStream
from ._streaming import ResponseStream as ResponseStream
from ._streaming import Stream as Stream
from ._version import __version__ as __version__
from .types import ChatCompletion as ChatCompletion
from .types import ChatCompletionChunk as ChatCompletionChunk
from .types import EmbeddingResponse as EmbeddingResponse
from .types import Response as Response
from .types import ResponseStreamEvent as ResponseStreamEvent

if _typing.TYPE_CHECKING:  # loaded on first use (see __getattr__); checkers see them here
    from ._cost import completion_cost as completion_cost
    from ._cost import cost_per_token as cost_per_token
    from ._install import install_as_litellm as install_as_litellm
    from ._model_table import get_max_tokens as get_max_tokens
    from ._model_table import get_model_info as get_model_info
    from ._model_table import register_model as register_model
    from ._model_table import supports_function_calling as supports_function_calling
    from ._model_table import supports_parallel_function_calling as supports_parallel_function_calling
    from ._model_table import supports_prompt_caching as supports_prompt_caching
    from ._model_table import supports_reasoning as supports_reasoning
    from ._model_table import supports_response_schema as supports_response_schema
    from ._model_table import supports_vision as supports_vision
    from ._router import Router as Router
    from ._tokens import TokenCount as TokenCount
    from ._tokens import token_counter as token_counter

#: Public names loaded on first use: the model table, pricing, token counting and the Router
#: cost an import nothing until someone uses them.
_LAZY = {
    "completion_cost": "._cost",
    "cost_per_token": "._cost",
    "get_max_tokens": "._model_table",
    "get_model_info": "._model_table",
    "install_as_litellm": "._install",
    "register_model": "._model_table",
    "supports_function_calling": "._model_table",
    "supports_parallel_function_calling": "._model_table",
    "supports_prompt_caching": "._model_table",
    "supports_reasoning": "._model_table",
    "supports_response_schema": "._model_table",
    "supports_vision": "._model_table",
    "Router": "._router",
    "TokenCount": "._tokens",
    "token_counter": "._tokens",
}


__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncResponseStream",
    "AsyncStream",
    "AuthenticationError",
    "BadGatewayError",
    "BadRequestError",
    "Cache",
    "CallEvent",
    "ChatCompletion",
    "ChatCompletionChunk",
    "ConflictError",
    "ContentPolicyError",
    "ContextWindowExceededError",
    "EmbeddingResponse",
    "GatewayTimeoutError",
    "InternalError",
    "InternalServerError",
    "InvalidRequestError",
    "InvalidResponseError",
    "LimitExceededError",
    "Limits",
    "MissingAPIKeyError",
    "NoDeploymentAvailableError",
    "NotFoundError",
    "OverloadedError",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestTimeoutError",
    "RequestTooLargeError",
    "Response",
    "ResponseStream",
    "ResponseStreamEvent",
    "RitellmError",
    "Router",
    "ServiceUnavailableError",
    "Stream",
    "StreamInterruptedError",
    "TokenCount",
    "UnknownModelError",
    "UnprocessableEntityError",
    "UnsupportedPlatformError",
    "UnsupportedProviderError",
    "__version__",
    "acancel_response",
    "aclose",
    "acompletion",
    "acount_tokens",
    "adelete_response",
    "aembedding",
    "aget_response",
    "alist_input_items",
    "aresponses",
    "cache",
    "callbacks",
    "cancel_response",
    "close",
    "completion",
    "completion_cost",
    "cost_per_token",
    "count_tokens",
    "delete_response",
    "embedding",
    "get_max_tokens",
    "get_model_info",
    "get_response",
    "get_supported_openai_params",
    "install_as_litellm",
    "list_input_items",
    "providers",
    "register_model",
    "response_from_events",
    "responses",
    "stream_chunk_builder",
    "supports_function_calling",
    "supports_parallel_function_calling",
    "supports_prompt_caching",
    "supports_reasoning",
    "supports_response_schema",
    "supports_vision",
    "token_counter",
    "types",
    "validate_environment",
]

#: The cache of every call, as LiteLLM's ``litellm.cache``: ``ritellm.cache = ritellm.Cache()``
#: switches caching on (see :class:`Cache`); None, the default, leaves it off. Read at each call.
cache: "Cache | None" = None

# Public classes show as ritellm.X (``ritellm.AuthenticationError``) in tracebacks, reprs and
# pickles, not as the private module that defines them, as httpx and openai-python do.
# Functions keep theirs: typing.get_overloads finds overloads by the defining module.
for _name in __all__:
    _public = globals().get(_name)
    if isinstance(_public, type):
        _public.__module__ = __name__
del _name, _public


def __getattr__(name: str) -> _typing.Any:
    """Loads a public name of :data:`_LAZY` on first use (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(_importlib.import_module(module, __name__), name)
    if isinstance(value, type):
        value.__module__ = __name__
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
