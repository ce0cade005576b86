"""include/retrain/preload.py: what a LocalExecutor worker imports once for all its tasks.

Each check runs in a fresh interpreter, as Python's forkserver imports the module.
"""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import PROJECT_ROOT

#: Top-level packages whose import a task must not pay again once the worker has preloaded.
HEAVY = ("numpy", "pandas", "pyarrow", "scipy", "sklearn", "skops", "great_expectations", "boto3", "botocore")


def fresh_interpreter(script: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_a_task_imports_no_heavy_module_the_worker_did_not_preload() -> None:
    """Everything a task body imports from the heavy libraries is inherited, not imported again."""
    found = fresh_interpreter(
        "import json, sys\n"
        "import include.retrain.preload\n"
        "before = set(sys.modules)\n"
        "from include.retrain.tasks import drift, evaluate, features, gates, ingest, live, promote\n"
        "from include.retrain.tasks import retrain_request, score, train\n"
        "from include.retrain.gates import validation, drift as drift_gate, publish\n"
        "from include.retrain.modelio import _skops\n"
        "_skops()\n"
        "import dags.retrain_factory.runner\n"
        f"heavy = {HEAVY!r}\n"
        "print(json.dumps(sorted(m for m in set(sys.modules) - before if m.split('.')[0] in heavy)))\n"
    )
    assert found == []


def test_preloading_imports_libraries_only_and_starts_no_thread() -> None:
    """No bundle module goes stale in the worker, and forking the preloaded process stays safe."""
    found = fresh_interpreter(
        "import json, sys, threading\n"
        "import include.retrain.preload as preload\n"
        "print(json.dumps({\n"
        "    'bundle': sorted(m for m in sys.modules if m.startswith(('include.', 'dags', 'plugins'))),\n"
        "    'threads': threading.active_count(),\n"
        "    'missing': [m for m in preload.MODULES if m not in sys.modules],\n"
        "}))\n"
    )
    assert found == {"bundle": ["include.retrain", "include.retrain.preload"], "threads": 1, "missing": []}
