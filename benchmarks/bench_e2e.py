"""Orchestration overhead and gate share: a full churn run through Airflow at 1M rows vs a bare script.

The Airflow side is ``retrain_churn`` run by ``dag.test`` in a fresh interpreter against the
loopback S3 endpoint: every task, every gate, S3 reads and writes, the registry. A warm-up run
(on the previous interval, 2% sample) registers a champion first, so the measured runs do a daily
run's steady-state work: drift against the champion's profile, the champion scored on the same
holdout. The baseline is ``benchmarks.bare_train``: pandas reads the same Parquet bytes from a
local folder and fits the same sklearn pipeline on the same training rows.

The least any run of these tasks can cost is measured beside them (``benchmarks.floor_dag``): the
same child runs DAGs with the same tasks and dependencies in which ``train`` does exactly the bare
script's work and the other tasks nothing (``e2e_floor_ratio``), or the gates only import Great
Expectations (``e2e_floor_gx_ratio``). Over the bare script, they are the lowest ratios any bundle
of these tasks could score here. ``bundle_overhead_ratio`` is what the bundle itself controls:
(run CPU - floor CPU) / bare CPU. A third floor adds the product's duties to the GX floor:
``train`` also persists its model with skops and scores the holdout twice (candidate and
champion); (its CPU - floor CPU) / bare CPU is ``bundle_overhead_duties_floor``, the least
``bundle_overhead_ratio`` any bundle with those duties could score.

The five alternate, ``REPEATS`` times each; the ratio of medians is reported. The headline counts
CPU seconds: the Airflow process plus what the S3 server spent serving it (an S3 endpoint's
work is part of the price, and CPU time is not inflated by other load on the machine); the wall
time ratio is reported beside it. Both children end once their work is done, without interpreter
teardown (see ``common.exit_without_teardown``). ``gate_share`` is the gate tasks' share of the
run's wall time, from Airflow's own task durations.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, timedelta
from typing import Any

from benchmarks.common import (
    PROJECT_ROOT,
    bench_environment,
    median,
    process_cpu_seconds,
    run_child,
    scratch,
)
from benchmarks.floor_dag import FLOOR_DAG_ID, FLOOR_DUTIES_DAG_ID, FLOOR_GX_DAG_ID, write_floor_dags
from benchmarks.landing import write_window
from dev.local_s3 import LocalS3
from include.retrain.config import load_pipeline, pipelines_dir
from include.retrain.monitoring.links import GATES

ROWS = 1_000_000
REPEATS = 3
WINDOW_END = date(2026, 2, 1)
OVERHEAD_TARGET = 1.5
GATE_SHARE_TARGET = 0.2
BUNDLE_OVERHEAD_TARGET = 0.5


def _airflow_run(env: dict[str, str], s3: LocalS3, dag_id: str, window_end: date, conf: dict) -> dict[str, Any]:
    """One dag.test run in a fresh interpreter; CPU includes the S3 server's share."""
    server_before = process_cpu_seconds(s3.pid)
    child = run_child("benchmarks.e2e_child", [dag_id, window_end.isoformat(), json.dumps(conf)], env)
    server_cpu = process_cpu_seconds(s3.pid) - server_before
    if child.output["state"] != "success":
        raise RuntimeError(f"{dag_id} did not succeed: {child.output['tasks']}")
    tasks = child.output["tasks"]
    return {
        "wall": child.wall,
        "cpu": child.cpu + server_cpu,
        "server_cpu": server_cpu,
        "run_seconds": child.output["run_seconds"],
        "setup_seconds": child.output["setup_seconds"],
        "gate_seconds": sum(tasks[g]["seconds"] for g in GATES),
        "tasks": {name: task["seconds"] for name, task in tasks.items()},
        "bodies": {name: task["body_seconds"] for name, task in tasks.items()},
        "upstream": child.output["upstream"],
    }


