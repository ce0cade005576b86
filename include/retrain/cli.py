"""Run a variant on your own data from your machine, and check variant files, without the Airflow UI.

    python -m include.retrain.cli check include/pipelines/returns.yaml
    python -m include.retrain.cli run returns --window-end 2026-03-01 --endpoint-url http://localhost:9000

``check`` validates YAML files (or every file of a folder, with the rules across files) and lists
every problem with its file and field; exit status 1 if any file is invalid.

``run`` runs ``retrain_<name>`` once through Airflow (``dag.test()``: the real DAG, its tasks and
gates, in this process, against a throwaway SQLite metadata database) for the data interval ending
``--window-end``, reading landing data and writing artifacts and the registry through the variant's
connection (``storage.conn_id``). ``--endpoint-url`` points that connection at an S3-compatible
endpoint; credentials come from the usual AWS sources (``AWS_ACCESS_KEY_ID`` and
``AWS_SECRET_ACCESS_KEY``, a profile, a role), never from the command line. Without it an
``AIRFLOW_CONN_<CONN_ID>`` already set in the environment is used, else AWS S3 itself. Prints the
same per-task summary as ``make demo``; exit status 1 if the run did not succeed, 2 if it could not
start (invalid config, missing bucket).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import warnings
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from include.retrain.config import PipelineConfig, discover_pipelines, load_pipeline, pipelines_dir
from include.retrain.errors import ConfigError, InvalidRunOptions

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def check(paths: list[Path]) -> int:
    """Validate each file (or folder of files); print every problem; 0 if all are valid."""
    invalid = 0
    for path in paths:
        if path.is_dir():
            sources = discover_pipelines(path)
            if not sources:
                print(f"{path}: no *.yaml or *.yml files")
                invalid += 1
            for source in sources:
                invalid += _report(source.path, source.config, source.error)
            continue
        try:
            config: PipelineConfig | None = load_pipeline(path)
            error = None
        except ConfigError as exc:
            config, error = None, exc
        invalid += _report(path, config, error)
    return 1 if invalid else 0


def _report(path: Path, config: PipelineConfig | None, error: ConfigError | None) -> int:
    if error is None and config is not None:
        print(f"{path}: ok (retrain_{config.name}, {config.model.task}, {len(config.dataset.columns)} columns)")
        return 0
    problems = error.problems if error is not None else ["unknown problem"]
    print(f"{path}: {len(problems)} problem{'s' if len(problems) != 1 else ''}")
    for problem in problems:
        print(f"  - {problem}")
    return 1


def _find_variant(name: str, folder: Path | None) -> tuple[PipelineConfig, Path]:
    """The variant called ``name`` (or the variant file ``name``) and the folder the DAGs are built from."""
    as_path = Path(name)
    if as_path.suffix in (".yaml", ".yml") and as_path.is_file():
        folder, name = as_path.resolve().parent, as_path.stem
    folder = (folder or pipelines_dir()).resolve()
    sources = discover_pipelines(folder)
    for source in sources:
        if name in (source.name, source.path.stem):
            if source.error is not None:
                raise ConfigError(str(source.path), source.error.problems)
            assert source.config is not None
            return source.config, folder
    known = ", ".join(sorted(source.name for source in sources)) or "none"
    raise ConfigError(str(folder), [f"no variant named {name!r} in this folder (variants: {known})"])


def connection_env(config: PipelineConfig, endpoint_url: str | None, region: str | None) -> dict[str, str]:
    """``AIRFLOW_CONN_<ID>`` for the variant's connection when ``--endpoint-url`` is given (no secrets in it)."""
    if endpoint_url is None:
        return {}
    extra: dict[str, str] = {"endpoint_url": endpoint_url}
    if region:
        extra["region_name"] = region
    variable = f"AIRFLOW_CONN_{config.storage.conn_id.upper()}"
    return {variable: json.dumps({"conn_type": "aws", "extra": extra})}


def airflow_env(airflow_home: Path, folder: Path) -> dict[str, str]:
    """A throwaway local Airflow (SQLite) whose DAGs come from ``folder``'s variant files."""
    from include.retrain.local_run import airflow_environment_base

    return {**airflow_environment_base(airflow_home), "RETRAIN_PIPELINES_DIR": str(folder)}


def _s3_client(config: PipelineConfig) -> Any:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    return S3Hook(aws_conn_id=config.storage.conn_id).get_conn()


def _missing_buckets(client: Any, config: PipelineConfig) -> list[str]:
    """Problems reaching the variant's buckets, each in one sentence (empty: both reachable)."""
    from botocore.exceptions import BotoCoreError, ClientError

    problems = []
    for role, bucket in (("dataset.bucket", config.dataset.bucket), ("storage.bucket", config.storage.bucket)):
        try:
            client.head_bucket(Bucket=bucket)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "?")
            problems.append(f"{role} {bucket!r}: {code} (create it, or set {role} in the YAML to a bucket you can use)")
        except BotoCoreError as exc:
            problems.append(f"{role} {bucket!r}: cannot reach the endpoint: {exc}")
    return problems


