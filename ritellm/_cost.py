"""What a call cost, in US dollars: its usage priced from the model table, each billed token
class at its own rate. Cached input reads and cache writes, reasoning output, and the higher
rates above a prompt size (Claude's and Gemini 2.5 Pro's long-context tiers) are priced apart;
a rate the table lacks falls back to the plain input or output rate."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from . import _model_table
from ._exceptions import InvalidRequestError, RitellmError

#: A tier's price fields: ``input_cost_per_token_above_200k_tokens`` and the like.
_TIER = re.compile(r"_above_(\d+)k_tokens$")


class TokenClasses(NamedTuple):
    """A usage's tokens by how they are billed. ``prompt`` and ``completion`` are totals; the
    others are parts of them."""

    prompt: int = 0
    completion: int = 0
    cache_read: int = 0
    cache_write: int = 0
    reasoning: int = 0


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def token_classes(usage: Mapping[str, Any]) -> TokenClasses:
    """A usage object's token classes, whatever its shape: chat (``prompt_tokens``, OpenAI's
    ``prompt_tokens_details``, Anthropic's and Bedrock's cache counts as LiteLLM reports
    them), Responses (``input_tokens``, ...) or embeddings."""
    if "input_tokens" in usage or "output_tokens" in usage:  # a Responses usage
        details = usage.get("input_tokens_details") or {}
        output = usage.get("output_tokens_details") or {}
        return TokenClasses(
            prompt=_count(usage.get("input_tokens")),
            completion=_count(usage.get("output_tokens")),
            cache_read=_count(details.get("cached_tokens")),
            cache_write=_count(details.get("cache_write_tokens") or details.get("cache_creation_tokens")),
            reasoning=_count(output.get("reasoning_tokens")),
        )
    details = usage.get("prompt_tokens_details") or {}
    completion = usage.get("completion_tokens_details") or {}
    return TokenClasses(
        prompt=_count(usage.get("prompt_tokens")),
        completion=_count(usage.get("completion_tokens")),
        cache_read=_count(details.get("cached_tokens") or usage.get("cache_read_input_tokens")),
        cache_write=_count(details.get("cache_creation_tokens") or usage.get("cache_creation_input_tokens")),
        reasoning=_count(completion.get("reasoning_tokens")),
    )


def _rate(entry: Mapping[str, Any], name: str, tier: int, fallback: float) -> float:
    """The price of one token of a class: the tier's where the entry has one, else the base
    price, else ``fallback``."""
    if tier:
        priced = entry.get(f"{name}_above_{tier}k_tokens")
        if isinstance(priced, (int, float)):
            return float(priced)
    priced = entry.get(name)
    return float(priced) if isinstance(priced, (int, float)) else fallback


#: Each entry's tiers, found once: by the entry's id, with the entry kept so the id stays its.
_tiers: dict[int, tuple[Mapping[str, Any], tuple[int, ...]]] = {}


def _tier(entry: Mapping[str, Any], prompt_tokens: int) -> int:
    """The largest tier (in thousands of prompt tokens) the prompt is above; 0 for none."""
    found = _tiers.get(id(entry))
    if found is None or found[0] is not entry:
        tiers = tuple(sorted({int(match.group(1)) for name in entry if (match := _TIER.search(name))}))
        found = _tiers[id(entry)] = (entry, tiers)
    return max((tier for tier in found[1] if prompt_tokens > tier * 1000), default=0)


def priced(entry: Mapping[str, Any], tokens: TokenClasses) -> tuple[float, float]:
    """The (input, output) USD of ``tokens`` at ``entry``'s prices."""
    tier = _tier(entry, tokens.prompt)
    input_rate = _rate(entry, "input_cost_per_token", tier, 0.0)
    output_rate = _rate(entry, "output_cost_per_token", tier, 0.0)
    fresh = max(tokens.prompt - tokens.cache_read - tokens.cache_write, 0)
    prompt_cost = (
        fresh * input_rate
        + tokens.cache_read * _rate(entry, "cache_read_input_token_cost", tier, input_rate)
        + tokens.cache_write * _rate(entry, "cache_creation_input_token_cost", tier, input_rate)
    )
    answer = max(tokens.completion - tokens.reasoning, 0)
    completion_cost = answer * output_rate + tokens.reasoning * _rate(
        entry, "output_cost_per_reasoning_token", tier, output_rate
    )
    return prompt_cost, completion_cost


