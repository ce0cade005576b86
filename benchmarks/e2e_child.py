"""One ``retrain_<name>`` run through Airflow (``dag.test``) in a fresh interpreter.

Arguments: the output JSON path, the DAG id, the data interval end (YYYY-MM-DD) and the run conf
as JSON. The environment carries the Airflow home, the DAG folder and the S3 connection. Writes
the run's state and each task's state and duration (Airflow's own task instance timings).
"""

from __future__ import annotations

import json
import sys
import time
from datetime import date
from pathlib import Path

from benchmarks.common import PROJECT_ROOT


def main(argv: list[str]) -> int:
    output, dag_id, window_end, conf = Path(argv[0]), argv[1], date.fromisoformat(argv[2]), json.loads(argv[3])
    started = time.perf_counter()
    import pendulum
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags"))
    if bag.import_errors:
        raise SystemExit(f"DAG import errors: {bag.import_errors}")
    dag = bag.get_dag(dag_id)
    logical_date = pendulum.datetime(window_end.year, window_end.month, window_end.day, tz="UTC")
    run_started = time.perf_counter()
    dag_run = dag.test(logical_date=logical_date, run_conf=conf or None)
    finished = time.perf_counter()
    tasks = {
        ti.task_id: {"state": str(ti.state).split(".")[-1].lower(), "seconds": float(ti.duration or 0.0)}
        for ti in dag_run.get_task_instances()
    }
    result = {
        "state": str(dag_run.state).split(".")[-1].lower(),
        "tasks": tasks,
        "run_seconds": finished - run_started,
        "setup_seconds": run_started - started,
    }
    output.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
