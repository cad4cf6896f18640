"""The model table: what each model costs, how much it takes and what it can do.

The data ships with ritellm (``ritellm_models.json``, beside the core's module and built by
``just models`` from the sources it names) and is read once, on first use: never fetched, at
import or at call time. :func:`register_model` adds or overrides entries for this process
(self-hosted models, negotiated prices). Entries use LiteLLM's field names
(``input_cost_per_token``, ``max_input_tokens``, ``supports_vision``, ...), keyed by ritellm's
model strings (``anthropic/claude-sonnet-4-5``).
"""

from __future__ import annotations

import json
import math
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Union

from ._exceptions import InvalidRequestError, UnknownModelError

_PACKAGE_DIR = Path(__file__).parent
#: Installed wheels carry the table inside the package; a source checkout keeps it in wasm/.
TABLE_PATHS = (
    _PACKAGE_DIR / "ritellm_models.json",
    _PACKAGE_DIR.parent / "wasm" / "ritellm_models.json",
)
#: Bedrock's cross-region inference profiles put a geography before the model id.
_BEDROCK_GEOGRAPHIES = ("us.", "eu.", "apac.", "jp.", "au.", "ca.", "us-gov.", "global.")

_lock = threading.Lock()
_shipped: dict[str, dict[str, Any]] | None = None
_checked = ""
_registered: dict[str, dict[str, Any]] = {}

ModelCost = Union[Mapping[str, Mapping[str, Any]], str, "os.PathLike[str]"]


def _table() -> dict[str, dict[str, Any]]:
    """The shipped entries, read on first use."""
    global _shipped, _checked
    if _shipped is None:
        with _lock:
            if _shipped is None:
                path = next((path for path in TABLE_PATHS if path.is_file()), None)
                if path is None:
                    _checked, _shipped = "", {}
                else:
                    data = json.loads(path.read_text("utf-8"))
                    _checked, _shipped = data.get("checked", ""), data["models"]
    return _shipped


def checked() -> str:
    """The date the shipped data was checked against its sources."""
    _table()
    return _checked


def candidates(model: str) -> list[str]:
    """The model strings to look ``model`` up under, most exact first: as given, without
    LiteLLM's ``responses/`` spelling, and for Bedrock without a cross-region profile's
    geography."""
    found = [model]
    prefix, _, name = model.partition("/")
    if name.startswith("responses/"):
        found.append(f"{prefix}/{name.removeprefix('responses/')}")
    if prefix == "bedrock":
        for geography in _BEDROCK_GEOGRAPHIES:
            if name.startswith(geography):
                found.append(f"bedrock/{name.removeprefix(geography)}")
    return found


def lookup(model: str) -> dict[str, Any] | None:
    """The entry for ``model`` (a ritellm model string): a registered one first, then the
    shipped one; None when neither knows it."""
    table = _table()
    for key in candidates(model):
        entry = _registered.get(key) or table.get(key)
        if entry is not None:
            return entry
    return None


def entry(model: str) -> dict[str, Any]:
    """The entry for ``model``, or :class:`UnknownModelError` naming it and what to do."""
    found = lookup(model) if isinstance(model, str) else None
    if found is None:
        raise UnknownModelError(
            f"ritellm's model table has no entry for {model!r}: pass the model as ritellm calls it "
            "('<provider>/<model>'), or add it with ritellm.register_model({"
            f"{model!r}: {{'input_cost_per_token': ..., 'output_cost_per_token': ...}}}})"
        )
    return found


