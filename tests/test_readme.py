"""Every Python example in the README runs as written, against a local OpenAI-compatible server
that streams as real ones do (Azure's first chunk and a usage chunk carry no choices)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

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
    if not request.get("stream"):
        return None
    usage = {**echo_chunks(request)[0], "choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2}}
    return Reply.sse([AZURE_FIRST, *echo_chunks(request), usage])


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
