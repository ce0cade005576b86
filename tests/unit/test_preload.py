"""include/retrain/preload.py: what a LocalExecutor worker imports once for all its tasks.

The checks share one fresh interpreter, as Python's forkserver imports the module once.
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


@pytest.fixture(scope="module")
def forked_task() -> dict:
    """What the preloaded worker holds, and what a task forked from it imports and parses.

    One fresh interpreter for every check (a fork shares its parent's memory, so what this process
    sees after the preload is what each task starts with), in the order a task meets them: the
    preload alone, the task runner's DAG parse, the task bodies' imports, the S3 client.
    """
    return fresh_interpreter(
        "import gc, json, os, sys, threading\n"
        "import include.retrain.preload as preload\n"
        "facts = {\n"
        "    'bundle': sorted(m for m in sys.modules if m.startswith(('include.', 'dags', 'plugins'))),\n"
        "    'threads': threading.active_count(),\n"
        "    'missing': [m for m in preload.MODULES if m not in sys.modules],\n"
        "    'frozen': gc.get_freeze_count(),\n"
        "    'tracked': len(gc.get_objects()),\n"
        "}\n"
        "before = set(sys.modules)\n"
        "import airflow.dag_processing.dagbag, pyarrow.dataset  # what the task runner and a first read import\n"
        "facts['parse_imports'] = sorted(set(sys.modules) - before)\n"
        "before = set(sys.modules)\n"
        "from include.retrain.tasks import drift, evaluate, features, gates, ingest, live, promote\n"
        "from include.retrain.tasks import retrain_request, score, train\n"
        "from include.retrain.gates import validation, drift as drift_gate, publish\n"
        "from include.retrain.modelio import _skops\n"
        "_skops()\n"
        "import dags.retrain_factory.runner\n"
        f"heavy = {HEAVY!r}\n"
        "facts['heavy_imports'] = sorted(m for m in set(sys.modules) - before if m.split('.')[0] in heavy)\n"
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
        "facts.update(parsed=parsed, endpoint=client.meta.endpoint_url)\n"
        "print(json.dumps(facts))\n"
    )


def test_preloading_imports_libraries_only_and_starts_no_thread(forked_task: dict) -> None:
    """No bundle module goes stale in the worker, and forking the preloaded process stays safe."""
    bundle = ["include.retrain", "include.retrain.botocore_data", "include.retrain.preload"]
    found = {key: forked_task[key] for key in ("bundle", "threads", "missing")}
    assert found == {"bundle": bundle, "threads": 1, "missing": []}


def test_a_task_imports_no_heavy_module_the_worker_did_not_preload(forked_task: dict) -> None:
    """Everything a task body imports from the heavy libraries is inherited, not imported again."""
    assert forked_task["heavy_imports"] == []


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
