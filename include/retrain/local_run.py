"""Run one of this bundle's DAGs in this process with ``dag.test()`` and summarize the run.

``make run`` (``include.retrain.cli``), ``make demo`` (``dev.demo``) and the tests share it: the
environment of a throwaway local Airflow (SQLite), a run for one data interval with exactly its
conf, the run key its tasks derived, and a short report read from the run's manifests.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any

from include.retrain.layout import RUNS, gate_report, stage_manifest
from include.retrain.monitoring.links import GATES
from include.retrain.summaries import gate_headline, summary_parts

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def airflow_environment_base(airflow_home: Path) -> dict[str, str]:
    """Environment for a throwaway local Airflow (SQLite) running this bundle's DAGs."""
    return {
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "GX_ANALYTICS_ENABLED": "false",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])),
    }


def _gate_line(report: dict[str, Any]) -> str:
    stats = report["statistics"]
    line = gate_headline(
        success=report["success"],
        evaluated=stats["evaluated"],
        successful=stats["successful"],
        warnings=stats["warnings"],
    )
    failed = [e for e in report["expectations"] if not e["success"] and e["severity"] == "fail"]
    for item in failed[:5]:
        line += f"\n{'':22}failed {item['expectation']}({item['kwargs'].get('column', '')}) observed={item['observed']}"
    for note in report.get("notes", [])[:3]:
        line += f"\n{'':22}note: {note}"
    return line


def _stage_line(stage: str, manifest: dict[str, Any]) -> str:
    return f"\n{'':22}".join(summary_parts(stage, manifest))


def summarize(run: Any, store: Any, pipeline: str, run_key: str, tasks: list[str]) -> tuple[bool, str]:
    """A short report of one run (``tasks`` in run order): state, rows, gates, metrics, version, decision."""
    states = {ti.task_id: str(ti.state).split(".")[-1].lower() for ti in run.get_task_instances()}
    base = store.key(pipeline, RUNS, run_key)
    state = str(run.state).split(".")[-1].lower()
    lines = [f"retrain_{pipeline}  run key {run_key}  state: {state.upper()}"]
    stage_folders = {"build_features": "features"}
    for task in tasks:
        if task in GATES:
            found = store.read_json(f"{base}/{gate_report(task).path}")
            text = _gate_line(found) if found else None
        else:
            stage = stage_folders.get(task, task)
            found = store.read_json(f"{base}/{stage_manifest(stage).path}")
            text = _stage_line(stage, found) if found else None
        task_state = states.get(task, "not run")
        lines.append(f"  {task:<19} {text if text and task_state == 'success' else task_state.upper()}")
        if text and task_state != "success" and task in GATES:
            lines.append(f"  {'':19} {text}")
    return state == "success", "\n".join(lines)


def refuse_before_start_date(dag: Any, logical_date: Any) -> None:
    """Refuse a logical date before the DAG's start date (``schedule.start_date``), naming both dates.

    Airflow creates no task instance for a run whose logical date is before the DAG's start date:
    such a run succeeds at once having done nothing, so no task of ours could refuse it.
    """
    from include.retrain.errors import InvalidRunOptions

    start = dag.start_date
    if start is None or logical_date >= start:
        return
    start_day = start.in_timezone(dag.timezone).date() if hasattr(start, "in_timezone") else start.date()
    raise InvalidRunOptions(
        f"window end {logical_date.date().isoformat()} is before schedule.start_date {start_day.isoformat()} of "
        f"{dag.dag_id}: Airflow creates no task instance for a logical date before the DAG's start date, so the "
        f"run would succeed having done nothing. Choose a window end on or after {start_day.isoformat()}, or move "
        "schedule.start_date earlier in the variant's YAML"
    )


def run_dag(dag: Any, window_end: date, conf: dict[str, Any] | None = None) -> Any:
    """Run ``dag`` with ``dag.test()`` for the data interval ending ``window_end``, with exactly ``conf``.

    Airflow 3.3's ``dag.test()`` runs every task in this process, and resolving a task's Params
    against the run's conf writes the conf's values into the DAG's own Param objects
    (``process_params`` -> ``ParamsDict.__setitem__`` -> ``Param.resolve``), so a later run of the
    same DAG object would start from them: a ``dry_run`` or ``force_promote`` run would make the
    next run a dry run or a forced promotion too. Every Param's value is put back afterwards, so
    each run starts from the Params' defaults and its own conf.
    """
    import pendulum

    logical_date = pendulum.datetime(window_end.year, window_end.month, window_end.day, tz="UTC")
    refuse_before_start_date(dag, logical_date)
    params = [dag.params, *(task.params for task in dag.tasks)]
    saved = [(param, param.value) for mapping in params for param in mapping.values()]
    try:
        return dag.test(logical_date=logical_date, run_conf=dict(conf) if conf else None)
    finally:
        for param, value in saved:
            param.value = value


def run_key_of(config: Any, dag: Any, dag_run: Any, window_end: date, conf: dict[str, Any] | None, client: Any) -> str:
    """The run key the run's tasks derived (its artifacts folder): from the Params, as ``runner.run_step`` does."""
    from include.retrain.context import RunContext
    from include.retrain.errors import PipelineFailure

    params = {**{name: dag.params[name] for name in dag.params}, **(conf or {})}
    try:
        context = RunContext.create(
            config,
            params=params,
            data_interval_end=window_end,
            run_id=dag_run.run_id,
            triggered_by="summary",
            client=client,
        )
    except PipelineFailure:  # Params the run refused: it wrote nothing, the summary shows the failed task
        return window_end.isoformat()
    return context.run_key
