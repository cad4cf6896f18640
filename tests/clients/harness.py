"""Runs one client's scenario: named steps against the scripted server, results in one JSON file.

A scenario script (``tests/clients/scenario_<client>.py``) is run as
``python tests/clients/scenario_<client>.py --mode litellm|ritellm --out result.json`` and
starts like this, so that in ritellm mode nothing imports ``litellm`` before ritellm takes its
name::

    import sys

    if sys.argv[sys.argv.index("--mode") + 1] == "ritellm":
        import ritellm

        ritellm.install_as_litellm()

    import pathlib

    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
    from tests.clients.harness import Scenario  # noqa: E402
    from tests.clients.server import text, tool_calls  # noqa: E402

    scenario = Scenario()  # starts the server, points every client at it, guards the network

    import instructor  # noqa: E402  (the clients come after)

    @scenario.step("tools_mode")
    def tools_mode(server):
        server.responder = lambda request: tool_calls(("User", {"name": "Ada", "age": 36}))
        ...
        return {"name": user.name}  # JSON-able; compared between the two modes

    scenario.run()

``Scenario()`` parses the arguments, starts a :class:`~tests.clients.server.ScriptedServer`
and sets the environment every client reads: ``OPENAI_API_KEY`` (a fake key),
``OPENAI_BASE_URL`` and ``OPENAI_API_BASE`` (the server), ``LITELLM_LOCAL_MODEL_COST_MAP``
(LiteLLM reads its bundled price map instead of fetching one), tracing and telemetry off.
It also refuses every connection and name lookup that is not to this machine, recording it, so
that the test can say "nothing left the machine" rather than hope so.

A step is a function of the server (sync or ``async def``); it passes when it returns, and
fails with whatever it raises. Each step starts with the default responder. Its record: name,
``ok``, the error (type, message, traceback), its return value, and every request the server
received while it ran (method, path, headers, parsed JSON body, status answered). The file is
rewritten after each step, so a process that dies midway still says how far it got.
"""

from __future__ import annotations

import argparse
import asyncio
import faulthandler
import inspect
import json
import os
import socket
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from tests.clients.server import ScriptedServer, default_responder

FAKE_KEY = "sk-scripted-0000000000000000000000000000ffff"
#: A step that takes longer is stuck: its threads' stacks go to stderr and the process ends.
STEP_TIMEOUT = 120.0
LOOPBACK = ("127.0.0.1", "::1", "localhost", "::ffff:127.0.0.1")

#: Variables that would send a client elsewhere, or make it talk to a tracing service.
FOREIGN_ENV_PREFIXES = (
    "OPENAI_",
    "AZURE_",
    "ANTHROPIC_",
    "LITELLM_",
    "LANGCHAIN_",
    "LANGSMITH_",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
)


class Scenario:
    def __init__(self) -> None:
        parser = argparse.ArgumentParser()
        parser.add_argument("--mode", choices=["litellm", "ritellm"], required=True)
        parser.add_argument("--out", required=True)
        parser.add_argument("--only", action="append", help="run only these steps")
        args = parser.parse_args()
        self.mode: str = args.mode
        self.out: str = args.out
        self.only: list[str] | None = args.only
        self.steps: list[tuple[str, Callable[[ScriptedServer], Any]]] = []
        self.records: list[dict[str, Any]] = []
        self.foreign: list[str] = []
        self.server = ScriptedServer()
        self._set_environment()
        sys.addaudithook(self._audit)

    def _set_environment(self) -> None:
        for name in list(os.environ):
            if name.upper().startswith(FOREIGN_ENV_PREFIXES):
                del os.environ[name]
        os.environ.update(
            {
                "OPENAI_API_KEY": FAKE_KEY,
                "OPENAI_BASE_URL": self.server.base_url,
                "OPENAI_API_BASE": self.server.base_url,
                "LITELLM_LOCAL_MODEL_COST_MAP": "True",
                "LITELLM_TELEMETRY": "False",
                "LANGCHAIN_TRACING_V2": "false",
                "LANGSMITH_TRACING": "false",
                "HF_HUB_OFFLINE": "1",
                "DO_NOT_TRACK": "1",
                # A client that goes through a proxy comes here instead, and is recorded.
                "HTTP_PROXY": self.server.url,
                "HTTPS_PROXY": self.server.url,
                "NO_PROXY": "127.0.0.1,localhost,::1",
            }
        )

    def _audit(self, event: str, args: tuple[Any, ...]) -> None:
        if event == "socket.connect":
            sock, address = args
            if sock.family == socket.AF_UNIX or (isinstance(address, tuple) and address[0] in LOOPBACK):
                return
            self._refuse(f"connect {address!r}")
        elif event == "socket.getaddrinfo":
            host = args[0]
            if isinstance(host, bytes):
                host = host.decode()
            if host is None or host in LOOPBACK:
                return
            self._refuse(f"getaddrinfo {host!r}")
        elif event in ("socket.gethostbyname", "socket.gethostbyname_ex", "socket.gethostbyaddr"):
            if args[0] not in LOOPBACK:
                self._refuse(f"{event.removeprefix('socket.')} {args[0]!r}")

    def _refuse(self, what: str) -> None:
        self.foreign.append(what)
        raise OSError(f"the scenario allows no network but this machine's: {what}")

    def step(self, name: str) -> Callable[[Callable[[ScriptedServer], Any]], Callable[[ScriptedServer], Any]]:
        """Registers a step under ``name`` (``tests/clients/test_clients.py`` reads the names
        from the source, so give a plain string)."""

        def register(function: Callable[[ScriptedServer], Any]) -> Callable[[ScriptedServer], Any]:
            self.steps.append((name, function))
            return function

        return register

    def run(self) -> None:
        try:
            for name, function in self.steps:
                if self.only and name not in self.only:
                    continue
                self.records.append(self._run_step(name, function))
                self._write()
        finally:
            self.server.close()
            self._write()

    def _run_step(self, name: str, function: Callable[[ScriptedServer], Any]) -> dict[str, Any]:
        self.server.responder = default_responder
        mark = self.server.mark()
        record: dict[str, Any] = {"name": name, "ok": True, "error": None, "result": None}
        faulthandler.dump_traceback_later(STEP_TIMEOUT, exit=True)
        started = time.perf_counter()
        try:
            if inspect.iscoroutinefunction(function):
                result = asyncio.run(function(self.server))
            else:
                result = function(self.server)
            record["result"] = json.loads(json.dumps(result, default=repr))
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            record["ok"] = False
            record["error"] = {
                "type": f"{type(exc).__module__}.{type(exc).__qualname__}",
                "message": str(exc),
                "traceback": traceback.format_exc(),
            }
        finally:
            faulthandler.cancel_dump_traceback_later()
        record["seconds"] = round(time.perf_counter() - started, 3)
        record["requests"] = [request.record() for request in self.server.since(mark)]
        return record

    def _write(self) -> None:
        # What answers to each of LiteLLM's names: its own name and file (None for a blocked import).
        litellm_modules = {
            name: None if module is None else [module.__name__, getattr(module, "__file__", None)]
            for name, module in list(sys.modules.items())
            if name == "litellm" or name.startswith("litellm.")
        }
        payload = {
            "mode": self.mode,
            "steps": self.records,
            "foreign": self.foreign,
            # Proxy requests the server refused, made in a step or not (say, while importing).
            "proxied": [request.record() for request in self.server.requests if request.foreign],
            "litellm_modules": litellm_modules,
        }
        with open(self.out, "w") as file:
            json.dump(payload, file, indent=1, default=repr)
