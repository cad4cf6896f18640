"""Every Python example in the README runs as written, against a local OpenAI-compatible server
that streams as real ones do (Azure's first chunk and a usage chunk carry no choices); and the
README's provider table says what the core's table (``ritellm.providers()``) says."""

from __future__ import annotations

import base64
import os
import re
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import ritellm
from tests.server import FakeServer, Recorded, Reply, echo_chunks

ROOT = Path(__file__).parent.parent
README = ROOT / "README.md"
EXAMPLES = re.findall(r"```python\n(.*?)```", README.read_text("utf-8"), re.S)
#: Azure OpenAI's first chunk of a stream: content-filter results, no choices.
AZURE_FIRST = {
    "id": "",
    "object": "",
    "created": 0,
    "model": "",
    "choices": [],
    "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": {}}],
}


def streams_like_real_servers(recorded: Recorded) -> Reply | None:
    request = recorded.json() if recorded.body else {}
    if recorded.path.endswith("/embeddings"):
        return Reply.json(embeddings(request))
    if not request.get("stream"):
        return None
    usage = {**echo_chunks(request)[0], "choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2}}
    return Reply.sse([AZURE_FIRST, *echo_chunks(request), usage])


def embeddings(request: dict[str, Any]) -> dict[str, Any]:
    """OpenAI's answer to an embeddings request: base64 when asked, as OpenAI does."""
    inputs = request["input"] if isinstance(request["input"], list) else [request["input"]]
    vector = [0.25] * request.get("dimensions", 1536)
    packed = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
    encoded = packed if request.get("encoding_format") == "base64" else vector
    return {
        "object": "list",
        "data": [{"object": "embedding", "index": i, "embedding": encoded} for i in range(len(inputs))],
        "model": request["model"],
        "usage": {"prompt_tokens": 2 * len(inputs), "total_tokens": 2 * len(inputs)},
    }


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"example{i}" for i in range(len(EXAMPLES))])
def test_readme_example_runs_as_written(example: str, server: FakeServer, tmp_path: Path) -> None:
    server.answer = streams_like_real_servers
    env: dict[str, Any] = {
        **os.environ,
        "OPENAI_BASE_URL": server.base_url,
        "OPENAI_API_KEY": "sk-readme-0123456789",
        "RITELLM_CACHE_DIR": str(tmp_path),
        "PYTHONPATH": str(ROOT),  # this checkout, whatever is installed
    }
    script = tmp_path / "example.py"
    script.write_text(example)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    for prompt in re.findall(r'"content": "([^"]+)"', example):
        if "openai/" in example:  # the local server echoes each prompt back
            assert f"echo: {prompt}" in done.stdout, (prompt, done.stdout)
    assert done.stdout or done.stderr  # every example shows something


def test_the_examples_were_found() -> None:
    assert len(EXAMPLES) >= 5


def test_links_work_on_the_package_index_too() -> None:
    # The index renders the README without the repository around it: no relative links, and
    # no anchors (it gives headings no ids).
    links = re.findall(r"\]\(([^)]+)\)", README.read_text("utf-8"))
    assert links and all(link.startswith(("https://", "http://127.0.0.1")) for link in links)


PROVIDER_TABLE_HEAD = "| prefix | API base (default) | base from the environment | key variable | serves |"


def _provider_rows() -> dict[str, list[str]]:
    """The README's provider table: prefix -> its cells (prefix, default base, base variables,
    key variable, operations)."""
    text = README.read_text("utf-8")
    lines = text[text.index(PROVIDER_TABLE_HEAD) :].splitlines()[2:]
    rows = {}
    for line in lines:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        prefix = re.match(r"`([a-z0-9_]+)/", cells[0])
        assert prefix, line
        rows[prefix.group(1)] = cells
    return rows


def _pattern(url: str) -> str:
    """A URL with its placeholders (the core's ``{NAME}``, the README's ``$NAME`` and
    ``<name>``) as ``*``."""
    return re.sub(r"\{[A-Z_]+\}|\$[A-Z_]+|<[a-z ]+>", "*", url)


def test_the_readme_provider_table_is_the_cores() -> None:
    rows = _provider_rows()
    providers = {provider.prefix: provider for provider in ritellm.providers()}
    assert sorted(rows) == sorted(providers)
    for prefix, provider in providers.items():
        _, base_cell, env_cell, key_cell, serves_cell = rows[prefix]
        native = " (native)" if provider.native_responses else ""
        served = tuple(op + native if op == "responses" else op for op in provider.operations)
        assert tuple(serves_cell.split(", ")) == served, prefix
        assert tuple(re.findall(r"`([A-Z0-9_]+)`", env_cell)) == provider.base_url_env, prefix
        if provider.key_env is None:
            assert key_cell.startswith("none"), prefix
        else:
            assert f"`{provider.key_env}`" in key_cell, prefix
            # A key the table does not require is optional, or stands beside other credentials.
            optional = "(optional)" in key_cell or "credentials" in key_cell
            assert optional == (not provider.key_required), prefix
        documented = re.match(r"`([^`]+)`", base_cell)
        if provider.base_url is None:
            assert base_cell.startswith("none"), prefix
        elif provider.base_url.startswith("mock://"):
            assert base_cell == "in-process", prefix
        elif prefix == "vertex_ai":
            # The core lists Vertex AI's global host; a call goes to its location's host
            # (us-central1 by default), which is what the README shows.
            assert documented and documented.group(1).endswith("-" + provider.base_url.split("//")[1])
        else:
            assert documented and _pattern(documented.group(1)) == _pattern(provider.base_url), prefix
