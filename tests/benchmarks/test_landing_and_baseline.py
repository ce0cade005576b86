"""benchmarks.landing and benchmarks.bare_train: the data both sides of e2e_overhead_ratio read.

The baseline must read the same bytes the landing bucket holds and train on the same rows the
pipeline's hash split keeps, or the ratio compares different work.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from benchmarks.common import bench_environment, run_child
from benchmarks.landing import rows_per_day, write_window
from dev.synthetic.landing import delete_prefix
from include.retrain.config import load_pipeline, pipelines_dir
from include.retrain.stages.split import hash_holdout_mask

WINDOW_END = date(2026, 2, 1)


@pytest.mark.parametrize(("rows", "days"), [(10, 3), (28, 28), (1_000_001, 28), (5, 7)])
def test_rows_per_day_spreads_rows_evenly(rows: int, days: int) -> None:
    spread = rows_per_day(rows, days)
    assert len(spread) == days
    assert sum(spread) == rows
    assert max(spread) - min(spread) <= 1


def test_the_window_lands_in_s3_and_locally_as_the_same_bytes(s3_client: Any, tmp_path: Path) -> None:
    dataset = load_pipeline(pipelines_dir() / "churn.yaml").dataset
    window = write_window(s3_client, dataset, rows=700, window_end=WINDOW_END, days=7, local_dir=tmp_path)

    listed = s3_client.list_objects_v2(Bucket=dataset.bucket, Prefix=dataset.landing_prefix)["Contents"]
    assert len(listed) == 7 == len(window.local_files)
    assert (
        window.parquet_bytes
        == sum(item["Size"] for item in listed)
        == sum(f.stat().st_size for f in tmp_path.iterdir())
    )
    assert sum(len(pd.read_parquet(f)) for f in window.local_files) == window.rows == 700
    assert window.memory_bytes > window.parquet_bytes  # decoded rows are larger than compressed Parquet

    delete_prefix(s3_client, dataset.bucket, dataset.landing_prefix)
    assert "Contents" not in s3_client.list_objects_v2(Bucket=dataset.bucket, Prefix=dataset.landing_prefix)


def test_the_bare_baseline_trains_on_the_pipelines_training_rows(s3_client: Any, tmp_path: Path) -> None:
    config_path = pipelines_dir() / "churn.yaml"
    config = load_pipeline(config_path)
    local = tmp_path / "landing"
    local.mkdir()
    write_window(s3_client, config.dataset, rows=2800, window_end=WINDOW_END, days=28, local_dir=local)

    child = run_child("benchmarks.bare_train", [str(config_path), str(local)], bench_environment(tmp_path / "home"))

    frame = pd.concat([pd.read_parquet(f) for f in sorted(local.iterdir())])
    holdout = hash_holdout_mask(frame[config.dataset.id_column], config.split.holdout_fraction)
    assert child.output["rows"] == 2800
    assert child.output["train_rows"] == int((~holdout).sum())
    assert child.cpu > 0
    assert "holdout_metric" not in child.output  # e2e_overhead_ratio's baseline fits only


def test_the_bare_baseline_scores_the_holdout_rows_with_the_promotion_metric(s3_client: Any, tmp_path: Path) -> None:
    """e2e_10m_ratio's baseline: the same fit, then the promotion metric on the pipeline's holdout rows."""
    from sklearn.pipeline import Pipeline

    from benchmarks.bare_train import holdout_metric
    from include.retrain.stages.evaluate import classification_metrics
    from include.retrain.stages.features import build_feature_transformer, target_values, to_model_input
    from include.retrain.stages.train import make_estimator

    config_path = pipelines_dir() / "churn.yaml"
    config = load_pipeline(config_path)
    local = tmp_path / "landing"
    local.mkdir()
    write_window(s3_client, config.dataset, rows=2800, window_end=WINDOW_END, days=28, local_dir=local)

    child = run_child(
        "benchmarks.bare_train", [str(config_path), str(local), "--score-holdout"], bench_environment(tmp_path / "home")
    )

    assert config.promotion.metric == "roc_auc"
    assert 0.5 < child.output["holdout_metric"] <= 1.0
    # The one-call roc_auc agrees with the bundle's metric functions on the same model and rows.
    frame = pd.concat([pd.read_parquet(f) for f in sorted(local.iterdir())], ignore_index=True)
    rows = hash_holdout_mask(frame[config.dataset.id_column], config.split.holdout_fraction)
    train, holdout = frame[~rows], frame[rows]
    model = Pipeline(
        [("features", build_feature_transformer(config.features)), ("model", make_estimator(config.model))]
    ).fit(to_model_input(train, config.features), target_values(train, config.dataset.target, config.model.task))
    bundle = classification_metrics(
        target_values(holdout, config.dataset.target, config.model.task),
        model.predict_proba(to_model_input(holdout, config.features)),
        model.classes_,
    )
    assert holdout_metric(model, holdout, config) == pytest.approx(bundle["roc_auc"])
    assert holdout_metric(model, holdout, config) == pytest.approx(child.output["holdout_metric"])


def test_the_fit_floor_fits_the_variants_estimator_on_the_matrix_and_reports_its_peak(tmp_path: Path) -> None:
    """benchmarks.fit_floor: the estimator alone on a training matrix, its early-stopping rows a slice."""
    rng = np.random.default_rng(0)
    rows = 20_000  # above HistGradientBoosting's 10,000-row threshold for automatic early stopping
    matrix = pd.DataFrame({f"f{i}": rng.random(rows).astype("float32") for i in range(3)})
    matrix["churned"] = (matrix["f0"] > 0.5).astype("int64")
    matrix.to_parquet(tmp_path / "train.parquet", index=False)
    config = pipelines_dir() / "churn.yaml"
    args = [str(tmp_path / "train.parquet"), str(config), "churned", "f0", "f1", "f2"]

    floor = run_child("benchmarks.fit_floor", args, bench_environment(tmp_path / "home")).output

    assert floor["rows"] == rows
    assert floor["peak_rss_bytes"] >= floor["rss_after_imports_bytes"] + rows * 3 * 8  # the float64 matrix at least
