"""The gates on data and model: ``validate_raw``, ``validate_features`` and ``validate_model``.

Each builds the tables its expectations check, runs the gate and publishes its reports
(``gates.publish``); a failed ``fail`` expectation fails the task without retry.
``check_drift`` has its own module (``tasks.drift``).
"""

from __future__ import annotations

import pandas as pd

from include.retrain.context import RunContext
from include.retrain.frames import local_copy, read_frame
from include.retrain.gates.expectations import features_expectations, model_expectations, raw_expectations
from include.retrain.gates.feature_tables import class_shares, feature_stats
from include.retrain.gates.parquet_table import ParquetTable
from include.retrain.gates.publish import publish_gate, run_gate
from include.retrain.gates.segments import segments_table
from include.retrain.manifests import EvaluateManifest, FeaturesManifest, GateSummary, IngestManifest


def validate_raw(run: RunContext, ingested: IngestManifest) -> GateSummary:
    """Gate: the raw window matches the declared schema and table rules.

    Folders ingest skipped (not ``ds=YYYY-MM-DD``) are a note in the report, not a failure.
    """
    notes = [
        f"skipped {uri}: not a ds=YYYY-MM-DD partition folder, its files were not read"
        for uri in ingested.skipped_folders
    ]
    if ingested.target_nulls_dropped:
        notes.append(
            f"{ingested.target_nulls_dropped} rows without a label ({run.config.dataset.target!r} missing) were "
            "dropped at ingest (dataset.target_nulls: drop)"
        )
    with local_copy(run.store, ingested.ref("raw")) as path:
        # As a file: a large window is read a column at a time as the gate validates it.
        result = run_gate(
            "validate_raw", {"data": ParquetTable.open(path)}, raw_expectations(run.config, run.window), notes
        )
    return publish_gate(run, result)


def validate_features(run: RunContext, features: FeaturesManifest) -> GateSummary:
    """Gate: finite, complete, non-constant features of sufficient size and class balance, no leakage."""
    config = run.config
    target = config.dataset.target
    classification = config.model.task == "classification"
    train = read_frame(run.store, features.ref("train"))
    holdout = read_frame(run.store, features.ref("holdout"))
    stats = feature_stats(
        train.drop(columns=[target]),
        holdout.drop(columns=[target]),
        train[target].to_numpy(),
        config.model.task,
        config.model.seed,
    )
    tables = {"train": train, "holdout": holdout, "feature_stats": stats}
    if classification:
        tables["classes"] = class_shares(train[target])
    notes = []
    unscored = stats.loc[stats["single_feature_score"].isna(), "feature"].tolist()
    if unscored and config.expectations.features.max_single_feature_score is not None:
        notes.append(f"leakage not scored for {unscored}: missing or constant values, or too few rows per class")
    specs = features_expectations(config, classification=classification)
    result = run_gate("validate_features", tables, specs, notes, row_keys={"feature_stats": "feature"})
    return publish_gate(run, result)


def validate_model(run: RunContext, evaluated: EvaluateManifest) -> GateSummary:
    """Gate: the candidate reaches its threshold, does not regress too far, scores sanely, per segment too."""
    row = {**evaluated.metrics, evaluated.metric: evaluated.value}
    has_champion = evaluated.improvement_over_champion is not None
    if has_champion:
        row["improvement_over_champion"] = evaluated.improvement_over_champion
    tables = {
        "metrics": pd.DataFrame([row], dtype="float64"),
        "scores": read_frame(run.store, evaluated.ref("predictions"), columns=["score"]),
    }
    notes: list[str] = []
    rules = run.config.expectations.model.segments
    if rules is not None:
        by_segment = run.store.get_json(evaluated.ref("segment_metrics"))
        tables["segments"], notes = segments_table(by_segment, rules, evaluated.metric)
    specs = model_expectations(run.config, has_champion=has_champion)
    return publish_gate(run, run_gate("validate_model", tables, specs, notes, row_keys={"segments": "segment"}))
