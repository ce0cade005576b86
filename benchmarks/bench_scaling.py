"""Scaling: every stage's wall time and peak RSS at 1e5, 1e6 and 1e7 rows in the window.

Each task body runs in its own fresh interpreter against the loopback S3 endpoint, as an Airflow
worker runs each task in its own process, so each stage's peak RSS is its own (``VmHWM``). A
small warm-up run registers a champion first, so ``check_drift``, ``evaluate`` and ``promote``
do their steady-state work (compare with a champion's profile, score the champion). Each size
has its own landing prefix; the registry is shared, so each size sees the previous size's
model as champion.

Reported per stage: the step's own wall and CPU seconds (the task module's imports excluded, they
are reported once; a library the body imports on first use, as a gate imports GX, counts in the
body), peak RSS, and the log-log slope of wall time against rows. The window's in-memory size
(the rows as ingest types them) is the yardstick for peak RSS. ``rows_10m_completed`` is true
when every stage of the 10M-row run succeeded.

At the largest size two headline ratios: ``peak_rss_ratio`` (the largest stage's peak RSS over the
window in memory) and ``e2e_10m_ratio``: every task body's process CPU, imports included, plus the
S3 server's CPU while it served them, over ``benchmarks.bare_train --score-holdout`` reading the
same Parquet bytes from a local folder, fitting the same pipeline and scoring the holdout once.
Beside ``peak_rss_ratio``, its floor (``fit_floor``): the peak RSS of ``benchmarks.fit_floor``,
the variant's estimator fitted alone on the run's own training matrix (the least memory
scikit-learn fits it in), over the same window size.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from benchmarks.common import bench_environment, loglog_slope, median, process_cpu_seconds, run_child, scratch
from benchmarks.landing import write_window
from dev.local_s3 import LocalS3
from dev.synthetic.landing import delete_prefix
from include.retrain.config import PipelineConfig, load_pipeline, pipelines_dir
from include.retrain.manifests import FeaturesManifest
from include.retrain.monitoring.links import GATES

SIZES = (100_000, 1_000_000, 10_000_000)
WARM_UP_ROWS = 28_000
WINDOW_END = date(2026, 2, 1)
STAGES = (
    "ingest",
    "validate_raw",
    "build_features",
    "validate_features",
    "check_drift",
    "train",
    "evaluate",
    "validate_model",
    "promote",
)
#: Stages whose cost must grow at most linearly with rows (target: slope <= 1.1).
LINEAR_STAGES = ("ingest", "build_features", *GATES)
SLOPE_TARGET = 1.1
RSS_TARGET = 2.0
E2E_10M_TARGET = 1.25


def sized_config(base: PipelineConfig, label: str) -> PipelineConfig:
    """The variant reading its own landing prefix (the registry and run folders stay shared)."""
    raw = base.model_dump(mode="json")
    raw["dataset"]["prefix"] = f"bench-{label}"
    return PipelineConfig.model_validate(raw)


def run_pipeline(
    config: PipelineConfig, endpoint: str, env: dict[str, str], work: Path, manifests: dict[str, Any] | None = None
) -> dict[str, dict[str, Any]]:
    """Every task body in DAG order, each in a fresh interpreter; returns per-stage measurements.

    ``manifests``, when given, receives each stage's manifest (as its task returns it).
    """
    manifests = {} if manifests is None else manifests
    upstream_of = {
        "ingest": [],
        "validate_raw": ["ingest"],
        "build_features": ["ingest"],
        "validate_features": ["build_features"],
        "check_drift": ["ingest"],
        "train": ["build_features"],
        "evaluate": ["build_features", "train"],
        "validate_model": ["evaluate"],
    }
    measured = {}
    for stage in STAGES:
        if stage == "promote":
            upstream = [manifests[s] for s in ("ingest", "build_features", "train", "evaluate")]
            upstream.append([manifests[g] for g in GATES])
        else:
            upstream = [manifests[s] for s in upstream_of[stage]]
        spec = {
            "config": config.model_dump(mode="json"),
            "endpoint": endpoint,
            "window_end": WINDOW_END.isoformat(),
            "params": {},
            "step": stage,
            "upstream": upstream,
        }
        spec_path = work / f"{stage}.json"
        spec_path.write_text(json.dumps(spec))
        child = run_child("benchmarks.stage_child", [str(spec_path)], env)
        if child.output["failed"]:
            raise RuntimeError(f"{stage} failed on clean data: {child.output['manifest']}")
        manifests[stage] = child.output["manifest"]
        measured[stage] = {
            "seconds": round(child.output["seconds"], 3),
            "cpu_seconds": round(child.output["cpu_seconds"], 3),
            # the whole process as wait4 saw it: interpreter start, imports, the body
            "process_cpu_seconds": round(child.cpu, 3),
            "import_seconds": round(child.output["import_seconds"], 3),
            "peak_rss_mib": round(child.output["peak_rss_bytes"] / 2**20, 1),
            "rss_before_mib": round(child.output["rss_before_bytes"] / 2**20, 1),
        }
        print(
            f"    {stage:<18} {measured[stage]['seconds']:8.2f}s  {measured[stage]['peak_rss_mib']:8.0f} MiB",
            flush=True,
        )
    return measured


def run(sizes: tuple[int, ...] = SIZES) -> dict[str, Any]:
    base = load_pipeline(pipelines_dir() / "churn.yaml")
    results: dict[str, Any] = {"sizes": list(sizes), "stages": {}, "windows": {}}
    completed: dict[int, bool] = {}
    with LocalS3() as s3, scratch("scaling") as work:
        env = bench_environment(work / "airflow-home")
        client = s3.client()
        s3.create_buckets({base.dataset.bucket, base.storage.bucket})
        warm_up = sized_config(base, "warm-up")
        write_window(client, warm_up.dataset, rows=WARM_UP_ROWS, window_end=WINDOW_END, days=base.window.days)
        print(f"  warm-up ({WARM_UP_ROWS} rows): registers the champion", flush=True)
        run_pipeline(warm_up, s3.endpoint_url, env, work)
        delete_prefix(client, base.dataset.bucket, warm_up.dataset.landing_prefix)
        largest_size = max(sizes)
        for rows in sizes:
            config = sized_config(base, str(rows))
            local = work / f"landing-{rows}" if rows == largest_size else None
            if local:
                local.mkdir()
            window = write_window(
                client, config.dataset, rows=rows, window_end=WINDOW_END, days=base.window.days, local_dir=local
            )
            print(f"  {rows} rows ({window.memory_bytes / 2**20:.0f} MiB in memory):", flush=True)
            server_before = process_cpu_seconds(s3.pid)
            manifests: dict[str, Any] = {}
            try:
                stages = run_pipeline(config, s3.endpoint_url, env, work, manifests)
                completed[rows] = True
            except (RuntimeError, TimeoutError) as exc:
                print(f"    FAILED: {str(exc)[-2000:]}", flush=True)
                stages, completed[rows] = {}, False
            server_cpu = process_cpu_seconds(s3.pid) - server_before
            delete_prefix(client, base.dataset.bucket, config.dataset.landing_prefix)
            results["windows"][str(rows)] = {
                "memory_mib": round(window.memory_bytes / 2**20, 1),
                "parquet_mib": round(window.parquet_bytes / 2**20, 1),
                "completed": completed[rows],
                "peak_rss_mib": max((s["peak_rss_mib"] for s in stages.values()), default=None),
            }
            if local and completed[rows]:
                results["e2e"] = whole_run_vs_bare(stages, server_cpu, local, env)
                features = FeaturesManifest.from_xcom(manifests["build_features"])
                results["fit_floor"] = fit_floor(client, features, base.dataset.target, window.memory_bytes, env, work)
            for stage, figures in stages.items():
                results["stages"].setdefault(stage, {})[str(rows)] = figures
    done = [rows for rows in sizes if completed.get(rows)]
    for by_size in results["stages"].values():
        if len(done) >= 2:
            by_size["slope"] = round(loglog_slope(done, [by_size[str(r)]["seconds"] for r in done]), 3)
    largest = str(max(done)) if done else None
    if largest:
        window = results["windows"][largest]
        window["peak_rss_ratio"] = round(window["peak_rss_mib"] / window["memory_mib"], 2)
        imports = [by_size[largest]["import_seconds"] for by_size in results["stages"].values()]
        results["import_seconds_median"] = round(median(imports), 2)
    slopes = {s: results["stages"][s].get("slope") for s in LINEAR_STAGES if s in results["stages"]}
    results["linear_stage_max_slope"] = max((v for v in slopes.values() if v is not None), default=None)
    results["targets"] = {"slope": SLOPE_TARGET, "peak_rss_ratio": RSS_TARGET, "e2e_10m_ratio": E2E_10M_TARGET}
    headline: dict[str, Any] = {"scaling": results, "rows_10m_completed": bool(completed.get(10_000_000))}
    if completed.get(10_000_000):
        headline["peak_rss_ratio"] = results["windows"]["10000000"]["peak_rss_ratio"]
        headline["e2e_10m_ratio"] = results["e2e"]["ratio"]
    return headline


def whole_run_vs_bare(stages: dict[str, dict[str, Any]], server_cpu: float, local: Path, env: dict[str, str]) -> dict:
    """The run's CPU (every task process, imports included, and the S3 server's) vs the bare script's."""
    bare = run_child("benchmarks.bare_train", [str(pipelines_dir() / "churn.yaml"), str(local), "--score-holdout"], env)
    run_cpu = sum(s["process_cpu_seconds"] for s in stages.values()) + server_cpu
    print(f"    whole run {run_cpu:.1f}s CPU vs bare fit + holdout score {bare.cpu:.1f}s CPU", flush=True)
    return {
        "run_cpu_seconds": round(run_cpu, 2),
        "s3_server_cpu_seconds": round(server_cpu, 2),
        "bare_cpu_seconds": round(bare.cpu, 2),
        "bare_wall_seconds": round(bare.wall, 2),
        "bare_holdout_metric": round(bare.output["holdout_metric"], 4),
        "ratio": round(run_cpu / bare.cpu, 3),
    }


def fit_floor(
    client: Any, features: FeaturesManifest, target: str, window_bytes: int, env: dict[str, str], work: Path
) -> dict:
    """Peak RSS of ``benchmarks.fit_floor`` (the estimator alone) on this run's own training matrix."""
    bucket, key = features.ref("train").uri.removeprefix("s3://").split("/", 1)
    matrix = work / "fit-floor-train.parquet"
    client.download_file(bucket, key, str(matrix))
    try:
        args = [str(matrix), str(pipelines_dir() / "churn.yaml"), target, *features.feature_columns]
        floor = run_child("benchmarks.fit_floor", args, env).output
    finally:
        matrix.unlink(missing_ok=True)
    peak = floor["peak_rss_bytes"]
    print(f"    fit floor: {peak / 2**20:.0f} MiB peak RSS fitting the estimator alone", flush=True)
    return {
        "rows": floor["rows"],
        "peak_rss_mib": round(peak / 2**20, 1),
        "rss_after_imports_mib": round(floor["rss_after_imports_bytes"] / 2**20, 1),
        "ratio": round(peak / window_bytes, 2),
    }
