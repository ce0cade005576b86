"""One ``retrain_<name>`` run through Airflow (``dag.test``) in a fresh interpreter.

Arguments: the output JSON path, the DAG id, the data interval end (YYYY-MM-DD) and the run conf
as JSON. The environment carries the Airflow home, the DAG folder (``AIRFLOW__CORE__DAGS_FOLDER``)
and the S3 connection. Writes the run's state, each task's upstream task ids and, per task, its
state, Airflow's duration (start to end date) and its body's seconds (an Airflow listener: running
to success, i.e. the task callable and its XCom push).
The run's time outside the bodies is Airflow's own work: the in-process execution API (built on
the first task's start request, inside that task's Airflow duration), task state, scheduling.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from benchmarks.common import exit_without_teardown


def task_clock() -> Any:
    """An Airflow listener timing each task body: ``on_task_instance_running`` to ``..._success``.

    Its ``seconds`` maps task id to body seconds. Built here because Airflow is imported only once
    the setup timer runs.
    """
    from airflow.listeners import hookimpl

    class TaskClock:
        def __init__(self) -> None:
            self.started: dict[str, float] = {}
            self.seconds: dict[str, float] = {}

        @hookimpl
        def on_task_instance_running(self, previous_state: Any, task_instance: Any) -> None:
            self.started[task_instance.task_id] = time.perf_counter()

        @hookimpl
        def on_task_instance_success(self, previous_state: Any, task_instance: Any) -> None:
            self.seconds[task_instance.task_id] = time.perf_counter() - self.started.pop(task_instance.task_id)

    return TaskClock()


def main(argv: list[str]) -> int:
    output, dag_id, window_end, conf = Path(argv[0]), argv[1], date.fromisoformat(argv[2]), json.loads(argv[3])
    started = time.perf_counter()
    import pendulum
    from airflow.dag_processing.dagbag import DagBag
    from airflow.sdk.listener import get_listener_manager

    clock = task_clock()
    get_listener_manager().add_listener(clock)

    bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    if bag.import_errors:
        raise SystemExit(f"DAG import errors: {bag.import_errors}")
    dag = bag.get_dag(dag_id)
    logical_date = pendulum.datetime(window_end.year, window_end.month, window_end.day, tz="UTC")
    run_started = time.perf_counter()
    dag_run = dag.test(logical_date=logical_date, run_conf=conf or None)
    finished = time.perf_counter()
    tasks = {
        ti.task_id: {
            "state": str(ti.state).split(".")[-1].lower(),
            "seconds": float(ti.duration or 0.0),
            "body_seconds": clock.seconds.get(ti.task_id, 0.0),
        }
        # in the order they ran, so the breakdown reads like the DAG
        for ti in sorted(dag_run.get_task_instances(), key=lambda ti: ti.start_date)
    }
    result = {
        "state": str(dag_run.state).split(".")[-1].lower(),
        "tasks": tasks,
        "upstream": {task.task_id: sorted(task.upstream_task_ids) for task in dag.tasks},
        "run_seconds": finished - run_started,
        "setup_seconds": run_started - started,
    }
    output.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    exit_without_teardown(main(sys.argv[1:]))
