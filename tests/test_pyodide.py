"""ritellm under Pyodide, installed from its wheel: in Node, and in the chat page
(``wasm/chat.html``) in Chromium, against a loopback API on another origin. The checks
themselves are in ``tests/browser/checks.py``; here are the servers and the verdicts."""

from __future__ import annotations

import functools
import gzip
import json
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests import responses_formats
from tests.browser import checks
from tests.embedding_formats import EmbeddingAPI
from tests.server import FakeServer, Recorded, Reply, echo_chunks, echo_completion

ROOT = Path(__file__).parent.parent
BROWSER = Path(__file__).parent / "browser"
#: Where the page's screenshot is kept after a run.
ARTIFACTS = ROOT / "target" / "test-artifacts"
VECTORS = json.loads((Path(__file__).parent / "fixtures" / "sse_vectors.json").read_text("utf-8"))
#: OpenAI's answer to a wrong key (its key shown masked, as OpenAI does).
UNAUTHORIZED = {
    "error": {
        "message": "Incorrect API key provided: sk-brows*******6789. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
        "type": "invalid_request_error",
        "param": None,
        "code": "invalid_api_key",
    }
}
RATE_LIMITED = {
    "error": {
        "message": "Rate limit reached for gpt-4o-mini on requests per min (RPM): Limit 3, Used 3.",
        "type": "requests",
        "param": None,
        "code": "rate_limit_exceeded",
    }
}


def scripted_api(server: FakeServer) -> None:
    """The loopback API the checks call, scripted by model name (see checks.py)."""
    limited = threading.Event()
    embeddings = EmbeddingAPI()

    def answer(recorded: Recorded) -> Reply | None:
        if recorded.path.endswith("/embeddings"):  # vectors from the texts, as checks.vector_for
            return embeddings(recorded)
        if recorded.path.endswith("/responses"):
            return Reply(
                200,
                {"content-type": "text/event-stream"},
                [responses_formats.sse(responses_formats.STREAM_TEXT)],
            )
        request = recorded.json() if recorded.body else {}
        model = request.get("model")
        if model == "unauthorized":
            return Reply.json(UNAUTHORIZED, 401, {"x-request-id": "req_browser_check"})
        if model == "rate-limited":
            if not limited.is_set():  # every other request: each check's first attempt
                limited.set()
                return Reply.json(RATE_LIMITED, 429, {"retry-after": "0"})
            limited.clear()
        if model == "cut":
            return Reply.sse(echo_chunks(request)[:2], done=False, drop=True, delay=0.1)
        if model == "slow":
            return Reply(200, {"content-type": "application/json"}, [b"{}"], delay=3.0)
        if model == "echo-key":  # a 400 that quotes the key where the core's 500-character cut falls
            sent = f"authorization: {recorded.headers.get('authorization', '')}"
            message = "x" * (500 - len("authorization: Bearer ") - 10) + sent + " was refused"
            return Reply.json({"error": {"message": message, "type": "invalid_request_error"}}, 400)
        if model == "gzip":
            body = gzip.compress(json.dumps(echo_completion(request)).encode())
            return Reply(200, {"content-type": "application/json", "content-encoding": "gzip"}, [body])
        return None  # the echo answer, complete or streamed

    server.answer = answer
    # Like a provider that allows browsers: every origin, exposing the request id only (so a
    # retry has no retry-after to read).
    server.cors_exposed = ["x-request-id"]


@pytest.fixture(scope="module")
def api() -> Iterator[FakeServer]:
    server = FakeServer()
    scripted_api(server)
    yield server
    server.close()


def closed_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def context(api: FakeServer, tmp_path: Path, browser: bool, measure: bool = False) -> Path:
    """The checks' context file (see checks.py): where to call, and how sync calls go out.

    Node has no JavaScript Promise Integration by default and no XMLHttpRequest; Chromium has
    JSPI, and "xhr" hides it to take the other sync way."""
    path = tmp_path / "context.json"
    values = {
        "base_url": api.base_url,
        "closed_url": closed_url(),
        "vectors": VECTORS,
        "request_id": True,
        "response_text": responses_formats.TEXT,
    }
    sync = ["jspi", "xhr"] if browser else ["none"]
    path.write_text(json.dumps({**values, "browser": browser, "sync": sync, "measure": measure}))
    return path


def build_wheel(out: Path) -> Path:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
    )
    (built,) = out.glob("ritellm-*.whl")
    return built


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheel"))


