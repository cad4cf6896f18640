"""What ritellm costs under Pyodide, beside CPython on the same machine, from one run.

`just bench-pyodide` (or `python3 bench/pyodide.py --rounds N`) measures the same code
(``measure()`` in tests/browser/checks.py: a sync mock ``completion``, and a mock stream of 200
words per chunk) on CPython with wasmtime, in Pyodide under Node, and in Pyodide in the chat page
in headless Chromium, alternating, and prints medians and the ratios to CPython. The targets:
a mock ``completion``, and a mock ``embedding`` of 256 inputs, under Pyodide within 3x of CPython.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.server import FakeServer  # noqa: E402
from tests.test_pyodide import (  # noqa: E402
    BROWSER,
    build_wheel,
    context,
    run_node,
    scripted_api,
    serve_page,
)

TARGET = 3.0


def on_cpython() -> dict[str, float]:
    # A fresh process, as the other two are.
    code = "import json; from tests.browser import checks; print(json.dumps(checks.measure()))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    result: dict[str, float] = json.loads(done.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    api = FakeServer()
    scripted_api(api)
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        (tmp / "site").mkdir()
        wheel = build_wheel(tmp)
        page, httpd = serve_page(wheel, tmp / "site")
        runs: dict[str, list[dict[str, float]]] = {"CPython": [], "Node": [], "Chromium": []}
        for _ in range(rounds):
            runs["CPython"].append(on_cpython())
            node = context(api, tmp, browser=False, measure=True)
            runs["Node"].append(run_node(str(BROWSER / "node.mjs"), str(wheel), str(node))["costs_us"])
            page_context = context(api, tmp, browser=True, measure=True)
            shot = str(tmp / "page.png")
            runs["Chromium"].append(
                run_node(str(BROWSER / "chromium.mjs"), page, str(page_context), shot)["costs_us"]
            )
        httpd.shutdown()
    api.close()

    metrics = list(runs["CPython"][0])
    medians = {
        where: {m: statistics.median(r[m] for r in results) for m in metrics}
        for where, results in runs.items()
    }
    print(f"median of {rounds} rounds, microseconds (ratio to CPython)")
    print(f"{'':26}" + "".join(f"{where:>20}" for where in medians))
    for metric in metrics:
        base = medians["CPython"][metric]
        cells = "".join(f"{m[metric]:>11.1f} ({m[metric] / base:4.2f}x)" for m in medians.values())
        print(f"{metric:26}{cells}")
    for metric in ("mock completion", "mock embedding, 256 x 1536"):
        worst = max(medians[where][metric] / medians["CPython"][metric] for where in ("Node", "Chromium"))
        verdict = "met" if worst <= TARGET else "NOT met"
        print(f"target: {metric} under Pyodide within {TARGET:g}x of CPython: {verdict} ({worst:.2f}x)")


if __name__ == "__main__":
    main()
