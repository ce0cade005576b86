"""The XCom contract (``include.retrain.manifests``): each task's manifest, typed, gives exactly the
dict the task returned before it was typed, keys in the same order, its summary first, and reads
back from it unchanged."""

from __future__ import annotations

from typing import Any

import pytest

from include.retrain.manifests import (
    EvaluateManifest,
    FeaturesManifest,
    GateSummary,
    IngestManifest,
    PromoteManifest,
    TrainManifest,
)

RUN = {
    "pipeline": "churn",
    "run_key": "w2026-01-01_2026-01-08",
    "run_id": "scheduled__2026-01-08",
    "triggered_by": "scheduled",
    "window": {"start": "2026-01-01", "end": "2026-01-08"},
}
REF = {"uri": "s3://b/p/churn/runs/k/x", "sha256": "ab" * 32, "size": 10}
HEAD = ["summary", "stage", *RUN]

# Each stage's keys after the run's identity, in the order the task bodies always returned them.
INGEST = {
    "files": 7,
    "partitions": 7,
    "rows": 2100,
    "target_nulls_dropped": 3,
    "landing_sha256": "cd" * 32,
    "skipped_folders": ["s3://landing/churn/tmp/"],
    "artifacts": {"raw": REF},
}
FEATURES = {
    "rows": {"train": 1600, "holdout": 500},
    "feature_columns": ["num_tenure", "cat_plan_basic"],
    "artifacts": {name: REF for name in ("train", "holdout", "holdout_input", "transformer", "reference_profile")},
}
TRAIN = {
    "estimator": "sklearn.ensemble.HistGradientBoostingClassifier",
    "params": {"max_iter": 60, "random_state": 7},
    "seed": 7,
    "rows": 1600,
    "train_seconds": 0.412,
    "artifacts": {"model": REF},
}
EVALUATE = {
    "metric": "roc_auc",
    "value": 0.81,
    "metrics": {"roc_auc": 0.81, "accuracy": 0.77},
    "metrics_ci": {"roc_auc": {"value": 0.81, "ci_low": 0.78, "ci_high": 0.84}},
    "bootstrap": {"method": "bootstrap", "samples": 1000, "confidence": 0.95, "seed": 7},
    "classes": [0, 1],
    "score_std": 0.2,
    "champion": {"version": "v1", "metrics": {"roc_auc": 0.8}, "value": 0.8, "predictions_stored": True},
    "challenger": None,
    "improvement_over_champion": 0.01,
    "rows": 500,
    "artifacts": {"predictions": REF},
}
PROMOTE = {
    "version": "v2",
    "dry_run": False,
    "registered": True,
    "promoted": True,
    "challenger": False,
    "overridden": None,
    "reason": "roc_auc 0.8100 vs champion 0.8000",
    "compared_with": "v1",
    "significance": None,
    "champion": "v2",
    "strategy": "direct",
    "canary": None,
    "deployed": {"version": "v2", "slot": None},
}
DRY_PROMOTE = {
    "version": "v2",
    "dry_run": True,
    "registered": False,
    "promoted": False,
    "would_promote": True,
    "reason": "dry run, nothing registered: better",
    "significance": None,
    "champion": "v1",
}
CASES = [
    (IngestManifest, "ingest", INGEST),
    (IngestManifest, "ingest", {k: v for k, v in INGEST.items() if k != "target_nulls_dropped"}),
    (FeaturesManifest, "features", FEATURES),
    (TrainManifest, "train", TRAIN),
    (EvaluateManifest, "evaluate", EVALUATE),
    (PromoteManifest, "promote", PROMOTE),
    (PromoteManifest, "promote", DRY_PROMOTE),
]


@pytest.mark.parametrize(("kind", "stage", "facts"), CASES)
def test_a_manifest_reads_back_the_xcom_it_gives_key_for_key(kind: Any, stage: str, facts: dict[str, Any]) -> None:
    xcom = kind.from_xcom({"summary": "", "stage": stage, **RUN, **facts}).to_xcom()
    assert list(xcom) == [*HEAD, *facts]
    assert xcom == {"summary": xcom["summary"], "stage": stage, **RUN, **facts}
    assert xcom["summary"]  # the grid's line, computed from the facts
    assert kind.from_xcom(xcom).to_xcom() == xcom


def test_artifacts_are_typed_refs() -> None:
    manifest = IngestManifest.from_xcom({"summary": "", "stage": "ingest", **RUN, **INGEST})
    assert manifest.ref("raw").sha256 == REF["sha256"]
    assert manifest.target_nulls_dropped == 3


def test_a_gate_summary_round_trips_with_its_summary_first() -> None:
    summary = {
        "summary": "passed: 3/3 expectations met, 0 warnings",
        "gate": "validate_raw",
        "success": True,
        "evaluated": 3,
        "failed": [],
        "dependent_failures": 0,
        "warnings": [],
        "notes": ["a note"],
        "rows": {"data": 10},
        "report_uri": "s3://b/r.json",
        "html_report_uri": "s3://b/r.html",
    }
    assert list(GateSummary.from_xcom(summary).to_xcom().items()) == list(summary.items())
