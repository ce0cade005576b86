"""One task body in a fresh interpreter, as an Airflow worker runs each task: ``python -m benchmarks.stage_child``.

Arguments: the output JSON path, then a spec JSON path with ``config`` (a pipeline config as
JSON), ``endpoint``, ``window_end``, ``params``, ``step`` and ``upstream`` (the manifests the step
takes). Writes the step's manifest (or a failed gate's summary), the seconds spent importing the
task's libraries, the step's own wall and CPU seconds, the RSS before it started and the
process's peak RSS.

Only the step's own task module is imported, as the DAG's task does (``dags/retrain_factory/
retrain_dag.py`` imports its body inside the task): an ingest process never imports scikit-learn,
a gate imports GX when its body runs.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from benchmarks.common import current_rss_bytes, peak_rss_bytes


def main(argv: list[str]) -> int:
    output, spec_path = Path(argv[0]), Path(argv[1])
    spec = json.loads(spec_path.read_text())
    started = time.perf_counter()
    import boto3  # noqa: F401  (imported here so its cost counts as import time, as before)

    from dev.local_s3 import loopback_client
    from include.retrain import manifests as m
    from include.retrain.config import PipelineConfig
    from include.retrain.context import RunContext
    from include.retrain.errors import GateFailure
    from include.retrain.threads import cpu_budget

    # The module of each step's body (a function named after the step) and the manifest types of
    # its upstream XComs (promote's last: the gate summaries).
    bodies = {
        "ingest": ("ingest", []),
        "validate_raw": ("gates", [m.IngestManifest]),
        "build_features": ("features", [m.IngestManifest]),
        "validate_features": ("gates", [m.FeaturesManifest]),
        "check_drift": ("drift", [m.IngestManifest]),
        "train": ("train", [m.FeaturesManifest]),
        "evaluate": ("evaluate", [m.FeaturesManifest, m.TrainManifest]),
        "validate_model": ("gates", [m.EvaluateManifest]),
        "promote": ("promote", [m.IngestManifest, m.FeaturesManifest, m.TrainManifest, m.EvaluateManifest]),
    }
    module, types = bodies[spec["step"]]
    body = getattr(importlib.import_module(f"include.retrain.tasks.{module}"), spec["step"])
    import_seconds = time.perf_counter() - started
    client = loopback_client(spec["endpoint"])
    config = PipelineConfig.model_validate(spec["config"])
    run = RunContext.create(
        config,
        params=spec.get("params", {}),
        data_interval_end=date.fromisoformat(spec["window_end"]),
        run_id=f"bench__{spec['window_end']}",
        triggered_by="bench",
        client=client,
    )
    upstream: list[Any] = [kind.from_xcom(xcom) for kind, xcom in zip(types, spec["upstream"], strict=False)]
    if spec["step"] == "promote":
        upstream.append([m.GateSummary.from_xcom(summary) for summary in spec["upstream"][-1]])
    rss_before = current_rss_bytes()
    wall, cpu = time.perf_counter(), time.process_time()
    failed = False
    with cpu_budget(config.tasks.threads):
        try:
            manifest = body(run, *upstream).to_xcom()
        except GateFailure as exc:
            manifest, failed = exc.summary, True
    result = {
        "step": spec["step"],
        "failed": failed,
        "import_seconds": import_seconds,
        "seconds": time.perf_counter() - wall,
        "cpu_seconds": time.process_time() - cpu,
        "rss_before_bytes": rss_before,
        "peak_rss_bytes": peak_rss_bytes(),
        "manifest": manifest,
    }
    output.write_text(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