def register_model(model_cost: ModelCost) -> None:
    """Adds or overrides model entries for this process: a mapping of model strings to
    entries in LiteLLM's field names (``{"openai/my-ft": {"input_cost_per_token": 3e-06,
    "output_cost_per_token": 1.2e-05, "max_input_tokens": 128000}}``), or the path of a JSON
    file holding one. A key without a provider prefix takes the entry's ``litellm_provider``.
    An entry for a model the table has is merged over the table's.
    """
    if isinstance(model_cost, (str, os.PathLike)):
        try:
            model_cost = json.loads(Path(model_cost).read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise InvalidRequestError(f"register_model: cannot read {str(model_cost)!r}: {exc}") from exc
    if not isinstance(model_cost, Mapping):
        raise InvalidRequestError(
            "register_model takes a mapping of model strings to entries, or a JSON file's path"
        )
    added: dict[str, dict[str, Any]] = {}
    for key, fields in model_cost.items():
        if not isinstance(key, str) or not isinstance(fields, Mapping):
            raise InvalidRequestError(
                f"register_model: {key!r} must map a model string to an entry (a mapping)"
            )
        provider = fields.get("litellm_provider")
        model = key if "/" in key or not isinstance(provider, str) else f"{provider}/{key}"
        _check_fields(model, fields)
        added[model] = {**(lookup(model) or {}), **fields}
    with _lock:
        _registered.update(added)


def _check_fields(model: str, fields: Mapping[str, Any]) -> None:
    for name, value in fields.items():
        if (
            name.endswith(("_cost", "_cost_per_token"))
            or "_cost_per_token_" in name
            or "_token_cost_" in name
        ):
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not math.isfinite(value)
                or value < 0
            ):
                raise InvalidRequestError(
                    f"register_model: {model}'s {name} must be a price of 0 or more, got {value!r}"
                )
        elif name.startswith("max_") and value is not None:
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise InvalidRequestError(
                    f"register_model: {model}'s {name} must be a whole number above 0, got {value!r}"
                )


def unregister_all() -> None:
    """Forgets what :func:`register_model` added (for tests)."""
    with _lock:
        _registered.clear()


def model_string(model: str, custom_llm_provider: str | None = None) -> str:
    """``model`` as ritellm names it: LiteLLM's ``custom_llm_provider=`` put before a bare name."""
    if custom_llm_provider and not model.startswith(f"{custom_llm_provider}/"):
        return f"{custom_llm_provider}/{model}"
    return model


def get_model_info(model: str, custom_llm_provider: str | None = None) -> dict[str, Any]:
    """What the table knows of ``model``: its entry (LiteLLM's field names), with ``key`` (the
    model string) and ``litellm_provider`` (its prefix). Raises :class:`UnknownModelError`."""
    model = model_string(model, custom_llm_provider)
    return {**entry(model), "key": model, "litellm_provider": model.partition("/")[0]}


def get_max_tokens(model: str) -> int | None:
    """The most tokens ``model`` writes in one answer (``max_output_tokens``). Raises
    :class:`UnknownModelError`."""
    found = entry(model)
    value = found.get("max_output_tokens") or found.get("max_tokens")
    return int(value) if value is not None else None


def _supports(flag: str, model: str, custom_llm_provider: str | None) -> bool:
    found = lookup(model_string(model, custom_llm_provider)) if isinstance(model, str) else None
    return bool(found and found.get(flag))


def supports_function_calling(model: str, custom_llm_provider: str | None = None) -> bool:
    """Whether the table says ``model`` takes tools. False for a model it does not know."""
    return _supports("supports_function_calling", model, custom_llm_provider)


def supports_parallel_function_calling(model: str, custom_llm_provider: str | None = None) -> bool:
    """Whether ``model`` may call several tools in one answer. False for an unknown model."""
    return _supports("supports_parallel_function_calling", model, custom_llm_provider)


def supports_vision(model: str, custom_llm_provider: str | None = None) -> bool:
    """Whether ``model`` reads images. False for an unknown model."""
    return _supports("supports_vision", model, custom_llm_provider)


def supports_response_schema(model: str, custom_llm_provider: str | None = None) -> bool:
    """Whether ``model`` answers to a JSON schema (``response_format``). False for an unknown model."""
    return _supports("supports_response_schema", model, custom_llm_provider)


def supports_reasoning(model: str, custom_llm_provider: str | None = None) -> bool:
    """Whether ``model`` reasons before it answers. False for an unknown model."""
    return _supports("supports_reasoning", model, custom_llm_provider)


def supports_prompt_caching(model: str, custom_llm_provider: str | None = None) -> bool:
    """Whether ``model`` caches prompts (and prices cached tokens apart). False for an unknown model."""
    return _supports("supports_prompt_caching", model, custom_llm_provider)
