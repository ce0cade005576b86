"""House rules of issue 18 as tests: thin task bodies and modules a newcomer can read in one go.

Each public function in ``include/retrain/tasks/`` (a task body: read inputs, one stage call,
write outputs, return a manifest) stays within 40 lines of code, its docstring not counted; no
module of the product (``include/``, ``dags/``, ``plugins/``) grows past 300 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
TASK_BODY_LINES = 40
MODULE_LINES = 300


def _code_lines(function: ast.FunctionDef) -> int:
    """The function's lines from its ``def`` to its end, less its docstring."""
    lines = function.end_lineno - function.lineno + 1
    first = function.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        lines -= first.end_lineno - first.lineno + 1
    return lines


def test_every_task_body_is_at_most_40_lines() -> None:
    found = {}
    for path in sorted((ROOT / "include" / "retrain" / "tasks").glob("*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                found[f"{path.name}:{node.name}"] = _code_lines(node)
    assert "promote.py:promote" in found  # the rule reads the task modules it is about
    assert {name: n for name, n in found.items() if n > TASK_BODY_LINES} == {}


def test_no_module_is_over_300_lines() -> None:
    sizes = {
        str(path.relative_to(ROOT)): len(path.read_text().splitlines())
        for folder in ("include", "dags", "plugins")
        for path in (ROOT / folder).rglob("*.py")
    }
    assert len(sizes) > 50
    assert {name: n for name, n in sizes.items() if n > MODULE_LINES} == {}
