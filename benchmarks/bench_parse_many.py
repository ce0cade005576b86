"""Parse cost at scale: ``dags/`` with 100 generated variants vs a floor file with the same DAGs.

What the dag-processor pays per loop once a team has many variants. The bundle side is
``dags/`` reading a pipelines folder of ``VARIANTS`` YAML files (copies of the shipped variants
under new names, so every DAG the factory makes for a variant is there: retrain, rollback, scoring
where configured, plus the shared watcher and freshness check). The floor is one Python file that
defines the same DAG ids, each with the same number of tasks as an empty ``@task`` chain: what any
bundle producing those DAGs must at least cost Airflow. Each measurement is a fresh interpreter
that imports Airflow first (untimed: the dag-processor's forked parser has it loaded) and then
times only the DagBag fill, in CPU seconds; the two sides alternate, ``REPEATS`` times each, and
the ratio of medians is ``parse_ratio_100``. The shipped variants are measured the same way
against their own floor (``parse_ratio_shipped``).

A third side, alternated with the two, is the floor with each DAG's trigger-form Params (the same
defaults, descriptions and JSON schemas): Airflow deep-copies a DAG's Params into every task it
builds and validates them when it builds the DAG, so ``params_floor_ratio`` (that floor over the
plain one) is the part of the bundle's cost any DAG with those forms pays, and ``beyond_params_floor``
(the bundle over it) the part the bundle's own code controls.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from benchmarks.common import PROJECT_ROOT, bench_environment, median, run_measured, scratch

VARIANTS = 100
REPEATS = 5
TARGET = 1.5
FILL_SCRIPT = """
import json, sys, time
from airflow.dag_processing.dagbag import DagBag
import airflow.sdk  # noqa: F401  (imported before timing, as in the dag-processor's parser)
wall, cpu = time.perf_counter(), time.process_time()
bag = DagBag(dag_folder=sys.argv[1])
cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
assert not bag.import_errors, bag.import_errors
tasks = {dag_id: len(dag.tasks) for dag_id, dag in bag.dags.items()}
params = {
    dag_id: {name: [p.value, p.description, p.schema] for name, p in dag.params.items()}
    for dag_id, dag in bag.dags.items()
}
print(json.dumps({"cpu": cpu, "wall": wall, "tasks": tasks, "params": params}))
"""
FLOOR_FILE = '''\
"""The floor: the same DAG ids and task counts as the bundle, each an empty @task chain
(with PARAMS: each DAG with the same trigger-form Params)."""
import pendulum
from airflow.sdk import Param, chain, dag, task

TASKS = {tasks!r}
PARAMS = {params!r}


def noop():
    return None


def build(dag_id, count):
    params = {{
        name: Param(default, description=description, schema=schema)
        for name, (default, description, schema) in PARAMS.get(dag_id, {{}}).items()
    }}

    @dag(
        dag_id=dag_id,
        schedule=None,
        start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
        catchup=False,
        params=params,
    )
    def floor():
        chain(*[task(task_id=f"t{{n}}")(noop)() for n in range(count)])

    floor()


for dag_id, count in TASKS.items():
    build(dag_id, count)
'''


def variant_folder(folder: Path, count: int, shipped: Path = PROJECT_ROOT / "include" / "pipelines") -> Path:
    """``count`` variants copied from the shipped ones in turn, each under its own name."""
    sources = sorted(shipped.glob("*.yaml"))
    folder.mkdir()
    for n in range(count):
        raw = yaml.safe_load(sources[n % len(sources)].read_text())
        raw["name"] = f"{raw['name']}_{n:03d}"
        (folder / f"{raw['name']}.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    return folder


def floor_folder(folder: Path, tasks: dict[str, int], params: dict[str, dict[str, list]] | None = None) -> Path:
    """One file defining each DAG id with its task count as an empty chain (and ``params``' Params, if given)."""
    folder.mkdir()
    text = FLOOR_FILE.format(tasks=dict(sorted(tasks.items())), params=params or {})
    (folder / "floor_dags.py").write_text(text)
    return folder


def _fill(folder: Path, env: dict[str, str]) -> dict[str, Any]:
    _, _, out = run_measured(["-c", FILL_SCRIPT, str(folder)], env)
    return json.loads(out.strip().splitlines()[-1])


def compare(pipelines: Path | None, work: Path, name: str, repeats: int = REPEATS) -> dict[str, Any]:
    """The bundle's ``dags/`` (reading ``pipelines``, or the shipped ones) against its floor, alternated."""
    env = bench_environment(work / f"airflow-home-{name}")
    if pipelines is not None:
        env["RETRAIN_PIPELINES_DIR"] = str(pipelines)
    bundle = PROJECT_ROOT / "dags"
    warm_up = _fill(bundle, env)  # bytecode caches, and the DAGs, their task counts and Params
    tasks = warm_up["tasks"]
    sides = {
        "bundle": bundle,
        "floor": floor_folder(work / f"floor-{name}", tasks),
        "params_floor": floor_folder(work / f"params-floor-{name}", tasks, warm_up["params"]),
    }
    for side in ("floor", "params_floor"):
        shape = _fill(sides[side], env)
        if shape["tasks"] != tasks or (side == "params_floor" and shape["params"] != warm_up["params"]):
            raise RuntimeError(f"the {side} defines other DAGs, task counts or Params than the bundle ({name})")
    samples: dict[str, list[dict[str, Any]]] = {side: [] for side in sides}
    for _ in range(repeats):
        for side, folder in sides.items():
            samples[side].append(_fill(folder, env))
    cpu = {side: median([s["cpu"] for s in samples[side]]) for side in sides}
    return {
        "ratio": round(cpu["bundle"] / cpu["floor"], 3),
        "dags": len(tasks),
        "tasks": sum(tasks.values()),
        "bundle_cpu_seconds": round(cpu["bundle"], 3),
        "floor_cpu_seconds": round(cpu["floor"], 3),
        "params_floor_cpu_seconds": round(cpu["params_floor"], 3),
        # what the trigger forms cost any DAG that has them, and what is left for the bundle's own code
        "params_floor_ratio": round(cpu["params_floor"] / cpu["floor"], 3),
        "beyond_params_floor": round(cpu["bundle"] / cpu["params_floor"], 3),
        "wall_ratio": round(
            median([s["wall"] for s in samples["bundle"]]) / median([s["wall"] for s in samples["floor"]]), 3
        ),
        "repeats": repeats,
    }


def run(variants: int = VARIANTS, repeats: int = REPEATS) -> dict[str, Any]:
    with scratch("parse-many") as work:
        many = compare(variant_folder(work / "pipelines", variants), work, "many", repeats)
        shipped = compare(None, work, "shipped", repeats)
    return {
        "parse_ratio_100": many["ratio"],
        "parse_many": {**many, "variants": variants, "shipped": shipped, "target": TARGET},
    }
