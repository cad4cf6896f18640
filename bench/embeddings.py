"""Embeddings: 256 inputs answered with 1,536-dimensional vectors by a local OpenAI-compatible
server, as ritellm, the openai SDK and LiteLLM fetch them, beside raw httpx with stdlib ``json``.

    python3 bench/embeddings.py [--rounds N]

The server answers as OpenAI does: base64 (little-endian float32) when the request asks for it,
JSON floats otherwise. Raw httpx asks for floats and parses them with ``json`` (the float
answer); the libraries ask for what they ask for. Each library runs in fresh subprocesses,
alternating; times are the median of the rounds, peak RSS the smallest. Read the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import random
import socket
import statistics
import struct
import subprocess
import sys
import textwrap
import threading
from typing import Any

INPUTS = 256
DIMENSIONS = 1536
CALLS = 20

_random = random.Random(7)
VECTORS = [[_random.uniform(-0.1, 0.1) for _ in range(DIMENSIONS)] for _ in range(8)]
#: float32 values as a server holds them, and their two encodings.
FLOAT32 = [list(struct.unpack(f"<{DIMENSIONS}f", struct.pack(f"<{DIMENSIONS}f", *v))) for v in VECTORS]
AS_BASE64 = [base64.b64encode(struct.pack(f"<{DIMENSIONS}f", *v)).decode() for v in FLOAT32]


#: Answers made once: the server's own encoding is not what is measured.
_answers: dict[tuple[int, bool, str], bytes] = {}


def answer(request: dict[str, Any]) -> bytes:
    as_base64 = request.get("encoding_format") == "base64"
    key = (len(request["input"]), as_base64, request["model"])
    if key not in _answers:
        _answers[key] = _answer(request, as_base64)
    return _answers[key]


def _answer(request: dict[str, Any], as_base64: bool) -> bytes:
    data = [
        {
            "object": "embedding",
            "index": i,
            "embedding": (AS_BASE64 if as_base64 else FLOAT32)[i % len(FLOAT32)],
        }
        for i in range(len(request["input"]))
    ]
    usage = {"prompt_tokens": 5 * len(data), "total_tokens": 5 * len(data)}
    return json.dumps({"object": "list", "data": data, "model": request["model"], "usage": usage}).encode()


async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            )
            body = answer(json.loads(await reader.readexactly(length)))
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s"
                % (len(body), body)
            )
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()


def start_server() -> str:
    sock = socket.create_server(("127.0.0.1", 0))
    loop = asyncio.new_event_loop()

    async def main() -> None:
        server = await asyncio.start_server(serve, sock=sock)
        async with server:
            await server.serve_forever()

    threading.Thread(target=lambda: loop.run_until_complete(main()), daemon=True).start()
    return f"http://127.0.0.1:{sock.getsockname()[1]}/v1"


PROGRAM = """
import json, resource, sys, time
BASE = sys.argv[1]
INPUTS = ["input number %d, a sentence of a few words to embed" % i for i in range({inputs})]
{library}
first = embed()
assert len(first) == {inputs} and len(first[0]) == {dimensions}, (len(first), len(first[0]))
times = []
for _ in range({calls}):
    started = time.perf_counter()
    embed()
    times.append(time.perf_counter() - started)
times.sort()
print(json.dumps({{"ms": times[len(times) // 2] * 1000,
                   "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""

LIBRARIES = {
    "httpx+json (floats)": """
        import httpx
        client = httpx.Client()
        def embed():
            r = client.post(BASE + "/embeddings", json={"model": "text-embedding-3-small", "input": INPUTS},
                            headers={"authorization": "Bearer sk-bench"})
            return [item["embedding"] for item in json.loads(r.content)["data"]]
    """,
    "ritellm": """
        import ritellm
        def embed():
            answer = ritellm.embedding("openai/text-embedding-3-small", INPUTS, base_url=BASE, api_key="sk-bench")
            return [item["embedding"] for item in answer["data"]]
    """,
    "openai": """
        import openai
        client = openai.OpenAI(base_url=BASE, api_key="sk-bench")
        def embed():
            answer = client.embeddings.create(model="text-embedding-3-small", input=INPUTS)
            return [item.embedding for item in answer.data]
    """,
    "litellm": """
        import litellm
        def embed():
            answer = litellm.embedding("openai/text-embedding-3-small", input=INPUTS, api_base=BASE, api_key="sk-bench")
            return [item["embedding"] for item in answer.data]
    """,
}
MODULES = {"httpx+json (floats)": "httpx", "ritellm": "ritellm", "openai": "openai", "litellm": "litellm"}


def run(name: str, base: str) -> dict[str, float]:
    program = PROGRAM.format(
        inputs=INPUTS, dimensions=DIMENSIONS, calls=CALLS, library=textwrap.dedent(LIBRARIES[name])
    )
    done = subprocess.run([sys.executable, "-c", program, base], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{name} failed:\n{done.stderr}")
    measured: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return measured


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    import importlib.util

    names = [name for name, module in MODULES.items() if importlib.util.find_spec(module) is not None]
    base = start_server()
    results: dict[str, dict[str, list[float]]] = {name: {"ms": [], "rss_mb": []} for name in names}
    for _ in range(rounds):
        for name in names:
            for metric, value in run(name, base).items():
                results[name][metric].append(value)
    ms = {name: statistics.median(r["ms"]) for name, r in results.items()}
    rss = {name: min(r["rss_mb"]) for name, r in results.items()}
    baseline, peer = "httpx+json (floats)", "openai"
    print(f"embedding {INPUTS} inputs x {DIMENSIONS} dimensions, median of {rounds} rounds of {CALLS} calls")
    print(f"{'':22}{'ms/call':>10}{'x httpx':>10}{'x openai':>10}{'RSS MB':>10}{'x httpx':>10}")
    for name in names:
        vs_peer = f"{ms[name] / ms[peer]:.2f}" if peer in ms else "-"
        print(
            f"{name:22}{ms[name]:10.1f}{ms[name] / ms[baseline]:10.2f}{vs_peer:>10}"
            f"{rss[name]:10.1f}{rss[name] / rss[baseline]:10.2f}"
        )
    met = ms["ritellm"] < ms[baseline] and (peer not in ms or ms["ritellm"] <= ms[peer])
    memory = rss["ritellm"] <= 1.3 * rss[baseline]
    print(
        f"targets: time under httpx+json and at or under openai: {'met' if met else 'MISSED'}; "
        f"peak RSS within 1.3x httpx: {'met' if memory else 'MISSED'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
