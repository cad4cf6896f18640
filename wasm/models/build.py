"""Build wasm/ritellm_models.json, ritellm's versioned model table, offline.

The table gives each model string ritellm accepts ("<prefix>/<provider's model name>") its
prices, context window and capabilities, under LiteLLM's own field names, so that a lookup
answers as LiteLLM's ``get_model_info`` does.

Sources, in order:

1. LiteLLM's MIT-licensed price map, ``model_prices_and_context_window_backup.json`` from the
   installed ``litellm`` package. The package is located with ``importlib.util.find_spec`` and
   never imported: importing litellm fetches the map from the network. ``--source PATH`` reads
   another copy of the map instead.
2. ``wasm/models/corrections.json``: corrections checked against the providers' own pricing
   pages, each with its reason and source, and entries ritellm needs that LiteLLM lacks.

The output is deterministic: the same source and corrections give the same bytes, whatever the
environment (the source is recorded by its SHA-256, not by the installed litellm's version).
Run it with plain Python 3.9+ (standard library only): ``python3 wasm/models/build.py``.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import math
import os
import re
import sys
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CORRECTIONS = os.path.join(HERE, "corrections.json")
DEFAULT_OUTPUT = os.path.join(os.path.dirname(HERE), "ritellm_models.json")
LITELLM_FILE = "model_prices_and_context_window_backup.json"
LITELLM_URL = "https://github.com/BerriAI/litellm/blob/main/model_prices_and_context_window.json"

#: The table's format. Bump it when a field changes meaning or a reader must change.
VERSION = 1

#: LiteLLM's ``litellm_provider`` -> ritellm's prefix. Every ``vertex_ai-*`` provider (Claude,
#: Llama, Mistral... on Vertex AI) is ritellm's ``vertex_ai``.
PROVIDERS = {
    "openai": "openai",
    "anthropic": "anthropic",
    "gemini": "gemini",
    "vertex_ai": "vertex_ai",
    "bedrock": "bedrock",
    "bedrock_converse": "bedrock",
    "azure": "azure",
    "groq": "groq",
    "mistral": "mistral",
    "deepseek": "deepseek",
    "xai": "xai",
    "openrouter": "openrouter",
    "together_ai": "together_ai",
    "fireworks_ai": "fireworks_ai",
    "fireworks_ai-embedding-models": "fireworks_ai",
    "cerebras": "cerebras",
    "perplexity": "perplexity",
    "deepinfra": "deepinfra",
    "ollama": "ollama",
    "lm_studio": "lm_studio",
    "hosted_vllm": "hosted_vllm",
    "llamafile": "llamafile",
    "huggingface": "huggingface",
    "nvidia_nim": "nvidia_nim",
    "sambanova": "sambanova",
    "nebius": "nebius",
    "novita": "novita",
    "moonshot": "moonshot",
    "dashscope": "dashscope",
    "github": "github",
    "hyperbolic": "hyperbolic",
    "lambda_ai": "lambda_ai",
    "featherless_ai": "featherless_ai",
    "cohere": "cohere",
    "cohere_chat": "cohere",
    "databricks": "databricks",
    "cloudflare": "cloudflare",
    "voyage": "voyage",
}

#: The operations ritellm serves.
MODES = ("chat", "embedding", "responses")

#: The fields kept, under LiteLLM's names; everything else LiteLLM records is dropped.
PRICE_FIELDS = (
    "input_cost_per_token",
    "output_cost_per_token",
    "cache_read_input_token_cost",
    "cache_creation_input_token_cost",
)
FIELDS = (
    "mode",
    "max_tokens",
    "max_input_tokens",
    "max_output_tokens",
    *PRICE_FIELDS,
    "output_cost_per_reasoning_token",
    "input_cost_per_token_batches",
    "output_cost_per_token_batches",
    "supports_function_calling",
    "supports_parallel_function_calling",
    "supports_vision",
    "supports_response_schema",
    "supports_reasoning",
    "supports_prompt_caching",
    "supports_tool_choice",
)
#: The long-prompt tiers of those prices: ``input_cost_per_token_above_200k_tokens`` and kin.
TIER_FIELD = re.compile(r"^(?:{})_above_\d+k_tokens$".format("|".join(PRICE_FIELDS)))
INT_FIELDS = ("max_tokens", "max_input_tokens", "max_output_tokens")
#: Fields a correction may add besides those: the entry's provenance.
META_FIELDS = ("source", "corrected")

#: LiteLLM keys that name no model a provider serves: Together AI's price buckets by model size.
NOT_A_MODEL = re.compile(r"^together-ai-")


def is_kept_field(name: str) -> bool:
    return name in FIELDS or bool(TIER_FIELD.match(name))


def default_source() -> str:
    """The price map inside the installed litellm package, found without importing it."""
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("litellm is not installed: install it (pip install litellm) or pass --source PATH")
    for location in spec.submodule_search_locations:
        path = os.path.join(location, LITELLM_FILE)
        if os.path.isfile(path):
            return path
    raise SystemExit(f"the installed litellm has no {LITELLM_FILE}: pass --source PATH")


def model_string(key: str, provider: str) -> str | None:
    """ritellm's model string for a LiteLLM key of ``provider`` (a ritellm prefix), or None
    when the key names no model that string could reach."""
    if NOT_A_MODEL.match(key):
        return None
    name = key[len(provider) + 1 :] if key.startswith(provider + "/") else key
    if not name or "*" in name:
        return None
    if provider == "bedrock" and "/" in name:
        # bedrock/<region>/..., .../<n>-month-commitment/..., bedrock/invoke/...,
        # bedrock/claude_platform/...: LiteLLM's routes and regional price sheets, not model ids.
        # ritellm takes the model id (or inference profile: us.anthropic...) and the region
        # from the environment.
        return None
    if provider == "azure" and "/" in name:
        # azure/eu/..., azure/us/..., azure/global/...: data-zone price sheets. A deployment
        # name has no slash.
        return None
    return f"{provider}/{name}"


def clean_entry(raw: dict[str, Any]) -> dict[str, Any]:
    """The kept fields of one LiteLLM entry: null and false flags dropped, prices finite and
    non-negative, token counts positive integers."""
    entry: dict[str, Any] = {}
    for name, value in raw.items():
        if not is_kept_field(name) or value is None or value is False:
            continue
        if name == "mode":
            entry[name] = value
        elif name.startswith("supports_"):
            if value is True:
                entry[name] = True
        elif name in INT_FIELDS:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            if not math.isfinite(value) or value <= 0 or value != int(value):
                continue
            entry[name] = int(value)
        else:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            if not math.isfinite(value) or value < 0:
                continue
            entry[name] = value
    source = raw.get("source")
    entry["source"] = source if isinstance(source, str) and source.startswith("https://") else "litellm"
    return entry


def collect(prices: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """LiteLLM's entries for ritellm's providers and operations, under ritellm's model strings.

    Where two LiteLLM keys map to one model string (``deepseek-chat`` and
    ``deepseek/deepseek-chat``; ``gemini-2.5-pro`` for Vertex AI and ``vertex_ai/gemini-2.5-pro``),
    the key spelled as the model string wins, then the first key in sorted order.
    """
    models: dict[str, dict[str, Any]] = {}
    exact: set[str] = set()
    for key in sorted(prices):
        raw = prices[key]
        if not isinstance(raw, dict) or raw.get("mode") not in MODES:
            continue
        litellm_provider = raw.get("litellm_provider")
        if not isinstance(litellm_provider, str):
            continue  # aliases ({"alias_of": ...}) and the sample spec
        provider = (
            "vertex_ai" if litellm_provider.startswith("vertex_ai") else PROVIDERS.get(litellm_provider)
        )
        if provider is None:
            continue
        model = model_string(key, provider)
        if model is None:
            continue
        spelled = key == model
        if model in models and (model in exact or not spelled):
            continue
        models[model] = clean_entry(raw)
        if spelled:
            exact.add(model)
    return models


def load_corrections(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as file:
        data: dict[str, Any] = json.load(file)
    if not isinstance(data.get("checked"), str) or not re.match(r"^\d{4}-\d{2}-\d{2}$", data["checked"]):
        raise SystemExit(f"{path}: 'checked' must be the date the data was checked, YYYY-MM-DD")
    for number, correction in enumerate(data.get("corrections", [])):
        where = f"{path}: correction {number} ({correction.get('model')!r})"
        for field in ("model", "reason", "source"):
            if not isinstance(correction.get(field), str) or not correction[field]:
                raise SystemExit(f"{where}: needs a non-empty {field!r}")
        if not correction["source"].startswith("https://"):
            raise SystemExit(f"{where}: 'source' must be the provider's https:// page")
        changes = correction.get("set")
        if not isinstance(changes, dict) or not changes:
            raise SystemExit(f"{where}: needs a non-empty 'set'")
        for name in changes:
            if not is_kept_field(name):
                raise SystemExit(f"{where}: sets {name!r}, which the table does not keep")
    return data


def apply_corrections(models: dict[str, dict[str, Any]], corrections: list[dict[str, Any]]) -> None:
    """Apply each correction in order. A correction of a model LiteLLM lacks must say
    ``"new": true`` (and set its mode), so that a model LiteLLM renames or drops fails the
    build instead of silently leaving a stale correction behind."""
    for correction in corrections:
        model = correction["model"]
        prefix = model.split("/", 1)[0]
        if prefix not in PROVIDERS.values() or "/" not in model:
            raise SystemExit(f"correction for {model!r}: not a ritellm model string")
        if model not in models:
            if not correction.get("new"):
                raise SystemExit(
                    f"correction for {model!r}: the model is not in LiteLLM's map. Mark the "
                    "correction 'new' if ritellm needs it anyway, or correct the model's new name."
                )
            if correction["set"].get("mode") not in MODES:
                raise SystemExit(f"new entry {model!r}: set its 'mode' to one of {MODES}")
            models[model] = {}
        elif correction.get("new"):
            print(
                f"note: {model!r} is marked new but LiteLLM now has it; review the correction",
                file=sys.stderr,
            )
        merged = dict(models[model])
        merged.update(correction["set"])  # a null value removes the field
        entry = clean_entry(merged)
        entry["source"] = correction["source"]
        entry["corrected"] = correction["reason"]
        models[model] = entry


def sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def build(source: str, corrections_path: str) -> dict[str, Any]:
    with open(source, encoding="utf-8") as file:
        prices = json.load(file)
    corrections = load_corrections(corrections_path)
    models = collect(prices)
    apply_corrections(models, corrections.get("corrections", []))
    litellm: dict[str, Any] = {
        "name": "LiteLLM model price map",
        "license": "MIT",
        "url": LITELLM_URL,
        "file": os.path.basename(source),
        "sha256": sha256(source),
    }
    pages = sorted({c["source"] for c in corrections.get("corrections", [])})
    return {
        "version": VERSION,
        "checked": corrections["checked"],
        "sources": [litellm, {"name": "ritellm corrections (wasm/models/corrections.json)", "pages": pages}],
        "models": models,
    }


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def render(table: dict[str, Any]) -> str:
    """The table as JSON with sorted keys and one model a line, for readable diffs."""
    lines = ["{"]
    keys = sorted(table)
    for index, key in enumerate(keys):
        comma = "," if index < len(keys) - 1 else ""
        if key != "models":
            lines.append(f"{dumps(key)}:{dumps(table[key])}{comma}")
            continue
        lines.append(f"{dumps(key)}:{{")
        models = table[key]
        names = sorted(models)
        for number, name in enumerate(names):
            inner = "," if number < len(names) - 1 else ""
            lines.append(f"{dumps(name)}:{dumps(models[name])}{inner}")
        lines.append("}" + comma)
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--source", help=f"LiteLLM's price map (default: {LITELLM_FILE} of the installed litellm)"
    )
    parser.add_argument("--corrections", default=DEFAULT_CORRECTIONS, help="the corrections file")
    parser.add_argument("--output", default=DEFAULT_OUTPUT, help="where to write the table")
    args = parser.parse_args(argv)
    source = args.source or default_source()
    table = build(source, args.corrections)
    text = render(table)
    with open(args.output, "w", encoding="utf-8", newline="\n") as file:
        file.write(text)
    print(f"{args.output}: {len(table['models'])} models, {len(text.encode())} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
