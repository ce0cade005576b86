"""Scoring cost: the bundle's scoring task body on 1M rows vs a bare ``model.predict_proba`` on the same rows.

A warm-up registers and deploys a champion of the churn variant first (every retrain task body,
each in a fresh interpreter, on a small window: ``bench_scaling.run_pipeline``). Then one landing
partition of ``ROWS`` rows lands in the loopback S3 endpoint, and the same Parquet bytes in a
local file; the deployed model's skops bytes are copied to a local file as well.

The bundle side is ``benchmarks.score_child``: the task body of ``score_<name>``'s
``score_partitions`` (``tasks.score.score``, what ``runner.run_scoring`` calls inside the task,
under the variant's thread budget) in a fresh interpreter, without Airflow around it: list the
landing partition, read it from S3 without the label, load the deployed model (pointer, manifest
and file sha256 checks, skops allowlist), the input gate (the raw gate's checks minus the label,
its JSON report and data docs written), ``predict_proba``, serving drift (PSI against the
version's reference profile), then the predictions Parquet, ``drift.json`` and the manifest
written to S3. The baseline is ``benchmarks.bare_score``: pandas reads the local Parquet file,
skops loads the local model file, ``predict_proba`` on the feature columns.

Both sides alternate, ``REPEATS`` times, each two ways; the predictions of the day are deleted
before each bundle run, so each run scores the partition anew:

- **as deployed** (the headline ``scoring_ratio``): each side forked from a process that imported
  ``include.retrain.preload`` (``benchmarks.forked``), as the shipped deployment starts every task
  from a forkserver that imported the libraries once (docs/operations/deployment-tuning.md); the
  fork's own CPU seconds count.
- **fresh interpreters** (``scoring.fresh_interpreter``): each side a new ``python -m`` process,
  imports included (Great Expectations' alone is about 2 s), as a deployment without the preload
  runs it.

Both end without interpreter teardown. The bundle side's CPU includes what the S3 server spent
serving it, as ``e2e_overhead_ratio`` does; ratios are of the medians, with the wall ratio and
the bundle body's phases beside them.
"""

from __future__ import annotations

import json
import sys
from datetime import date, timedelta
from typing import Any

from benchmarks.bench_scaling import WINDOW_END, run_pipeline
from benchmarks.common import bench_environment, median, process_cpu_seconds, run_child, scratch
from benchmarks.landing import write_window
from include.retrain.config import PipelineConfig, load_pipeline, pipelines_dir

ROWS = 1_000_000
REPEATS = 3
WARM_UP_ROWS = 28_000
#: The scored partition is the day the warm-up window ends on; the scoring run's interval ends a day later.
SCORE_DAY = WINDOW_END
SCORING_TARGET = 1.5


def scoring_config(base: PipelineConfig) -> PipelineConfig:
    """The variant with a ``scoring`` section whose runs score exactly the day before their interval end."""
    raw = base.model_dump(mode="json")
    raw["dataset"]["prefix"] = "bench-scoring"
    raw["scoring"] = {"on_new_data": True, "lookback_days": 1, "max_partitions_per_run": 1}
    return PipelineConfig.model_validate(raw)


def predictions_prefix(config: PipelineConfig, day: date) -> str:
    """The store prefix of ``day``'s predictions (part.parquet, drift.json, manifest.json)."""
    from include.retrain.layout import PREDICTIONS_MANIFEST, prediction_file
    from include.retrain.storage import ArtifactStore

    store = ArtifactStore(None, config.storage.bucket, config.storage.prefix)
    return store.key(config.name, *prediction_file(day.isoformat(), PREDICTIONS_MANIFEST)[:-1]) + "/"


