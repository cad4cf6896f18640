"""The ``ritellm`` command."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ritellm._cli import main
from tests.server import FakeServer


def test_streams_the_mock_answer(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-m", "mock/echo", "hello from the terminal"]) == 0
    assert capsys.readouterr().out == "hello from the terminal\n"


def test_defaults_to_the_mock_model(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["no model given"]) == 0
    assert capsys.readouterr().out == "no model given\n"


def test_reads_the_prompt_from_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("piped prompt"))
    assert main(["--no-stream"]) == 0
    assert capsys.readouterr().out == "piped prompt\n"


def test_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--no-stream", "--json", "hi"]) == 0
    assert json.loads(capsys.readouterr().out)["object"] == "chat.completion"
    assert main(["--json", "hi there"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [c["object"] for c in lines] == ["chat.completion.chunk"] * len(lines) and len(lines) == 4


def test_options_reach_the_server(capsys: pytest.CaptureFixture[str], server: FakeServer) -> None:
    args = [
        "-m",
        "hosted_vllm/m",
        "--base-url",
        server.base_url,
        "-s",
        "be terse",
        "-t",
        "0.2",
        "--max-tokens",
        "9",
        "question",
    ]
    assert main(args) == 0
    assert capsys.readouterr().out == "echo: question\n"
    sent = server.requests[0].json()
    assert sent["messages"] == [
        {"role": "system", "content": "be terse"},
        {"role": "user", "content": "question"},
    ]
    assert (sent["temperature"], sent["max_tokens"], sent["stream"]) == (0.2, 9, True)


def test_errors_are_one_line_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-m", "nope/x", "hi"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith('ritellm: error: unsupported provider "nope"')
    assert captured.err.count("\n") == 1


def test_python_dash_m() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ritellm", "-m", "mock/echo", "via -m"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout == "via -m\n"


def test_warm_cache_compiles_ahead_so_a_later_process_loads_from_the_cache(tmp_path: Path) -> None:
    env = {**os.environ, "RITELLM_CACHE_DIR": str(tmp_path)}
    warm = subprocess.run(
        [sys.executable, "-m", "ritellm", "--warm-cache"], capture_output=True, text=True, env=env, check=True
    )
    assert str(tmp_path) in warm.stdout
    [cached] = tmp_path.glob("ritellm_core-*.bin")
    # A later process must deserialize that file, not compile: make compiling fail there.
    probe = (
        "from ritellm._engines import wasmtime as w\n"
        "def refuse(*a): raise SystemExit('compiled although the cache was warm')\n"
        "w._bound().wasmtime_module_new = refuse\n"
        "import ritellm\n"
        "print(ritellm.completion('mock/echo', [{'role': 'user', 'content': 'warm'}])['choices'][0]['message']['content'])\n"
    )
    later = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True)
    assert later.stdout.strip() == "warm"
    assert [cached] == list(tmp_path.glob("ritellm_core-*.bin"))