def run(args: argparse.Namespace) -> int:
    """Run ``retrain_<name>`` once for the window ending ``args.window_end``; print its summary."""
    try:
        config, folder = _find_variant(args.name, args.pipelines_dir)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    conf: dict[str, Any] = {}
    if args.dry_run:
        conf["dry_run"] = True
    if args.window_days is not None:
        conf["window_days"] = args.window_days
    if args.force_promote:
        conf.update(force_promote=True, reason=args.reason)
    elif args.reason:
        conf["reason"] = args.reason

    args.airflow_home.mkdir(parents=True, exist_ok=True)
    os.environ.update(airflow_env(args.airflow_home, folder))
    os.environ.update(connection_env(config, args.endpoint_url, args.region))
    migrated = subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], capture_output=True, text=True)
    if migrated.returncode != 0:
        print(f"airflow db migrate failed:\n{migrated.stderr[-2000:]}", file=sys.stderr)
        return 2

    # Imported only now: Airflow reads AIRFLOW_HOME and friends at import time.
    from airflow.dag_processing.dagbag import DagBag

    from include.retrain.local_run import run_dag, run_key_of, summarize
    from include.retrain.storage import ArtifactStore

    client = _s3_client(config)
    if problems := _missing_buckets(client, config):
        print("cannot run: " + "; ".join(problems), file=sys.stderr)
        return 2
    bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags"))
    dag = bag.get_dag(config.dag_id)
    if dag is None:
        print(f"DAG {config.dag_id} not found; import errors: {bag.import_errors}", file=sys.stderr)
        return 2
    print(
        f"=== Running {config.dag_id} for the data interval ending {args.window_end} "
        f"(landing {config.dataset.landing_uri}, artifacts s3://{config.storage.bucket}/{config.storage.prefix}/"
        f"{config.name}/){' with ' + json.dumps(conf) if conf else ''} ===",
        flush=True,
    )
    try:
        dag_run = run_dag(dag, args.window_end, conf)
    except InvalidRunOptions as exc:  # e.g. a window end before schedule.start_date: no task would run
        print(f"cannot run: {exc}", file=sys.stderr)
        return 2
    run_key = run_key_of(config, dag, dag_run, args.window_end, conf, client)
    store = ArtifactStore(client, config.storage.bucket, config.storage.prefix)
    ok, report = summarize(dag_run, store, config.name, run_key, [task.task_id for task in dag.topological_sort()])
    print(report, flush=True)
    return 0 if ok else 1


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="python -m include.retrain.cli", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = root.add_subparsers(dest="command", required=True)
    checking = commands.add_parser("check", help="validate variant YAML files; list every problem")
    checking.add_argument("paths", nargs="+", type=Path, help="YAML files or folders of them")
    running = commands.add_parser("run", help="run retrain_<name> once through Airflow (dag.test) and summarize it")
    running.add_argument("name", help="variant name (a file in the pipelines folder), or a path to its YAML file")
    running.add_argument(
        "--window-end",
        type=_day,
        default=datetime.now(UTC).date(),
        help="the run's data interval end: trains on the window.days daily partitions before it (default: today, UTC)",
    )
    running.add_argument("--window-days", type=int, help="window length instead of window.days")
    running.add_argument("--dry-run", action="store_true", help="train, validate, evaluate; register nothing")
    running.add_argument("--force-promote", action="store_true", help="promote even if the policy would not")
    running.add_argument("--reason", help="why (required with --force-promote; recorded in the registry)")
    running.add_argument(
        "--endpoint-url", help="S3-compatible endpoint for the variant's connection (e.g. http://localhost:9000)"
    )
    running.add_argument("--region", help="region_name of the connection (with --endpoint-url)")
    running.add_argument(
        "--pipelines-dir",
        type=Path,
        help="folder of variant files (default: $RETRAIN_PIPELINES_DIR or include/pipelines)",
    )
    running.add_argument(
        "--airflow-home",
        type=Path,
        default=PROJECT_ROOT / ".local" / "run-airflow",
        help="throwaway Airflow home (SQLite metadata); default .local/run-airflow",
    )
    return root


def main(argv: list[str] | None = None) -> int:
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    args = parser().parse_args(argv)
    if args.command == "check":
        return check(args.paths)
    if args.force_promote and not args.reason:
        print("--force-promote needs --reason (it is recorded in the registry event)", file=sys.stderr)
        return 2
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
