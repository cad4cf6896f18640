"""Users' code type-checks against ritellm as they write it, and checkers catch their typos:
mypy --strict and pyright, on the scripts in tests/typing/."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
SCRIPTS = Path(__file__).parent / "typing"
PYRIGHT = ROOT / "node_modules" / ".bin" / "pyright"
#: The marked lines of typos.py, which each checker must report.
EXPECTED = {
    n for n, line in enumerate((SCRIPTS / "typos.py").read_text().splitlines(), 1) if "# error:" in line
}


def mypy(script: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(script)]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT)


def pyright(script: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(PYRIGHT), str(script)], capture_output=True, text=True, cwd=ROOT)


@pytest.mark.parametrize("check", [mypy, pyright])
def test_users_code_type_checks(check: object) -> None:
    done = check(SCRIPTS / "user_code.py")  # type: ignore[operator]
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("check", [mypy, pyright])
def test_misspelt_fields_are_caught(check: object) -> None:
    done = check(SCRIPTS / "typos.py")  # type: ignore[operator]
    reported = {int(n) for n in re.findall(r"typos\.py:(\d+)(?::\d+)?:? -? ?error", done.stdout)}
    assert reported == EXPECTED, done.stdout
