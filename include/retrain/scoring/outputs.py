"""What a scoring run reads and writes besides the models: landing input, the input gate, predictions.

A partition's predictions are three objects, each one complete PUT (S3 shows an object only
once it is whole): ``part.parquet``, ``drift.json``, then ``manifest.json`` with the sha256 of
the other two. The manifest, written last, marks the partition scored; an interrupted run
leaves no manifest, and its retry writes the partition again.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

import pandas as pd

from include.retrain.config import PipelineConfig
from include.retrain.errors import GateFailure
from include.retrain.gates.result import GateResult, json_safe
from include.retrain.landing import read_landing_files
from include.retrain.layout import PREDICTIONS_MANIFEST, PREDICTIONS_PART, SERVING_DRIFT, prediction_file
from include.retrain.layout import scoring_gate_file as gate_file
from include.retrain.scoring.run import ScoringRun
from include.retrain.stages.ingest import LandingFile, assemble_window, coerce_to_schema
from include.retrain.stages.scoring import input_columns, label_columns
from include.retrain.storage import ArtifactRef, ArtifactStore

PARQUET_CONTENT_TYPE = "application/vnd.apache.parquet"


def scored_by(run: ScoringRun, days: Iterable[date]) -> dict[date, str]:
    """The days that have predictions (a manifest), each with the run key that wrote them."""
    found = {}
    for day in days:
        manifest = run.store.read_json(run.key(*prediction_file(day.isoformat(), PREDICTIONS_MANIFEST)))
        if manifest is not None:
            found[day] = str(manifest.get("run_key", ""))
    return found


def read_manifest(run: ScoringRun, day: date) -> dict[str, Any]:
    return run.store.read_json(run.key(*prediction_file(day.isoformat(), PREDICTIONS_MANIFEST))) or {}


def read_partition(run: ScoringRun, landing: ArtifactStore, files: Sequence[LandingFile]) -> pd.DataFrame:
    """One ``ds`` partition's landing files as one frame, without the label, coerced to the schema."""
    dataset = run.config.dataset
    frames, _ = read_landing_files(run.client, landing, dataset, files)
    frame = assemble_window(frames, dataset.partition_column)
    frame = frame.drop(columns=sorted(label_columns(dataset)), errors="ignore")
    return coerce_to_schema(frame, input_columns(dataset))


def publish_input_gate(run: ScoringRun, result: GateResult) -> dict[str, Any]:
    """Write the input gate's JSON report and data docs under ``scoring/<run key>/gates/``; fail if it failed."""
    from include.retrain.gates.data_docs import HTML_CONTENT_TYPE, render_data_docs
    from include.retrain.monitoring.links import airflow_root, registry_page_path, run_path

    context = run.describe()
    report = run.store.put_json(run.key(*gate_file(run.run_key, "json")), result.report(context))
    root = airflow_root()
    page = render_data_docs(
        result,
        context,
        report.uri,
        run_url=root + run_path(f"score_{run.config.name}", run.run_id),
        registry_url=root + registry_page_path(run.config.name),
    ).encode()
    html = run.store.put_bytes(run.key(*gate_file(run.run_key, "html")), page, content_type=HTML_CONTENT_TYPE)
    summary = result.summary(report.uri, html.uri)
    if not result.success:
        message = result.failure_message(report.uri, html.uri) + "\nNo predictions were written."
        raise GateFailure(message, summary=summary, report_uri=report.uri)
    return summary


def drift_document(
    config: PipelineConfig, run: ScoringRun, day: date, version: str, rows: int, found: tuple[list, dict]
) -> dict[str, Any]:
    """``drift.json``: per-feature PSI/KS of the day's scored rows against ``version``'s reference profile."""
    from include.retrain.stages.scoring import drift_levels

    features, skipped = found
    bars = config.expectations.drift
    return json_safe(
        {
            "partition": day.isoformat(),
            "model_version": version,
            "reference": f"the training rows of {version} (registry/versions/{version}/reference_profile.json)",
            "run_key": run.run_key,
            "rows": rows,
            "features": features,
            "not_compared": skipped,
            "psi_warn": bars.psi_warn,
            "psi_fail": bars.psi_fail,
            **drift_levels(features, bars.psi_warn, bars.psi_fail),
        }
    )


def write_partition(
    run: ScoringRun, day: date, predictions: pd.DataFrame, drift: Mapping[str, Any], versions: Mapping[str, Any]
) -> ArtifactRef:
    """Write the day's predictions and drift, then its manifest (last): each a single whole PUT."""
    buffer = io.BytesIO()
    predictions.to_parquet(buffer, index=False)
    part = run.store.put_bytes(
        run.key(*prediction_file(day.isoformat(), PREDICTIONS_PART)),
        buffer.getvalue(),
        content_type=PARQUET_CONTENT_TYPE,
    )
    drift_ref = run.store.put_json(run.key(*prediction_file(day.isoformat(), SERVING_DRIFT)), dict(drift))
    psi = [row["psi"] for row in drift.get("features", []) if row.get("psi") is not None]
    manifest = {
        **run.describe(),
        "partition": day.isoformat(),
        **versions,
        "rows": len(predictions),
        "max_psi": max(psi, default=None),
        "files": {PREDICTIONS_PART: part.to_dict(), SERVING_DRIFT: drift_ref.to_dict()},
    }
    run.store.put_json(run.key(*prediction_file(day.isoformat(), PREDICTIONS_MANIFEST)), manifest)
    return part
