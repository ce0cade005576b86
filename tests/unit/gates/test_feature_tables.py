"""Unit tests for ``include.retrain.gates.feature_tables``: the per-feature and per-class tables of validate_features.

A feature with a missing or infinite value in either matrix must fail the gate by name, as the
two GX expectations per feature and matrix that these counts replace did.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from include.retrain.config import PipelineConfig, load_pipeline
from include.retrain.gates.expectations import features_expectations
from include.retrain.gates.feature_tables import class_shares, feature_stats
from include.retrain.gates.validation import run_gate
from tests.unit.gates.conftest import schema_defaults

CHURN_YAML = Path(__file__).resolve().parents[3] / "include" / "pipelines" / "churn.yaml"
ROWS = 600


@pytest.fixture(scope="module")
def config() -> PipelineConfig:
    return schema_defaults(load_pipeline(CHURN_YAML))


def matrices(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray, np.ndarray]:
    """Clean train and holdout matrices (a float64 and a float32 one-hot column) and their labels."""
    rng = np.random.default_rng(seed)

    def matrix(rows: int) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "tenure_months": rng.normal(20, 5, rows),
                "plan_basic": (rng.random(rows) < 0.5).astype("float32"),
            }
        )

    return matrix(ROWS), matrix(ROWS // 4), rng.integers(0, 2, ROWS), rng.integers(0, 2, ROWS // 4)


def validate(config: PipelineConfig, train: pd.DataFrame, holdout: pd.DataFrame, y: np.ndarray, y_holdout) -> list:
    tables = {
        "train": train.assign(churned=y),
        "holdout": holdout.assign(churned=y_holdout),
        "feature_stats": feature_stats(train, holdout, y, "classification", seed=0),
        "classes": class_shares(pd.Series(y)),
    }
    specs = features_expectations(config, classification=True)
    return run_gate("validate_features", tables, specs, row_keys={"feature_stats": "feature"}).failures


def test_counts_missing_and_infinite_values_per_feature_and_matrix() -> None:
    train, holdout, y, _ = matrices()
    train.loc[[1, 2], "tenure_months"] = np.nan
    train.loc[3, "plan_basic"] = np.inf
    holdout.loc[0, "tenure_months"] = -np.inf
    holdout.loc[[4, 5, 6], "plan_basic"] = np.nan

    stats = feature_stats(train, holdout, y, "classification", seed=0).set_index("feature")

    assert stats.loc[
        "tenure_months", ["train_missing", "train_infinite", "holdout_missing", "holdout_infinite"]
    ].tolist() == [2, 0, 0, 1]
    assert stats.loc[
        "plan_basic", ["train_missing", "train_infinite", "holdout_missing", "holdout_infinite"]
    ].tolist() == [0, 1, 3, 0]


def test_clean_matrices_pass(config: PipelineConfig) -> None:
    assert validate(config, *matrices()) == []


@pytest.mark.parametrize(
    ("table", "column", "value", "count_column"),
    [
        pytest.param("train", "tenure_months", np.nan, "train_missing", id="nan-in-train"),
        pytest.param("holdout", "tenure_months", np.nan, "holdout_missing", id="nan-in-holdout"),
        pytest.param("train", "plan_basic", np.inf, "train_infinite", id="inf-in-train-float32"),
        pytest.param("holdout", "tenure_months", -np.inf, "holdout_infinite", id="minus-inf-in-holdout"),
    ],
)
def test_a_missing_or_infinite_feature_fails_the_gate_by_name(
    config: PipelineConfig, table: str, column: str, value: float, count_column: str
) -> None:
    train, holdout, y, y_holdout = matrices()
    damaged = train if table == "train" else holdout
    damaged.loc[[0, 1, 2], column] = value

    failures = validate(config, train, holdout, y, y_holdout)

    count_failures = [f for f in failures if f.column == count_column]
    assert len(count_failures) == 1, [f.describe() for f in failures]
    (failure,) = count_failures
    assert failure.table == "feature_stats"
    assert failure.unexpected_sample == [{"feature": column, count_column: 3}]
    assert f"e.g. [{{'feature': '{column}', '{count_column}': 3}}]" in failure.describe()
