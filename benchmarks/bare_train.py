"""The baseline of ``e2e_overhead_ratio``: the bare script a data scientist would write.

Arguments: the output JSON path, the pipeline YAML and the folder of local Parquet files (the
same bytes the landing bucket holds), then optionally ``--score-holdout``. It reads them with
pandas, keeps the same training rows as the pipeline's hash split, and fits the same sklearn
pipeline (the variant's feature transformer and estimator, with the same native-thread budget):
no S3, no gates, no registry, no Airflow. With ``--score-holdout`` it also scores the holdout rows
once and computes the promotion metric, as a data scientist checking the fit would
(``e2e_10m_ratio``'s baseline).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.common import exit_without_teardown


def fit_bare(config_path: Path, folder: Path, *, score_holdout: bool = False, duties: bool = False) -> dict[str, Any]:
    """The bare script's work: read the folder's Parquet files, keep the training rows, fit the pipeline.

    With ``score_holdout``, also score the holdout rows once and compute the promotion metric.
    With ``duties`` (the duties floor of ``benchmarks.floor_dag``), also the two things any run of
    this product must do with its fit: persist it with skops (the registry's format, loadable
    without running code) and score the holdout rows twice, as the candidate and as the champion
    it is compared with on the same rows (the same model twice: a champion of the same shape).
    Imports inside, so a caller that times this call times them too (they are part of the work).
    """
    import pandas as pd
    from sklearn.pipeline import Pipeline

    from include.retrain.config import load_pipeline
    from include.retrain.modelio import dump_model
    from include.retrain.stages.features import build_feature_transformer, target_values, to_model_input
    from include.retrain.stages.split import hash_holdout_mask
    from include.retrain.stages.train import make_estimator
    from include.retrain.threads import cpu_budget

    config = load_pipeline(config_path)
    frame = pd.concat([pd.read_parquet(path) for path in sorted(folder.glob("*.parquet"))], ignore_index=True)
    holdout_rows = hash_holdout_mask(frame[config.dataset.id_column], config.split.holdout_fraction)
    train = frame[~holdout_rows]
    model = Pipeline(
        [("features", build_feature_transformer(config.features)), ("model", make_estimator(config.model))]
    )
    with cpu_budget(config.tasks.threads):
        model.fit(
            to_model_input(train, config.features), target_values(train, config.dataset.target, config.model.task)
        )
        fitted: dict[str, Any] = {"rows": len(frame), "train_rows": len(train)}
        if score_holdout or duties:
            holdout = frame[holdout_rows]
            fitted["holdout_metric"] = holdout_metric(model, holdout, config)
        if duties:
            fitted["model_bytes"] = len(dump_model(model))
            fitted["champion_holdout_metric"] = holdout_metric(model, holdout, config)
    return fitted


def holdout_metric(model: Any, holdout: Any, config: Any) -> float:
    """The promotion metric of ``model`` on the holdout rows: one predict pass, one sklearn metric.

    Only the promotion metric where sklearn computes it in one call (the bundle's evaluate computes
    every metric, bootstraps an interval and scores the champion too); other cases take the
    bundle's own metric functions.
    """
    from sklearn import metrics

    from include.retrain.stages.evaluate import classification_metrics, regression_metrics
    from include.retrain.stages.features import target_values, to_model_input

    model_input = to_model_input(holdout, config.features)
    y_true = target_values(holdout, config.dataset.target, config.model.task)
    metric = config.promotion.metric
    if config.model.task == "regression":
        return regression_metrics(y_true, model.predict(model_input))[metric]
    probabilities = model.predict_proba(model_input)
    if metric == "roc_auc" and len(model.classes_) == 2:
        return float(metrics.roc_auc_score(y_true == model.classes_[1], probabilities[:, 1]))
    return classification_metrics(y_true, probabilities, model.classes_)[metric]


def main(argv: list[str]) -> int:
    output, config_path, folder = Path(argv[0]), Path(argv[1]), Path(argv[2])
    started = time.perf_counter()
    fitted = fit_bare(config_path, folder, score_holdout="--score-holdout" in argv[3:])
    output.write_text(json.dumps({**fitted, "seconds": time.perf_counter() - started}))
    return 0


if __name__ == "__main__":
    exit_without_teardown(main(sys.argv[1:]))
