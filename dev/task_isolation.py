"""A cluster policy that gives every task attempt its own empty working and temp directory.

Used by the acceptance suite to prove the bundle shares nothing between tasks but S3 and
XCom, as it must under Celery or Kubernetes executors where tasks run on other machines: if
any task read a local file another task wrote, it would not find it. Each attempt appends a
JSON line (task, try, pid, directories, and whether the process started with the heavy
libraries already imported: include/retrain/preload.py) to ``$RETRAIN_ISOLATION_LOG`` so tests
can check it.

Enable it with an ``airflow_local_settings.py`` containing
``from dev.task_isolation import task_policy``.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

LOG_ENV = "RETRAIN_ISOLATION_LOG"
ROOT_ENV = "RETRAIN_ISOLATION_ROOT"


def isolate(task_id: str, context: dict[str, Any]) -> dict[str, Any]:
    """Move this process into fresh, empty working and temp directories; return the record."""
    scratch = Path(tempfile.mkdtemp(prefix=f"{task_id}-", dir=os.environ.get(ROOT_ENV)))
    work, tmp = scratch / "work", scratch / "tmp"
    work.mkdir()
    tmp.mkdir()
    os.chdir(work)
    os.environ["TMPDIR"] = str(tmp)
    tempfile.tempdir = str(tmp)
    ti = context.get("ti")
    record = {
        "dag_id": getattr(ti, "dag_id", None),
        "run_id": getattr(ti, "run_id", None),
        "task_id": task_id,
        "try_number": getattr(ti, "try_number", None),
        "pid": os.getpid(),
        "cwd": str(work),
        "tmp": str(tmp),
        # The DAG file imports none of these (tests/dags): present here only if inherited.
        "preloaded": all(name in sys.modules for name in ("great_expectations", "skops.io", "sklearn")),
        "at": time.time(),
    }
    if log := os.environ.get(LOG_ENV):
        with open(log, "a") as handle:
            handle.write(json.dumps(record) + "\n")
    return record


def task_policy(task: Any) -> None:
    """Run ``isolate`` before every task of every DAG (then the task's own pre_execute)."""
    original = task.pre_execute

    def pre_execute(context: dict[str, Any]) -> Any:
        isolate(task.task_id, context)
        return original(context)

    task.pre_execute = pre_execute