def cost_per_token(
    model: str = "",
    prompt_tokens: int = 0,
    completion_tokens: int = 0,
    *,
    custom_llm_provider: str | None = None,
    cache_read_input_tokens: int = 0,
    cache_creation_input_tokens: int = 0,
    reasoning_tokens: int = 0,
    usage_object: Mapping[str, Any] | None = None,
) -> tuple[float, float]:
    """The (prompt, completion) cost in USD of so many tokens of ``model`` (a ritellm model
    string, or a bare name with ``custom_llm_provider``). ``prompt_tokens`` and
    ``completion_tokens`` are totals; the cache and reasoning counts are the parts of them
    billed at their own rates. ``usage_object`` (a usage dict) stands for all the counts.
    Raises :class:`~ritellm.UnknownModelError` for a model the table does not know."""
    entry = _model_table.entry(_model_table.model_string(model, custom_llm_provider))
    if usage_object is not None:
        tokens = token_classes(usage_object)
    else:
        tokens = TokenClasses(
            prompt_tokens,
            completion_tokens,
            cache_read_input_tokens,
            cache_creation_input_tokens,
            reasoning_tokens,
        )
    return priced(entry, tokens)


def _models_of(answer: Mapping[str, Any], model: str | None, custom_llm_provider: str | None) -> list[str]:
    """The model strings an answer may be priced under, best first: the caller's, the one the
    call was made with (kept on ritellm's results), then the provider's name for the model that
    answered."""
    hidden = getattr(answer, "_hidden_params", None) or {}
    provider = custom_llm_provider or hidden.get("custom_llm_provider")
    found = [_model_table.model_string(model, custom_llm_provider)] if model else []
    if hidden.get("model"):
        found.append(hidden["model"])
    answered = answer.get("model")
    if isinstance(answered, str) and answered:
        found.append(f"{provider}/{answered}" if provider else answered)
    return found


def completion_cost(
    completion_response: Mapping[str, Any] | None = None,
    *,
    model: str | None = None,
    custom_llm_provider: str | None = None,
    prompt: str | None = None,
    completion: str | None = None,
    messages: Any = None,
) -> float:
    """The cost in USD of a call: of an answer ritellm returned (a chat.completion, a response,
    an embedding list, or a stream put back together with ``stream_chunk_builder`` when the
    stream carried usage), priced from its usage; or, without one, of ``prompt`` or
    ``messages`` in and ``completion`` out, counted with :func:`token_counter`.

    An answer from ritellm knows its provider and model; give ``model`` (and
    ``custom_llm_provider``) for others. Raises :class:`~ritellm.UnknownModelError` for a
    model the table does not know."""
    if completion_response is None:
        if not model:
            raise InvalidRequestError(
                "completion_cost needs completion_response, or model with prompt or messages"
            )
        from ._tokens import token_counter

        name = _model_table.model_string(model, custom_llm_provider)
        tokens = TokenClasses(
            prompt=token_counter(name, messages=messages, text=prompt if messages is None else None),
            completion=token_counter(name, text=completion or ""),
        )
        return sum(priced(_model_table.entry(name), tokens))
    usage = completion_response.get("usage")
    if not isinstance(usage, Mapping):
        raise InvalidRequestError(
            "the answer carries no usage to price: a stream has it only with "
            "stream_options={'include_usage': True}"
        )
    names = _models_of(completion_response, model, custom_llm_provider)
    for name in names:
        entry = _model_table.lookup(name)
        if entry is not None:
            return sum(priced(entry, token_classes(usage)))
    return sum(priced(_model_table.entry(names[0] if names else ""), token_classes(usage)))


def usage_cost(models: list[str], usage: Any) -> float | None:
    """The cost of ``usage`` under the first of ``models`` the table knows, or None when it
    cannot be known: for observability, where a missing price must never fail the call or its
    callbacks."""
    if not isinstance(usage, Mapping):
        return None
    try:
        entry = next(filter(None, map(_model_table.lookup, models)), None)
        return None if entry is None else sum(priced(entry, token_classes(usage)))
    except (RitellmError, TypeError, ValueError):
        return None