def run_node(*args: str) -> dict[str, Any]:
    done = subprocess.run(["node", *args], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-4000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.fixture(scope="module")
def in_node(wheel: Path, api: FakeServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return run_node(
        str(BROWSER / "node.mjs"), str(wheel), str(context(api, tmp_path_factory.mktemp("n"), browser=False))
    )


class _StaticFiles(SimpleHTTPRequestHandler):
    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".mjs": "text/javascript",
        ".wasm": "application/wasm",
    }

    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve_page(wheel: Path, site: Path) -> tuple[str, ThreadingHTTPServer]:
    """The chat page, Pyodide and the wheel, served from their own origin: the page's URL."""
    (site / "chat.html").symlink_to(ROOT / "wasm" / "chat.html")
    (site / "pyodide").symlink_to(ROOT / "node_modules" / "pyodide")
    (site / "ritellm.whl").symlink_to(wheel)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_StaticFiles, directory=str(site)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{httpd.server_address[1]}/chat.html?pyodide=./pyodide/", httpd


@pytest.fixture(scope="module")
def page_url(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url, httpd = serve_page(wheel, tmp_path_factory.mktemp("site"))
    yield url
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def in_chromium(page_url: str, api: FakeServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = context(api, tmp_path_factory.mktemp("chromium"), browser=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return run_node(str(BROWSER / "chromium.mjs"), page_url, str(path), str(ARTIFACTS / "chat-page.png"))


@pytest.mark.parametrize("name", list(checks.CHECKS))
def test_in_node(in_node: dict[str, Any], name: str) -> None:
    assert in_node["checks"][name] == "ok", in_node["checks"][name]


@pytest.mark.parametrize("name", list(checks.CHECKS))
def test_in_chromium(in_chromium: dict[str, Any], name: str) -> None:
    assert in_chromium["checks"][name] == "ok", in_chromium["checks"][name]


def test_the_page_streams_chats_and_shows_typed_errors(in_chromium: dict[str, Any], api: FakeServer) -> None:
    mock, loopback, refused = in_chromium["chats"]
    assert mock == {"className": "turn assistant", "text": "streamed into the page"}
    assert loopback == {"className": "turn assistant", "text": "echo: across origins"}
    assert refused["className"] == "turn error"
    assert "AuthenticationError" in refused["text"]
    assert "Incorrect API key provided" in refused["text"]
    assert (ARTIFACTS / "chat-page.png").stat().st_size > 10_000
    # The browser logs each failed request (the refused connection, the 401) as a console
    # error; anything else the page or ritellm wrote there is a failure.
    assert not [
        line
        for line in in_chromium["console"]
        if line.startswith(("error", "pageerror")) and not line.startswith("error: Failed to load resource")
    ]


def test_browser_requests_leave_out_the_headers_browsers_own(
    in_chromium: dict[str, Any], api: FakeServer
) -> None:
    sent = [r for r in api.requests if r.json().get("model") == "gpt-4o-mini"]
    assert sent
    for request in sent:
        assert request.headers["authorization"].startswith("Bearer sk-")
        assert not request.headers.get("user-agent", "").startswith("ritellm/")
        assert "cookie" not in request.headers


@pytest.mark.parametrize(
    ("platform", "machine", "expected"),
    [
        ("emscripten", "wasm32", set()),  # Pyodide: fetch and the browser's engine, nothing to install
        ("linux", "armv7l", {"httpx", "aiohttp"}),  # no wasmtime build: never its Windows-only wheel
        ("linux", "x86_64", {"httpx", "aiohttp", "wasmtime"}),
        ("darwin", "arm64", {"httpx", "aiohttp", "wasmtime"}),
        ("win32", "AMD64", {"httpx", "aiohttp", "wasmtime"}),
    ],
)
def test_the_wheel_requires_only_what_runs_on_the_platform(
    wheel: Path, platform: str, machine: str, expected: set[str]
) -> None:
    import zipfile

    from packaging.requirements import Requirement

    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = archive.read(name).decode()
        assert not [n for n in archive.namelist() if n.endswith((".so", ".pyd", ".dylib"))]
    assert wheel.name.endswith("-py3-none-any.whl")
    environment = {"sys_platform": platform, "platform_machine": machine, "extra": ""}
    required = set()
    for line in metadata.splitlines():
        if line.startswith("Requires-Dist: "):
            requirement = Requirement(line.removeprefix("Requires-Dist: "))
            if requirement.marker is None or requirement.marker.evaluate(environment):
                required.add(requirement.name)
    assert required == expected


def test_the_wheel_carries_its_license_and_the_index_metadata(wheel: Path) -> None:
    import zipfile

    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (metadata_name,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        metadata = archive.read(metadata_name).decode()
        (license_name,) = [n for n in names if n.endswith("/LICENSE")]
        assert archive.read(license_name).decode() == (ROOT / "LICENSE").read_text()
    assert "License-Expression: MIT" in metadata and "MIT License" in (ROOT / "LICENSE").read_text()
    assert "Project-URL: Documentation, https://" in metadata
    versions = set(re.findall(r"Classifier: Programming Language :: Python :: (3\.\d+)", metadata))
    assert versions == {f"3.{minor}" for minor in range(9, 15)}
    assert "Requires-Python: >=3.9" in metadata
