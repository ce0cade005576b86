"""``monitoring.links.airflow_root``: the ``[api] base_url`` path, without importing Airflow to read it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from include.retrain.monitoring.links import airflow_root

PROJECT_ROOT = Path(__file__).resolve().parents[3]


def test_outside_airflow_the_environment_answers_and_airflow_stays_unimported() -> None:
    """A gate outside Airflow (``make run``, a benchmark's child) must not pay ~3 s to import Airflow for a path."""
    script = (
        "import json, sys\n"
        "from include.retrain.monitoring.links import airflow_root\n"
        "print(json.dumps([airflow_root(), 'airflow' in sys.modules]))\n"
    )
    env = {**os.environ, "AIRFLOW__API__BASE_URL": "https://example.com/airflow/"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == ["/airflow", False]


def test_inside_airflow_its_configuration_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    import airflow.configuration  # noqa: F401  (as in a task process, where the task runner loaded it)

    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "http://host:8080/ml/airflow")
    assert airflow_root() == "/ml/airflow"
    monkeypatch.delenv("AIRFLOW__API__BASE_URL")
    assert airflow_root() == ""
