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


def test_a_servers_multi_line_message_is_one_line_naming_the_commands_options(
    capsys: pytest.CaptureFixture[str], server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.server import Reply

    error = {"error": {"message": "bad request:\n  line two\r\n\tline three", "type": "invalid"}}
    server.queue(Reply.json(error, status=400))
    assert main(["-m", "hosted_vllm/m", "--base-url", server.base_url, "hi"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "\r" not in err and "\t" not in err
    assert "bad request: line two line three" in err

    monkeypatch.delenv("HOSTED_VLLM_API_BASE", raising=False)
    assert main(["-m", "hosted_vllm/m", "hi"]) == 1
    err = capsys.readouterr().err
    assert "--base-url" in err and "base_url" not in err.replace("--base-url", "")

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert main(["-m", "openai/m", "hi"]) == 1
    err = capsys.readouterr().err
    assert "set OPENAI_API_KEY" in err and "api_key" not in err


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


def test_every_option_has_help_text() -> None:
    from ritellm._cli import _parser

    undocumented = [a.dest for a in _parser()._actions if not a.help]
    assert undocumented == []


def test_providers_lists_every_prefix(capsys: pytest.CaptureFixture[str]) -> None:
    import ritellm

    assert main(["--providers"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == [p.prefix for p in ritellm.providers()]


def test_a_piped_prompt_loses_its_trailing_newline(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, server: FakeServer
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("piped prompt\n"))
    assert main(["-m", "hosted_vllm/m", "--base-url", server.base_url, "--no-stream"]) == 0
    assert server.requests[0].json()["messages"] == [{"role": "user", "content": "piped prompt"}]


def test_a_terminal_without_a_prompt_gets_a_hint_not_a_silent_wait(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Terminal("typed\n"))
    assert main([]) == 0
    captured = capsys.readouterr()
    assert "type the prompt, then Ctrl-D" in captured.err
    assert captured.out == "typed\n"


def test_a_refused_local_server_is_named_with_how_to_start_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{port}")
    assert main(["-m", "ollama/llama3.2", "hi"]) == 1
    err = capsys.readouterr().err
    assert f"http://127.0.0.1:{port}/v1/chat/completions" in err and "ollama serve" in err


def _cli(*args: str, stdin: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "ritellm", *args],
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("where", ["reading stdin", "streaming"])
def test_ctrl_c_exits_130_without_a_traceback(where: str, server: FakeServer) -> None:
    import signal
    import time

    from tests.server import Reply

    if where == "reading stdin":
        process = _cli(stdin=subprocess.PIPE)  # waits for a prompt that never comes
        # Interrupt it once it is blocked reading the pipe (a wait Linux names "pipe_read" or
        # "anon_pipe_read"), past its imports and the core's load.
        wchan = Path(f"/proc/{process.pid}/wchan")
        deadline = time.monotonic() + 30
        while "pipe_read" not in wchan.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
    else:
        chunk = {
            "id": "c",
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": {"content": "w "}}],
        }
        server.queue(Reply.sse([chunk] * 50, delay=0.2))
        process = _cli("-m", "hosted_vllm/m", "--base-url", server.base_url, "hi", stdin=subprocess.DEVNULL)
        assert process.stdout is not None
        assert process.stdout.read(2) == "w "  # interrupted mid-stream, after its first chunk
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert "Traceback" not in err


def test_output_piped_into_head_ends_quietly() -> None:
    words = f"{sys.executable} -c 'print(\"word \" * 50_000)'"
    done = subprocess.run(
        f"{words} | {sys.executable} -m ritellm | head -c 20",
        shell=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout == "word " * 4
    assert done.stderr == ""


def test_embed_prints_the_answer_as_json(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["embed", "--dimensions", "4", "some text"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["object"] == "list" and [len(item["embedding"]) for item in answer["data"]] == [4]
    monkeypatch.setattr(sys, "stdin", io.StringIO("first line\n\nsecond line\n"))
    assert main(["embed"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert [item["index"] for item in answer["data"]] == [0, 1]  # one input a non-empty line
    assert main(["embed", "-m", "groq/some-model", "text"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("ritellm: error: ") and err.count("\n") == 1 and "embedding" in err