def deployed_model_bytes(client: Any, config: PipelineConfig) -> tuple[str, bytes]:
    """The deployed version and its model file's bytes, checked as the scoring path checks them."""
    from include.retrain.layout import MODEL_FILE
    from include.retrain.promotion.deploy import read_deployed
    from include.retrain.registry import ModelRegistry
    from include.retrain.scoring.serving import deployed_model
    from include.retrain.storage import ArtifactStore

    registry = ModelRegistry(ArtifactStore(client, config.storage.bucket, config.storage.prefix), config.name)
    version = deployed_model(registry).version  # raises unless the pointer, manifest and file check out
    pointer = read_deployed(registry)
    assert pointer is not None
    assert pointer.version == version
    return version, registry.read_file(version, MODEL_FILE, manifest_sha256=pointer.manifest_sha256)


def _median_of(samples: list[dict[str, Any]], key: str) -> float:
    return median([sample[key] for sample in samples])


def _cpu_ratio(bundle: list[dict[str, Any]], bare: list[dict[str, Any]]) -> dict[str, float]:
    """Medians of ``cpu`` and ``wall`` of both sides, and their ratios."""
    bundle_cpu, bare_cpu = _median_of(bundle, "cpu"), _median_of(bare, "cpu")
    bundle_wall, bare_wall = _median_of(bundle, "wall"), _median_of(bare, "wall")
    return {
        "ratio": round(bundle_cpu / bare_cpu, 3),
        "bundle_cpu_seconds": round(bundle_cpu, 2),
        "bare_cpu_seconds": round(bare_cpu, 2),
        "bundle_wall_seconds": round(bundle_wall, 2),
        "bare_wall_seconds": round(bare_wall, 2),
        "wall_ratio": round(bundle_wall / bare_wall, 3),
    }


def summarize(
    bundle: list[dict[str, Any]], bare: list[dict[str, Any]], rows: int, fresh: tuple[list, list] | None = None
) -> dict[str, Any]:
    """The results keys from the repeats' measurements (``cpu``, ``wall``; the bundle's also its parts).

    ``bundle`` and ``bare`` are the as-deployed (forked) runs; ``fresh`` the fresh-interpreter
    runs of both sides, reported beside the headline.
    """

    headline = _cpu_ratio(bundle, bare)
    phases = list(bundle[0]["phases"])
    scoring: dict[str, Any] = {
        "rows": rows,
        "repeats": len(bundle),
        **{key: value for key, value in headline.items() if key != "ratio"},
        "bundle_s3_server_cpu_seconds": round(_median_of(bundle, "server_cpu"), 2),
        "bundle_import_seconds": round(_median_of(bundle, "import_seconds"), 2),
        "bundle_body_seconds": round(_median_of(bundle, "body_seconds"), 2),
        "bundle_body_cpu_seconds": round(_median_of(bundle, "body_cpu_seconds"), 2),
        # wall seconds of each part of the body, in the order the body runs them
        "phase_seconds": {p: round(median([b["phases"][p] for b in bundle]), 2) for p in phases},
        "phase_order": phases,
        "targets": {"scoring_ratio": SCORING_TARGET},
    }
    if fresh is not None:
        scoring["fresh_interpreter"] = {
            **_cpu_ratio(*fresh),
            "bundle_import_seconds": round(_median_of(fresh[0], "import_seconds"), 2),
        }
    return {"scoring_ratio": headline["ratio"], "scoring": scoring}