def run(rows: int = ROWS, repeats: int = REPEATS) -> dict[str, Any]:
    config = load_pipeline(pipelines_dir() / "churn.yaml")
    days = config.window.days
    with LocalS3() as s3, scratch("e2e") as work:
        env = {
            **bench_environment(work / "airflow-home"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
            "AIRFLOW_CONN_AWS_DEFAULT": s3.airflow_connection(),
        }
        subprocess.run(
            [sys.executable, "-m", "airflow", "db", "migrate"], env=env, check=True, capture_output=True, timeout=600
        )
        s3.create_buckets({config.dataset.bucket, config.storage.bucket})
        client = s3.client()
        local = work / "landing"
        local.mkdir()
        window = write_window(client, config.dataset, rows=rows, window_end=WINDOW_END, days=days, local_dir=local)
        # The day before the window: the warm-up run's window starts one day earlier.
        write_window(client, config.dataset, rows=rows // days, window_end=WINDOW_END - timedelta(days=days), days=1)
        print("  warm-up run (previous interval, 2% sample): registers the champion", flush=True)
        warm_up = _airflow_run(env, s3, config.dag_id, WINDOW_END - timedelta(days=1), {"sample_fraction": 0.02})
        config_path = pipelines_dir() / "churn.yaml"
        floor_file = write_floor_dags(
            work / "floor-dags", config.dag_id, warm_up["upstream"], GATES, "train", (config_path, local)
        )
        floor_env = {**env, "AIRFLOW__CORE__DAGS_FOLDER": str(floor_file.parent)}
        airflow, bare, floor, floor_gx, floor_duties = [], [], [], [], []
        for repeat in range(repeats):
            baseline = run_child("benchmarks.bare_train", [str(config_path), str(local)], env)
            bare.append({"wall": baseline.wall, "cpu": baseline.cpu})
            airflow.append(_airflow_run(env, s3, config.dag_id, WINDOW_END, {}))
            floor.append(_airflow_run(floor_env, s3, FLOOR_DAG_ID, WINDOW_END, {}))
            floor_gx.append(_airflow_run(floor_env, s3, FLOOR_GX_DAG_ID, WINDOW_END, {}))
            floor_duties.append(_airflow_run(floor_env, s3, FLOOR_DUTIES_DAG_ID, WINDOW_END, {}))
            latest, baseline_run = airflow[-1], bare[-1]
            print(
                f"  repeat {repeat + 1}: airflow {latest['wall']:.1f}s wall / {latest['cpu']:.1f}s CPU, "
                f"bare {baseline_run['wall']:.1f}s wall / {baseline_run['cpu']:.1f}s CPU, "
                f"floors {floor[-1]['cpu']:.1f}s / {floor_gx[-1]['cpu']:.1f}s / {floor_duties[-1]['cpu']:.1f}s CPU, "
                f"gates {latest['gate_seconds']:.1f}s",
                flush=True,
            )

    def med(samples: list[dict[str, Any]], key: str) -> float:
        return median([s[key] for s in samples])

    shares = [a["gate_seconds"] / a["run_seconds"] for a in airflow]
    task_names = list(airflow[0]["tasks"])
    airflow_cpu, bare_cpu = med(airflow, "cpu"), med(bare, "cpu")
    floor_cpu, floor_gx_cpu, duties_cpu = med(floor, "cpu"), med(floor_gx, "cpu"), med(floor_duties, "cpu")
    return {
        "e2e_overhead_ratio": round(airflow_cpu / bare_cpu, 3),
        "e2e_floor_ratio": round(floor_cpu / bare_cpu, 3),
        "e2e_floor_gx_ratio": round(floor_gx_cpu / bare_cpu, 3),
        # what the bundle controls: its tasks' CPU beyond the floor's, per bare-script CPU second
        "bundle_overhead_ratio": round((airflow_cpu - floor_cpu) / bare_cpu, 3),
        # the least bundle_overhead_ratio of a bundle with the product's duties (GX, skops, champion)
        "bundle_overhead_duties_floor": round((duties_cpu - floor_cpu) / bare_cpu, 3),
        "gate_share": round(median(shares), 3),
        "e2e": {
            "rows": rows,
            "window_memory_mib": round(window.memory_bytes / 2**20, 1),
            "repeats": repeats,
            "airflow_cpu_seconds": round(airflow_cpu, 2),
            "airflow_s3_server_cpu_seconds": round(med(airflow, "server_cpu"), 2),
            "airflow_wall_seconds": round(med(airflow, "wall"), 2),
            "bare_cpu_seconds": round(bare_cpu, 2),
            "bare_wall_seconds": round(med(bare, "wall"), 2),
            "wall_ratio": round(med(airflow, "wall") / med(bare, "wall"), 3),
            # the same tasks and dependencies through the same child, train doing the bare script's work
            "floor_tasks": len(floor[0]["tasks"]),
            "floor_cpu_seconds": round(floor_cpu, 2),
            "floor_wall_seconds": round(med(floor, "wall"), 2),
            # ... and the gates importing Great Expectations, as any gate validating with GX must
            "floor_gx_cpu_seconds": round(floor_gx_cpu, 2),
            "floor_gx_wall_seconds": round(med(floor_gx, "wall"), 2),
            # ... and train also persisting its model with skops and scoring the holdout twice
            # (candidate and champion), as any run of this product must
            "floor_duties_cpu_seconds": round(duties_cpu, 2),
            "floor_duties_wall_seconds": round(med(floor_duties, "wall"), 2),
            # what the bundle's tasks cost beyond the bare script's work in the same DAG (gates included)
            "beyond_floor_cpu_seconds": round(airflow_cpu - floor_cpu, 2),
            "gate_seconds": round(med(airflow, "gate_seconds"), 2),
            "run_seconds": round(med(airflow, "run_seconds"), 2),
            # importing Airflow and filling the DagBag, before dag.test starts the run
            "setup_seconds": round(med(airflow, "setup_seconds"), 2),
            # the run's time outside every task body: Airflow's own work (building the in-process
            # execution API on the first task's start request, task state, scheduling)
            "airflow_in_run_seconds": round(median([a["run_seconds"] - sum(a["bodies"].values()) for a in airflow]), 2),
            # Airflow's durations (start to end date; the first task's includes the API build)
            "task_seconds": {name: round(median([a["tasks"][name] for a in airflow]), 2) for name in task_names},
            # the order the tasks ran in (results.json sorts the keys of the two maps)
            "task_order": task_names,
            # the task bodies alone: the callable and its XCom push
            "task_body_seconds": {name: round(median([a["bodies"][name] for a in airflow]), 2) for name in task_names},
            "targets": {
                "e2e_overhead_ratio": OVERHEAD_TARGET,
                "bundle_overhead_ratio": BUNDLE_OVERHEAD_TARGET,
                "gate_share": GATE_SHARE_TARGET,
            },
        },
    }
