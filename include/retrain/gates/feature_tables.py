"""The small derived tables ``validate_features`` judges: one row per feature, one row per class.

``feature_stats`` holds, per column of the feature matrices, what the feature invariants need:
its spread and single-feature score on the training rows (constant features, leakage) and how
many of its values are missing or infinite in each matrix. Counting here, in one vectorised pass
per matrix, replaces two GX expectations per feature and matrix (not null, finite): the gate's
cost no longer grows with the number of features times the rows, and a failure still names the
feature, with its count (``e.g. [{'feature': 'x', 'holdout_missing': 12}]``).

Pure functions of DataFrames; no GX import.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from include.retrain.gates.leakage import single_feature_scores

#: The count columns of ``feature_stats``: missing and infinite values per matrix.
COUNT_COLUMNS = ("train_missing", "train_infinite", "holdout_missing", "holdout_infinite")


def _missing_and_infinite(matrix: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per column: how many values are missing (NaN/NA) and how many are +-inf."""
    missing = matrix.isna().sum().to_numpy(dtype="int64")
    infinite = np.array(
        [
            int(np.isinf(matrix[c].to_numpy(dtype="float64", na_value=np.nan)).sum())
            if pd.api.types.is_numeric_dtype(matrix[c].dtype) and not pd.api.types.is_bool_dtype(matrix[c].dtype)
            else 0
            for c in matrix.columns
        ],
        dtype="int64",
    )
    return missing, infinite


def feature_stats(train: pd.DataFrame, holdout: pd.DataFrame, target: np.ndarray, task: str, seed: int) -> pd.DataFrame:
    """One row per feature (the training matrix's columns, without the target).

    Columns: ``feature``, ``std`` and ``single_feature_score`` on the training rows, and
    :data:`COUNT_COLUMNS`. A feature missing from the holdout matrix counts all its rows as missing.
    """
    scores = single_feature_scores(train, target, task, seed=seed)
    with np.errstate(invalid="ignore"):  # an infinite feature has no spread (NaN); its count says why
        spread = train.std().to_numpy(dtype="float64")
    train_missing, train_infinite = _missing_and_infinite(train)
    aligned = holdout.reindex(columns=train.columns)
    holdout_missing, holdout_infinite = _missing_and_infinite(aligned)
    return pd.DataFrame(
        {
            "feature": list(train.columns),
            "std": spread,
            "single_feature_score": [scores[c] for c in train.columns],
            "train_missing": train_missing,
            "train_infinite": train_infinite,
            "holdout_missing": holdout_missing,
            "holdout_infinite": holdout_infinite,
        }
    )


def class_shares(labels: pd.Series) -> pd.DataFrame:
    """One row per class of the training rows: ``class`` (as text) and its ``fraction``."""
    shares = labels.value_counts(normalize=True)
    return pd.DataFrame({"class": shares.index.astype(str), "fraction": shares.to_numpy(dtype="float64")})
