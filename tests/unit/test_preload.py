"""include/retrain/preload.py: what a LocalExecutor worker imports once for all its tasks.

Each check runs in a fresh interpreter, as Python's forkserver imports the module.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

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
    bundle = ["include.retrain", "include.retrain.botocore_data", "include.retrain.preload"]
    assert found == {"bundle": bundle, "threads": 1, "missing": []}


@pytest.fixture(scope="module")
def forked_task() -> dict:
    """What a task forked from the preloaded worker sees (one fresh interpreter: a fork shares its memory)."""
    return fresh_interpreter(
        "import gc, json, os, sys\n"
        "import include.retrain.preload\n"
        "frozen, tracked = gc.get_freeze_count(), len(gc.get_objects())\n"
        "before = set(sys.modules)\n"
        "import airflow.dag_processing.dagbag, pyarrow.dataset  # what the task runner and a first read import\n"
        "parse_imports = sorted(set(sys.modules) - before)\n"
        "import botocore.loaders\n"
        "parsed = []\n"
        "real_load = botocore.loaders.JSONFileLoader.load_file\n"
        "def counting_load(self, file_path):\n"
        "    parsed.append(os.path.basename(file_path))\n"
        "    return real_load(self, file_path)\n"
        "botocore.loaders.JSONFileLoader.load_file = counting_load\n"
        "extra = {'endpoint_url': 'http://127.0.0.1:9', 'region_name': 'eu-west-1'}\n"
        "connection = {'conn_type': 'aws', 'login': 'key', 'password': 'secret', 'extra': extra}\n"
        "os.environ['AIRFLOW_CONN_AWS_DEFAULT'] = json.dumps(connection)\n"
        "from dags.retrain_factory.runner import s3_client\n"
        "from include.retrain.config import StorageConfig\n"
        "client = s3_client(StorageConfig(conn_id='aws_default'))\n"
        "print(json.dumps({'frozen': frozen, 'tracked': tracked, 'parse_imports': parse_imports,\n"
        "    'parsed': parsed, 'endpoint': client.meta.endpoint_url}))\n"
    )


def test_a_forked_task_makes_its_s3_client_without_parsing_botocore_data(forked_task: dict) -> None:
    """The S3 model and endpoint files were parsed once, in the worker (a third of a small task's CPU)."""
    assert forked_task["endpoint"] == "http://127.0.0.1:9"  # the connection's client, made offline
    assert forked_task["parsed"] == []


def test_the_module_the_task_runner_parses_the_dag_file_with_is_preloaded(forked_task: dict) -> None:
    assert forked_task["parse_imports"] == []


def test_the_preloaded_heap_is_out_of_the_collectors_view(forked_task: dict) -> None:
    """A task's full collections do not rescan (and copy) the hundreds of thousands of inherited objects."""
    assert forked_task["frozen"] > 100_000
    assert forked_task["tracked"] < forked_task["frozen"] / 100
