"""``evaluate``: holdout metrics for the candidate, the champion and a canary's challenger."""

from __future__ import annotations

from typing import Any

import pandas as pd

from include.retrain.context import RunContext
from include.retrain.frames import read_frame, write_frame
from include.retrain.layout import PREDICTIONS, SEGMENT_METRICS
from include.retrain.manifests import EvaluateManifest, FeaturesManifest, TrainManifest
from include.retrain.modelio import load_model
from include.retrain.promotion.incumbents import score_incumbents
from include.retrain.promotion.scores import holdout_rows
from include.retrain.stages.evaluate import evaluate_model, prediction_columns, segment_metrics
from include.retrain.stages.feature_set import SEGMENT_COLUMN
from include.retrain.stats.bootstrap import metrics_with_intervals
from include.retrain.tasks.record import record


def evaluate(run: RunContext, features: FeaturesManifest, trained: TrainManifest) -> EvaluateManifest:
    """Holdout metrics for the candidate, the champion and a canary's challenger on the same rows.

    ``predictions.parquet`` keeps the per-row outputs of the candidate and the champion next to
    the target, so promote can run the paired bootstrap test without scoring again; the model
    card gets a bootstrap interval for every candidate metric.
    """
    config = run.config
    holdout, y = holdout_rows(run, features)
    model = load_model(run.store.get_bytes(trained.ref("model")), source="candidate model")
    candidate = evaluate_model(model, holdout, y, config.model.task, config.dataset.positive_class)
    incumbents = score_incumbents(run, holdout, y, candidate)
    columns: dict[str, Any] = {"target": y, **prediction_columns(candidate), **incumbents.columns}
    artifacts = {}
    if (segments := config.expectations.model.segments) is not None:
        labels = read_frame(run.store, features.ref("holdout_input"), columns=[SEGMENT_COLUMN])[SEGMENT_COLUMN]
        columns["segment"] = labels.to_numpy()
        by_segment = {
            "column": segments.column,
            "segments": segment_metrics(candidate, y, labels.astype("str").to_numpy()),
        }
        artifacts["segment_metrics"] = run.store.put_json(run.key(SEGMENT_METRICS), by_segment)
    artifacts["predictions"] = write_frame(run.store, run.key(PREDICTIONS), pd.DataFrame(columns))
    metrics_ci, plan = metrics_with_intervals(candidate, y, config.promotion.bootstrap, config.model.seed)
    metric = config.promotion.metric
    manifest = EvaluateManifest(
        run=run.describe(),
        metric=metric,
        value=candidate.metrics[metric],
        metrics=candidate.metrics,
        metrics_ci=metrics_ci,
        bootstrap=plan,
        classes=None if candidate.classes is None else candidate.classes.tolist(),
        score_std=candidate.score_std,
        champion=incumbents.champion,
        challenger=incumbents.challenger,
        improvement_over_champion=incumbents.improvement(candidate.metrics[metric], metric),
        rows=len(y),
        artifacts=artifacts,
    )
    return record(run, manifest)