def run(rows: int = ROWS, repeats: int = REPEATS) -> dict[str, Any]:
    from dev.local_s3 import LocalS3
    from dev.synthetic.landing import delete_prefix

    base = load_pipeline(pipelines_dir() / "churn.yaml")
    config = scoring_config(base)
    end = SCORE_DAY + timedelta(days=1)
    with LocalS3() as s3, scratch("scoring") as work:
        env = bench_environment(work / "airflow-home")
        client = s3.client()
        s3.create_buckets({config.dataset.bucket, config.storage.bucket})
        write_window(client, config.dataset, rows=WARM_UP_ROWS, window_end=WINDOW_END, days=base.window.days)
        print(f"  warm-up ({WARM_UP_ROWS} rows): registers and deploys a champion", flush=True)
        run_pipeline(config, s3.endpoint_url, env, work)
        local = work / "landing"
        local.mkdir()
        landed = write_window(client, config.dataset, rows=rows, window_end=end, days=1, local_dir=local)
        (parquet,) = landed.local_files
        version, model_bytes = deployed_model_bytes(client, config)
        model_file = work / "model.skops"
        model_file.write_bytes(model_bytes)
        spec = work / "score.json"
        spec.write_text(
            json.dumps({"config": config.model_dump(mode="json"), "endpoint": s3.endpoint_url, "end": end.isoformat()})
        )
        config_path = pipelines_dir() / "churn.yaml"
        runs: dict[str, list[dict[str, Any]]] = {"bundle": [], "bare": [], "fresh bundle": [], "fresh bare": []}
        bare_args = [str(config_path), str(parquet), str(model_file)]
        for repeat in range(repeats):
            for fresh in (False, True):
                prefix = "fresh " if fresh else ""
                bare = bare_run(bare_args, env, rows, forked=not fresh)
                runs[prefix + "bare"].append(bare)
                delete_prefix(client, config.storage.bucket, predictions_prefix(config, SCORE_DAY))
                server_before = process_cpu_seconds(s3.pid)
                measured = bundle_run([str(spec)], env, forked=not fresh)
                server_cpu = process_cpu_seconds(s3.pid) - server_before
                manifest = measured.pop("manifest")
                if manifest["rows"] != {SCORE_DAY.isoformat(): rows} or manifest["model_version"] != version:
                    raise RuntimeError(f"the scoring body did not score the partition: {manifest['summary']}")
                measured.update(cpu=measured["cpu"] + server_cpu, server_cpu=server_cpu)
                runs[prefix + "bundle"].append(measured)
                print(
                    f"  repeat {repeat + 1} ({'fresh interpreters' if fresh else 'as deployed'}): bundle "
                    f"{measured['wall']:.1f}s wall / {measured['cpu']:.1f}s CPU (S3 server {server_cpu:.1f}s), "
                    f"bare {bare['wall']:.1f}s wall / {bare['cpu']:.1f}s CPU",
                    flush=True,
                )
    return summarize(runs["bundle"], runs["bare"], rows, fresh=(runs["fresh bundle"], runs["fresh bare"]))


def _child(module: str, args: list[str], env: dict[str, str], forked: bool) -> tuple[dict[str, Any], float, float]:
    """The child's output, CPU and wall seconds: a fork of a preloaded process, or a fresh interpreter."""
    if forked:
        child = run_child("benchmarks.forked", [module, *args], env)
        return child.output, child.output["forked_cpu"], child.output["forked_wall"]
    child = run_child(module, args, env)
    return child.output, child.cpu, child.wall


def bare_run(args: list[str], env: dict[str, str], rows: int, forked: bool) -> dict[str, Any]:
    output, cpu, wall = _child("benchmarks.bare_score", args, env, forked)
    if output["rows"] != rows:
        raise RuntimeError(f"the bare script scored {output['rows']} rows, not {rows}")
    return {"wall": wall, "cpu": cpu}


def bundle_run(args: list[str], env: dict[str, str], forked: bool) -> dict[str, Any]:
    """One scoring body run: its manifest, CPU and wall seconds, and its parts (S3 server CPU added by the caller)."""
    output, cpu, wall = _child("benchmarks.score_child", args, env, forked)
    return {
        "manifest": output["manifest"],
        "wall": wall,
        "cpu": cpu,
        "import_seconds": output["import_seconds"],
        "body_seconds": output["seconds"],
        "body_cpu_seconds": output["cpu_seconds"],
        "phases": output["phase_seconds"],
    }


def main(argv: list[str]) -> int:
    """``python -m benchmarks.bench_scoring [rows] [repeats]``: a quick run that prints, writing no results."""
    rows = int(argv[0]) if argv else ROWS
    repeats = int(argv[1]) if len(argv) > 1 else REPEATS
    print(json.dumps(run(rows, repeats), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
