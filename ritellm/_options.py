"""Call options as people write them, read into what ritellm sends: timeouts, LiteLLM's
client options, and ``response_format=`` given as a Pydantic model."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, Union

from ._exceptions import InvalidRequestError
from ._models import Timeouts

if TYPE_CHECKING:
    import httpx

TimeoutTypes = Union[None, float, "httpx.Timeout"]

#: Like the official SDKs: a long read allowance for slow generations, a short connect.
DEFAULT_TIMEOUT = Timeouts(connect=5.0, read=600.0, write=600.0, pool=600.0)


def timeouts(timeout: Any) -> tuple[Timeouts, float]:
    """The per-phase timeouts of ``timeout`` (seconds, or an ``httpx.Timeout``; httpx is not
    imported for it), and the deadline of a whole call: the longest of its phases."""
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout > 0:
        phases = Timeouts(*[float(timeout)] * 4)
    elif all(hasattr(timeout, phase) for phase in Timeouts._fields):
        phases = Timeouts(*(getattr(timeout, phase) for phase in Timeouts._fields))
    else:
        raise InvalidRequestError(
            f"timeout must be a number of seconds above 0 or an httpx.Timeout, got {timeout!r}"
        )
    return phases, max((t for t in phases if t is not None), default=math.inf)


DEFAULT_TIMEOUTS = timeouts(DEFAULT_TIMEOUT)

#: LiteLLM's client-side options that ritellm has no equivalent for. Sent as body fields they
#: would reach the provider (or make real calls where a test meant a mock), so they are
#: refused by name instead.
LITELLM_ONLY = frozenset(
    {
        "fallbacks",
        "context_window_fallback_dict",
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
LITELLM_HONOURED = frozenset(
    {"api_base", "num_retries", "drop_params", "mock_response", "headers", "retry_strategy"}
)
#: LiteLLM's ``retry_strategy`` values ritellm's retries already follow: they back off
#: exponentially (or wait what the server's Retry-After asks).
RETRY_STRATEGIES = frozenset({"exponential_backoff_retry"})
_LITELLM_NAMES = LITELLM_ONLY | LITELLM_HONOURED
#: What ritellm says instead, where it has its own way.
_INSTEAD = {
    "request_timeout": "timeout=",
    "custom_llm_provider": "the model's prefix, openai/... or anthropic/...",
    "fallbacks": "completion(..., fallbacks=[...]), or a ritellm.Router",
    "context_window_fallback_dict": "catch ContextWindowExceededError",
}


class LiteLLMOptions(NamedTuple):
    """A call's options once LiteLLM's are read."""

    model: Any
    base_url: str | None
    max_retries: int
    #: The body parameters left.
    params: Mapping[str, Any]
    drop_params: bool
    #: LiteLLM's ``headers=``: HTTP headers, below ``extra_headers`` when both name one.
    headers: Mapping[str, str] | None


def litellm_options(
    model: Any, base_url: str | None, max_retries: int, params: Mapping[str, Any], prefixes: Mapping[str, Any]
) -> LiteLLMOptions:
    """LiteLLM's options with their LiteLLM meaning: ``api_base``, ``num_retries``,
    ``drop_params``, ``headers``, ``retry_strategy``, ``mock_response`` (for a model whose
    prefix is in ``prefixes``); its other client-side options refused by name, unless None (as
    in LiteLLM, None means not given: clients pass ``custom_llm_provider=None`` on every
    call)."""
    if _LITELLM_NAMES.isdisjoint(params):  # the usual call: nothing to copy or take out
        return LiteLLMOptions(model, base_url, max_retries, params, False, None)
    params = {
        name: value for name, value in params.items() if value is not None or name not in _LITELLM_NAMES
    }
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
    headers = params.pop("headers", None)
    if headers is not None and not isinstance(headers, Mapping):
        raise InvalidRequestError(
            f"headers must be a mapping of names to values, got {type(headers).__name__}"
        )
    retry_strategy = params.pop("retry_strategy", None)
    if retry_strategy is not None and retry_strategy not in RETRY_STRATEGIES:
        raise InvalidRequestError(
            f"retry_strategy={retry_strategy!r}: ritellm retries with exponential backoff "
            "('exponential_backoff_retry'), honouring the server's Retry-After; num_retries= sets how often"
        )
    mock_response = params.pop("mock_response", None)
    if isinstance(mock_response, BaseException):
        raise mock_response
    if mock_response is not None:
        if not isinstance(mock_response, str):
            raise InvalidRequestError(
                f"mock_response must be a string or an exception, got {type(mock_response).__name__}"
            )
        prefix, _, name = model.partition("/") if isinstance(model, str) else ("", "", "")
        if prefix in prefixes:  # an unknown prefix is still refused as such
            model, base_url = f"mock/{name}", None
            params["mock_response"] = mock_response
    return LiteLLMOptions(model, base_url, max_retries, params, drop_params, headers)


def response_format(value: Any) -> Any:
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
