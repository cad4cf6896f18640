"""Real clients built on LiteLLM, run on LiteLLM and on ritellm (``ritellm.install_as_litellm()``).

Each ``scenario_<client>.py`` beside this file runs in two processes, one per mode, at the same
time. For each of its steps: a step that fails under LiteLLM itself is skipped with LiteLLM's
error (it proves nothing about ritellm); otherwise it must pass under ritellm too, with the same
requests (method, path and JSON body; headers aside) and the same return value. Then, per
scenario: nothing tried to leave the machine in either mode, and in ritellm mode no module of the
real LiteLLM was loaded.

These tests need the clients, which the main environment lacks: ``just clients`` makes a venv
with them and runs this folder; the main suite does not collect it.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
MODES = ("litellm", "ritellm")
#: A whole scenario in one mode; each step also has the harness's own limit.
SCENARIO_TIMEOUT = 600
SCENARIOS = sorted(path.stem.removeprefix("scenario_") for path in HERE.glob("scenario_*.py"))


def step_names(scenario: str) -> list[str]:
    """The steps a scenario declares (``@scenario.step("name")``), read from its source so that
    each is its own test without running anything at collection."""
    tree = ast.parse((HERE / f"scenario_{scenario}.py").read_text())
    names = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for decorator in node.decorator_list:
                if (
                    isinstance(decorator, ast.Call)
                    and isinstance(decorator.func, ast.Attribute)
                    and decorator.func.attr == "step"
                    and decorator.args
                    and isinstance(decorator.args[0], ast.Constant)
                ):
                    names.append(str(decorator.args[0].value))
    return names


class Run:
    """One scenario run in one mode: exit code, output, and the result file if it got that far."""

    def __init__(self, scenario: str, mode: str, returncode: int, output: str, result: dict[str, Any] | None):
        self.scenario = scenario
        self.mode = mode
        self.returncode = returncode
        self.output = output
        self.result = result

    def step(self, name: str) -> dict[str, Any] | None:
        for step in (self.result or {}).get("steps", []):
            if step["name"] == name:
                return dict(step)
        return None

    def describe(self) -> str:
        tail = "\n".join(self.output.splitlines()[-60:])
        return f"{self.scenario} under {self.mode} exited {self.returncode}; its output ends:\n{tail}"


def run_scenario(scenario: str, mode: str, folder: Path) -> Run:
    out = folder / f"{scenario}-{mode}.json"
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    try:
        finished = subprocess.run(
            [sys.executable, str(HERE / f"scenario_{scenario}.py"), "--mode", mode, "--out", str(out)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=SCENARIO_TIMEOUT,
        )
        returncode, output = finished.returncode, finished.stdout
    except subprocess.TimeoutExpired as exc:
        returncode = -1
        output = (exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        output += f"\n(killed after {SCENARIO_TIMEOUT} s)"
    result = json.loads(out.read_text()) if out.exists() else None
    return Run(scenario, mode, returncode, output, result)


_runs: dict[str, dict[str, Run]] = {}


@pytest.fixture(scope="session")
def runs_folder() -> Any:
    with tempfile.TemporaryDirectory(prefix="ritellm-clients-") as folder:
        yield Path(folder)


def runs_of(scenario: str, folder: Path) -> dict[str, Run]:
    """Both modes of a scenario, run once per session, side by side."""
    if scenario not in _runs:
        with ThreadPoolExecutor(len(MODES)) as pool:
            futures = {mode: pool.submit(run_scenario, scenario, mode, folder) for mode in MODES}
            _runs[scenario] = {mode: future.result() for mode, future in futures.items()}
    return _runs[scenario]


def json_differences(left: Any, right: Any, path: str = "$") -> list[str]:
    """Where two JSON values differ, one line per place (LiteLLM's value first)."""
    if isinstance(left, dict) and isinstance(right, dict):
        lines = []
        for key in sorted(set(left) | set(right), key=str):
            where = f"{path}.{key}"
            if key not in right:
                lines.append(f"{where}: only LiteLLM sends it: {json.dumps(left[key])[:300]}")
            elif key not in left:
                lines.append(f"{where}: only ritellm sends it: {json.dumps(right[key])[:300]}")
            else:
                lines.extend(json_differences(left[key], right[key], where))
        return lines
    if isinstance(left, list) and isinstance(right, list):
        lines = []
        for index in range(max(len(left), len(right))):
            where = f"{path}[{index}]"
            if index >= len(right):
                lines.append(f"{where}: only LiteLLM has it: {json.dumps(left[index])[:300]}")
            elif index >= len(left):
                lines.append(f"{where}: only ritellm has it: {json.dumps(right[index])[:300]}")
            else:
                lines.extend(json_differences(left[index], right[index], where))
        return lines
    if left != right or type(left) is not type(right):
        return [f"{path}: LiteLLM {json.dumps(left)[:300]} != ritellm {json.dumps(right)[:300]}"]
    return []


def wire(step: dict[str, Any]) -> list[dict[str, Any]]:
    """What a step sent, headers aside."""
    return [
        {"method": request["method"], "path": request["path"], "body": request["body"]}
        for request in step["requests"]
    ]


def asked_as_litellm(sent: list[dict[str, Any]], baseline: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """ritellm's requests, with the one difference it makes on purpose taken out: an embedding
    request where LiteLLM names no encoding asks for base64 vectors (a third of the bytes of the
    numbers, exact), as the openai SDK does by default; the caller gets the same floats."""
    kept = []
    for index, request in enumerate(sent):
        theirs = baseline[index]["body"] if index < len(baseline) else None
        body = request["body"]
        if (
            request["path"].endswith("/embeddings")
            and isinstance(body, dict)
            and body.get("encoding_format") == "base64"
            and isinstance(theirs, dict)
            and "encoding_format" not in theirs
        ):
            request = {**request, "body": {k: v for k, v in body.items() if k != "encoding_format"}}
        kept.append(request)
    return kept


def error_text(step: dict[str, Any]) -> str:
    error = step["error"]
    return f"{error['type']}: {error['message']}\n{error['traceback']}"


#: Steps that fail under LiteLLM itself, and why; they are skipped, not counted as passing.
FAILS_UNDER_LITELLM = {
    # instructor decides a stream is async by isinstance(AsyncIterator); LiteLLM's sync stream
    # has __aiter__ too, so instructor iterates an async generator synchronously.
    "instructor:partial_streaming": "builtins.TypeError: 'async_generator' object is not iterable",
}


@pytest.mark.parametrize(
    ("scenario", "step"),
    [
        pytest.param(scenario, step, id=f"{scenario}:{step}")
        for scenario in SCENARIOS
        for step in step_names(scenario)
    ],
)
def test_step(scenario: str, step: str, runs_folder: Path) -> None:
    runs = runs_of(scenario, runs_folder)
    baseline = runs["litellm"].step(step)
    if baseline is None:
        pytest.fail(f"the step never ran under LiteLLM.\n{runs['litellm'].describe()}")
    if not baseline["ok"]:
        reason = f"{baseline['error']['type']}: {baseline['error']['message']}".splitlines()[0][:300]
        # Only the steps known to fail under LiteLLM may: any other such failure is a broken
        # scenario or server, which would otherwise pass here without proving anything.
        known = FAILS_UNDER_LITELLM.get(f"{scenario}:{step}")
        assert known is not None and reason.startswith(known), f"fails under LiteLLM: {error_text(baseline)}"
        pytest.skip(f"{scenario}:{step} fails under LiteLLM itself, so proves nothing: {reason}")
    candidate = runs["ritellm"].step(step)
    if candidate is None:
        pytest.fail(f"the step never ran under ritellm.\n{runs['ritellm'].describe()}")
    assert candidate["ok"], f"passes under LiteLLM, fails under ritellm:\n{error_text(candidate)}"
    differences = json_differences(wire(baseline), asked_as_litellm(wire(candidate), wire(baseline)))
    assert not differences, "ritellm sent other requests than LiteLLM:\n" + "\n".join(differences)
    differences = json_differences(baseline["result"], candidate["result"])
    assert not differences, "the step's result differs:\n" + "\n".join(differences)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario_ran_whole(scenario: str, runs_folder: Path) -> None:
    """Both processes ran every declared step and exited cleanly, with nothing sent off this
    machine (the harness refuses and records any other connection or name lookup, and the
    server refuses and records any proxy request)."""
    runs = runs_of(scenario, runs_folder)
    for mode in MODES:
        run = runs[mode]
        assert run.result is not None and run.returncode == 0, run.describe()
        assert [step["name"] for step in run.result["steps"]] == step_names(scenario), run.describe()
        assert run.result["foreign"] == [], f"{mode} tried to leave the machine: {run.result['foreign']}"
        proxied = [(r["method"], r["path"]) for r in run.result["proxied"]]
        assert proxied == [], f"{mode} sent requests through a proxy: {proxied}"


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_ritellm_mode_loads_no_litellm(scenario: str, runs_folder: Path) -> None:
    """In ritellm mode every ``litellm`` module a client loaded is ritellm's."""
    run = runs_of(scenario, runs_folder)["ritellm"]
    assert run.result is not None, run.describe()
    ritellm_root = str(ROOT / "ritellm")
    real = {
        name: found
        for name, found in run.result["litellm_modules"].items()
        if found is not None  # a blocked import
        and not found[0].startswith("ritellm.")
        and not (found[1] or "").startswith(ritellm_root)
    }
    assert not real, f"modules not of ritellm answer to LiteLLM's names: {real}"
