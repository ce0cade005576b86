"""``make demo``: retrain a variant (churn by default) end to end through Airflow, twice.

Starts a loopback S3 endpoint, writes deterministic demo landing data (the variant's hand-written
generator, or one derived from its YAML schema: any variant works, ``--pipeline <name>``), runs
``retrain_<name>`` with ``dag.test()`` for two consecutive data intervals, prints a summary of each
run from its manifests, and stops everything it started. Exits non-zero if a run did not succeed.

Running and summarizing a DAG is ``include.retrain.local_run``, shared with ``include.retrain.cli``.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import warnings
from datetime import date, timedelta
from pathlib import Path

from dev.local_s3 import LocalS3
from dev.synthetic import generator_for, rows_per_day
from dev.synthetic.landing import write_days
from include.retrain.config import load_pipeline, pipelines_dir
from include.retrain.local_run import PROJECT_ROOT, airflow_environment_base, run_dag, summarize

FIRST_DAY = date(2026, 1, 1)


def airflow_environment(airflow_home: Path, s3: LocalS3) -> dict[str, str]:
    """Environment for a throwaway local Airflow (SQLite) that uses the loopback endpoint."""
    return {**airflow_environment_base(airflow_home), "AIRFLOW_CONN_AWS_DEFAULT": s3.airflow_connection()}


def main(argv: list[str] | None = None) -> int:
    # Airflow-internal deprecation notices (pathspec, starlette) are noise in a demo.
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    # A SIGTERM (timeout, CI) unwinds like Ctrl-C, so the S3 server is always stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pipeline", default="churn")
    parser.add_argument(
        "--days", type=int, help="days of landing data to generate (default: the window and 4 days, 32 for churn)"
    )
    parser.add_argument("--rows-per-day", type=int, help="default: 600, or more if the variant's gates need more")
    parser.add_argument("--airflow-home", type=Path, default=PROJECT_ROOT / ".local" / "demo-airflow")
    args = parser.parse_args(argv)

    config = load_pipeline(pipelines_dir() / f"{args.pipeline}.yaml")
    args.days = args.days or config.window.days + 4
    args.rows_per_day = args.rows_per_day or rows_per_day(config, 600)
    args.airflow_home.mkdir(parents=True, exist_ok=True)
    with LocalS3() as s3:
        print(f"Local S3 endpoint (moto server) at {s3.endpoint_url}")
        os.environ.update(airflow_environment(args.airflow_home, s3))
        subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True)
        s3.create_buckets({config.dataset.bucket, config.storage.bucket})
        write_days(
            s3.client(),
            config.dataset,
            generator_for(config),
            first_day=FIRST_DAY,
            days=args.days,
            rows_per_day=args.rows_per_day,
        )
        print(f"Wrote {args.days} daily partitions x {args.rows_per_day} rows to {config.dataset.landing_uri}")

        # Imported only now: Airflow reads AIRFLOW_HOME and friends at import time.
        from airflow.dag_processing.dagbag import DagBag

        from include.retrain.storage import ArtifactStore

        bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags"))
        if bag.import_errors:
            print(f"DAG import errors: {bag.import_errors}", file=sys.stderr)
            return 1
        dag = bag.get_dag(config.dag_id)
        store = ArtifactStore(s3.client(), config.storage.bucket, config.storage.prefix)
        last_day = FIRST_DAY + timedelta(days=args.days - 1)
        all_ok = True
        for window_end in (last_day, last_day + timedelta(days=1)):
            print(f"\n=== Running {config.dag_id} for the data interval ending {window_end} ===", flush=True)
            run = run_dag(dag, window_end)
            tasks = [task.task_id for task in dag.topological_sort()]
            ok, report = summarize(run, store, config.name, window_end.isoformat(), tasks)
            print(report, flush=True)
            all_ok &= ok
    print("\nLocal S3 endpoint stopped." + ("" if all_ok else " At least one run did not succeed."))
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
