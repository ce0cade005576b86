"""The XCom contract at parse time: every task returns its manifest as one value.

A ``@task`` whose function is annotated ``-> dict`` has ``multiple_outputs`` inferred as True, and
Airflow then also pushes every key of the returned dict as its own XCom row. Every task of the
bundle sets it to False explicitly (ruff's ``AIR202``, in preview, asks for that), and the AIR
rules are clean on the shipped code. ``tests/e2e/test_xcom_manifests.py`` checks the rows of a run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def test_no_task_splits_its_return_value_into_keys() -> None:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags"))
    assert not bag.import_errors, bag.import_errors
    split = sorted(
        f"{dag_id}.{task.task_id}"
        for dag_id, dag in bag.dags.items()
        for task in dag.tasks
        if getattr(task, "multiple_outputs", False)
    )
    assert bag.dags
    assert split == []


def test_airflow_lint_rules_are_clean_with_preview() -> None:
    ruff = Path(sys.executable).with_name("ruff")
    result = subprocess.run(
        [str(ruff), "check", "--preview", "--select", "AIR", "--no-cache", "dags/", "include/", "plugins/"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
