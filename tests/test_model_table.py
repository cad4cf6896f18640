"""The model table, wasm/ritellm_models.json: its data only (built by wasm/models/build.py from
LiteLLM's price map and wasm/models/corrections.json). The only ritellm API used is
``ritellm.providers()``, whose prefixes the table's model strings must use."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import ritellm

ROOT = Path(__file__).resolve().parent.parent
TABLE = ROOT / "wasm" / "ritellm_models.json"
BUILD = ROOT / "wasm" / "models" / "build.py"
CORRECTIONS = ROOT / "wasm" / "models" / "corrections.json"

#: Provider rows that serve chat with no fixed list of models, so none is in the table.
EXEMPT = {
    "lm_studio": "self-hosted: serves whatever model the user loaded in LM Studio",
    "hosted_vllm": "self-hosted: serves whatever model the user's vLLM server was started with",
    "llamafile": "self-hosted: the model is the llamafile the user runs",
    "mock": "in-process test provider: echoes, costs nothing",
}

PROVIDERS = {provider.prefix: provider for provider in ritellm.providers()}
MODES = {"chat", "embedding", "responses"}
INT_FIELDS = {"max_tokens", "max_input_tokens", "max_output_tokens"}


def reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"), parse_constant=reject_constant)


@pytest.fixture(scope="module")
def table() -> dict[str, Any]:
    data: dict[str, Any] = load(TABLE)
    return data


@pytest.fixture(scope="module")
def corrections() -> dict[str, Any]:
    data: dict[str, Any] = load(CORRECTIONS)
    return data


def builder() -> Any:
    spec = importlib.util.spec_from_file_location("ritellm_models_build", BUILD)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_file_is_valid_json_of_the_documented_shape(
    table: dict[str, Any], corrections: dict[str, Any]
) -> None:
    assert set(table) == {"version", "checked", "sources", "models"}
    assert table["version"] == 1
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", table["checked"])
    assert table["checked"] == corrections["checked"]
    litellm = table["sources"][0]
    assert litellm["license"] == "MIT" and re.fullmatch(r"[0-9a-f]{64}", litellm["sha256"])
    assert isinstance(table["models"], dict) and len(table["models"]) > 1000


def test_the_file_is_sorted_with_one_model_a_line(table: dict[str, Any]) -> None:
    text = TABLE.read_text(encoding="utf-8")
    lines = text.splitlines()
    model_lines = [
        line for line in lines if line.startswith('"') and line.split('"', 2)[1] in table["models"]
    ]
    assert len(model_lines) == len(table["models"])
    names = [json.loads("{" + line.rstrip(",") + "}").popitem()[0] for line in model_lines]
    assert names == sorted(table["models"])
    for line in model_lines:
        value = json.loads("{" + line.rstrip(",") + "}").popitem()[1]
        assert list(value) == sorted(value), line[:80]


def test_build_is_deterministic_and_reproduces_the_committed_file(tmp_path: Path) -> None:
    build = builder()
    try:
        source = build.default_source()
    except SystemExit as error:
        pytest.skip(f"LiteLLM's price map is not installed: {error}")
    recorded = load(TABLE)["sources"][0]["sha256"]
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    for output in (first, second):
        subprocess.run(
            [sys.executable, str(BUILD), "--source", source, "--output", str(output)],
            check=True,
            capture_output=True,
        )
    assert first.read_bytes() == second.read_bytes()
    if hashlib.sha256(Path(source).read_bytes()).hexdigest() != recorded:
        pytest.skip(
            "the installed litellm's price map is not the one the table was built from: run `just models`"
        )
    assert first.read_bytes() == TABLE.read_bytes(), "the table is stale: run `just models`"


def test_every_key_uses_a_ritellm_prefix(table: dict[str, Any]) -> None:
    wrong = [name for name in table["models"] if "/" not in name or name.split("/", 1)[0] not in PROVIDERS]
    assert not wrong, wrong[:20]
    assert not [name for name in table["models"] if name.split("/", 1)[0] in EXEMPT]


def test_every_provider_row_has_a_model(table: dict[str, Any]) -> None:
    served: dict[str, set[str]] = {}
    for name, entry in table["models"].items():
        served.setdefault(name.split("/", 1)[0], set()).add(entry["mode"])
    lacking = []
    for prefix, provider in PROVIDERS.items():
        if prefix in EXEMPT:
            continue
        wanted = {"chat", "responses"} if "chat" in provider.operations else set(provider.operations)
        if not served.get(prefix, set()) & wanted:
            lacking.append(prefix)
    assert not lacking, f"provider rows with no model in the table: {lacking}"
    assert set(EXEMPT) <= set(PROVIDERS), "an exempt row is no longer a provider"


def test_entries_hold_only_sound_values(table: dict[str, Any]) -> None:
    tier = re.compile(
        r"^(?:input_cost_per_token|output_cost_per_token|cache_read_input_token_cost"
        r"|cache_creation_input_token_cost)_above_\d+k_tokens$"
    )
    for name, entry in table["models"].items():
        assert entry["mode"] in MODES, name
        source = entry["source"]
        assert source == "litellm" or source.startswith("https://"), name
        for field, value in entry.items():
            assert value is not None, (name, field)
            if field.startswith("supports_"):
                assert value is True, (name, field)  # false flags are dropped
            elif field in INT_FIELDS:
                assert type(value) is int and value > 0, (name, field, value)
            elif "cost" in field:
                assert tier.match(field) or field in {
                    "input_cost_per_token",
                    "output_cost_per_token",
                    "cache_read_input_token_cost",
                    "cache_creation_input_token_cost",
                    "output_cost_per_reasoning_token",
                    "input_cost_per_token_batches",
                    "output_cost_per_token_batches",
                }, (name, field)
                assert type(value) in (int, float), (name, field, value)
                assert math.isfinite(value) and value >= 0, (name, field, value)
            else:
                assert field in {"mode", "source", "corrected"}, (name, field)


def test_each_correction_is_applied(table: dict[str, Any], corrections: dict[str, Any]) -> None:
    assert corrections["corrections"], "no corrections"
    for correction in corrections["corrections"]:
        entry = table["models"].get(correction["model"])
        assert entry is not None, correction["model"]
        assert entry["corrected"] == correction["reason"]
        assert entry["source"] == correction["source"] and correction["source"].startswith("https://")
        for field, value in correction["set"].items():
            if value is None:
                assert field not in entry, (correction["model"], field)
            else:
                assert entry[field] == value, (correction["model"], field)
    corrected = {name for name, entry in table["models"].items() if "corrected" in entry}
    assert corrected == {correction["model"] for correction in corrections["corrections"]}


def test_responses_only_models_are_marked(table: dict[str, Any]) -> None:
    """LiteLLM's mode "responses": models OpenAI serves only through the Responses API."""
    for name in ("openai/o3-pro", "openai/o1-pro", "openai/gpt-5-codex"):
        assert table["models"][name]["mode"] == "responses", name
    assert table["models"]["openai/gpt-4o"]["mode"] == "chat"
