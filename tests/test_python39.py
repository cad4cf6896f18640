"""ritellm runs on Python 3.9 (``requires-python``), where ``X | Y`` between types fails when it
is evaluated: in annotations of modules without ``from __future__ import annotations`` (they
run at import, class bodies' too), in ``cast()``'s type and in ``isinstance``'s classes. CI
runs a newer Python, so this reads the source for them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "ritellm"
MODULES = sorted(PACKAGE.rglob("*.py"))


def _has_future_annotations(tree: ast.Module) -> bool:
    return any(
        isinstance(node, ast.ImportFrom)
        and node.module == "__future__"
        and any(alias.name == "annotations" for alias in node.names)
        for node in tree.body
    )


def _unions(node: ast.AST | None) -> bool:
    return node is not None and any(
        isinstance(inner, ast.BinOp) and isinstance(inner.op, ast.BitOr) for inner in ast.walk(node)
    )


def _evaluated_unions(tree: ast.Module) -> list[int]:
    """Lines where a type union would be evaluated at run time."""
    lines = []
    lazy = _has_future_annotations(tree)
    for node in ast.walk(tree):
        if not lazy and isinstance(node, ast.AnnAssign) and _unions(node.annotation):
            lines.append(node.lineno)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args:
            if node.func.id == "cast" and _unions(node.args[0]):
                lines.append(node.lineno)
            if node.func.id in ("isinstance", "issubclass") and len(node.args) == 2 and _unions(node.args[1]):
                lines.append(node.lineno)
    return lines


@pytest.mark.parametrize("module", MODULES, ids=[str(m.relative_to(PACKAGE)) for m in MODULES])
def test_no_type_union_is_evaluated_at_run_time(module: Path) -> None:
    tree = ast.parse(module.read_text("utf-8"))
    assert _evaluated_unions(tree) == []


def test_the_check_finds_what_3_9_refuses() -> None:
    eager = ast.parse("x: int | None = None\ncast(A | B, y)\nisinstance(z, (int | str))\n")
    assert _evaluated_unions(eager) == [1, 2, 3]
    lazy = ast.parse("from __future__ import annotations\nx: int | None = None\nflags = 1 | 2\n")
    assert _evaluated_unions(lazy) == []
