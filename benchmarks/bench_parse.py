"""Parse cost: all DAG files of the bundle vs as many trivial ``@dag`` files.

Each measurement is a fresh interpreter that imports Airflow and fills a DagBag from one
folder, the unit of work the dag-processor repeats on every loop. The baseline folder holds
one trivial ``@dag`` file per DAG the bundle generates (stricter than one per file). The two
folders are measured alternately, five times each; the ratio of medians is reported. CPU time
of the child process is the headline (other load on the machine does not inflate it); wall
time and the DagBag-only time are reported beside it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchmarks.common import PROJECT_ROOT, bench_environment, median, run_measured, scratch

REPEATS = 5
TRIVIAL_DAG = """\
import pendulum
from airflow.sdk import dag, task


@dag(
    dag_id="trivial_{n}",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["trivial"],
    default_args={{"owner": "bench"}},
)
def trivial():
    @task
    def noop():
        return 1

    noop()


trivial()
"""
PARSE_SCRIPT = """
import json, sys, time
from airflow.dag_processing.dagbag import DagBag
started = time.perf_counter()
bag = DagBag(dag_folder=sys.argv[1])
elapsed = time.perf_counter() - started
assert not bag.import_errors, bag.import_errors
print(json.dumps({"dags": len(bag.dags), "dagbag_seconds": elapsed}))
"""


def trivial_folder(folder: Path, count: int) -> Path:
    folder.mkdir()
    for n in range(count):
        (folder / f"trivial_{n}.py").write_text(TRIVIAL_DAG.format(n=n))
    return folder


def _measure(folder: Path, env: dict[str, str]) -> tuple[float, float, float, int]:
    wall, cpu, out = run_measured(["-c", PARSE_SCRIPT, str(folder)], env)
    parsed = json.loads(out.strip().splitlines()[-1])
    return wall, cpu, parsed["dagbag_seconds"], parsed["dags"]


def run() -> dict[str, Any]:
    samples: dict[str, list[tuple[float, float, float]]] = {"bundle": [], "trivial": []}
    with scratch("parse") as work:
        env = bench_environment(work / "airflow-home")
        bundle = PROJECT_ROOT / "dags"
        _, _, _, dag_count = _measure(bundle, env)  # warm-up: writes bytecode caches, counts DAGs
        baseline = trivial_folder(work / "trivial-dags", dag_count)
        _measure(baseline, env)
        for _ in range(REPEATS):
            for name, folder in (("bundle", bundle), ("trivial", baseline)):
                wall, cpu, dagbag, _ = _measure(folder, env)
                samples[name].append((wall, cpu, dagbag))

    def med(name: str, index: int) -> float:
        return median([s[index] for s in samples[name]])

    return {
        "parse_ratio": round(med("bundle", 1) / med("trivial", 1), 3),
        "parse": {
            "dags": dag_count,
            "repeats": REPEATS,
            "bundle_cpu_seconds": round(med("bundle", 1), 3),
            "trivial_cpu_seconds": round(med("trivial", 1), 3),
            "wall_ratio": round(med("bundle", 0) / med("trivial", 0), 3),
            "dagbag_only_ratio": round(med("bundle", 2) / med("trivial", 2), 3),
            "bundle_dagbag_seconds": round(med("bundle", 2), 4),
            "trivial_dagbag_seconds": round(med("trivial", 2), 4),
            "target": 1.25,
        },
    }
