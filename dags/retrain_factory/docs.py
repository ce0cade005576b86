"""Markdown docs for the grid view: the DAG's from its YAML, each task's from this table."""

from __future__ import annotations

from include.retrain.config import PipelineConfig

TASK_DOCS = {
    "ingest": "Reads the landing partitions of the training window from S3 (CSV or Parquet), "
    "coerces them to the declared schema and writes `ingest/raw.parquet`. Retried on infra faults.",
    "validate_raw": "Great Expectations gate on the raw window: schema, types, nulls, ranges, categories, "
    "row count, unique ids, freshness, configured checks. Fails at once (no retry) and links its reports "
    "(`gates/validate_raw.json` and `.html`).",
    "build_features": "Splits train/holdout and fits the feature transformer on the training rows; "
    "writes both feature matrices and the fitted transformer. Retried on infra faults.",
    "validate_features": "Great Expectations gate on the feature matrices: no NaN/inf, no constant features, "
    "no target leakage (a feature that alone predicts the target), split sizes, class balance, configured "
    "checks. Fails at once (no retry); JSON report and HTML data docs in `gates/`.",
    "check_drift": "Great Expectations gate comparing this window's features with the reference profile "
    "stored with the current champion: PSI per feature (KS optional). Drift fails the run or warns, per "
    "`expectations.drift.on_drift`; with no champion yet it passes and says so. No retry.",
    "train": "Fits the configured estimator (fixed seed) in the `training` pool and writes transformer + "
    "estimator as one skops model. Retried on infra faults.",
    "evaluate": "Scores the candidate and the current champion on the same holdout. Retried on infra faults.",
    "validate_model": "Great Expectations gate on the candidate: metric threshold, regression against the "
    "champion, prediction sanity, per-segment floors, configured checks. Fails at once (no retry).",
    "promote": "Registers the candidate (with the reference profile of its training data) as an immutable "
    "version and moves the `champion` alias by compare-and-swap if the promotion policy passes. Retried on "
    "infra faults.",
}


def dag_doc(config: PipelineConfig) -> str:
    """The DAG's doc_md: the YAML description plus what the config sets up."""
    schedule = config.schedule.cron or "manual only"
    policy = config.promotion
    return "\n".join(
        [
            f"# Retrain `{config.name}`",
            "",
            config.description.strip() or "_No description in the pipeline YAML._",
            "",
            "| setting | value |",
            "| --- | --- |",
            f"| schedule | `{schedule}` ({config.schedule.timezone}) |",
            f"| landing data | `{config.dataset.landing_uri}ds=YYYY-MM-DD/` ({config.dataset.format}) |",
            f"| training window | {config.window.days} days before the data interval end |",
            f"| model | `{config.model.estimator}` |",
            f"| metric | `{policy.metric}` ({policy.direction}), threshold {policy.threshold}, "
            f"min improvement {policy.min_improvement} |",
            f"| artifacts | `s3://{config.storage.bucket}/{config.storage.prefix}/{config.name}/` via "
            f"connection `{config.storage.conn_id}` |",
        ]
    )
