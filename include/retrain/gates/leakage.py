"""Target leakage: how well each feature *alone* predicts the target on the training rows.

A feature that is the target in disguise (a copy, a monotone transform, a code that maps each
value to one class) scores ~1; legitimate strong features score well below. The score per
feature is the largest of:

- **separation** (classification): the single-feature ROC AUC, either direction
  (``max(AUC, 1 - AUC)``), one class against the rest, best class. 1 means one threshold on the
  feature splits the classes perfectly.
- **purity** (classification, features with at most ``MAX_PURITY_VALUES`` distinct values and at
  least ``MIN_ROWS_PER_VALUE`` rows per value on average): Goodman and Kruskal's lambda, how much
  knowing the feature's value cuts the errors of always guessing the majority class
  (``(sum over values of the value's majority count - overall majority count) / (rows - overall
  majority count)``). 1 means a deterministic value -> class mapping, even one a threshold cannot
  express; 0 means no help. Unlike the raw share of majority rows it does not approach 1 just
  because one class is rare.
- **|Spearman correlation|** (regression): 1 means a monotone function of the target.

Guards against false alarms: each class needs ``MIN_CLASS_ROWS`` rows (else no classification
score: a handful of positives can be separated by chance), continuous features get no purity
(every distinct value is trivially "pure"), and a feature with missing or constant values gets
no score (the not-null and constant-feature checks report those). Above ``MAX_ROWS`` rows a
deterministic sample is scored: ranks cost O(n log n) and 200k rows pin a score of ~1 down.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MAX_ROWS = 200_000
MIN_CLASS_ROWS = 10
MAX_PURITY_VALUES = 20
MIN_ROWS_PER_VALUE = 20


def _sample(matrix: pd.DataFrame, target: np.ndarray, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    if len(matrix) <= MAX_ROWS:
        return matrix, target
    rows = np.sort(np.random.default_rng(seed).choice(len(matrix), size=MAX_ROWS, replace=False))
    return matrix.iloc[rows], target[rows]


def _separation(ranks: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per column, the best one-vs-rest AUC either way (NaN when no class has enough rows)."""
    best = np.full(ranks.shape[1], np.nan)
    classes = np.unique(labels)
    for label in classes[1:] if len(classes) == 2 else classes:  # binary: one side is enough
        positive = labels == label
        n_pos = int(positive.sum())
        n_neg = len(labels) - n_pos
        if min(n_pos, n_neg) < MIN_CLASS_ROWS:
            continue
        auc = (positive.astype("float64") @ ranks - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
        best = np.fmax(best, np.maximum(auc, 1 - auc))
    return best


def _purity(values: np.ndarray, label_codes: np.ndarray, n_labels: int) -> float:
    """Goodman and Kruskal's lambda of class given value (NaN for continuous features)."""
    codes, uniques = pd.factorize(values)
    if len(uniques) > MAX_PURITY_VALUES or len(values) < MIN_ROWS_PER_VALUE * len(uniques):
        return float("nan")
    counts = np.bincount(codes * n_labels + label_codes, minlength=len(uniques) * n_labels)
    by_value = counts.reshape(len(uniques), n_labels)
    overall_majority = by_value.sum(axis=0).max()
    return float((by_value.max(axis=1).sum() - overall_majority) / (len(values) - overall_majority))


def single_feature_scores(matrix: pd.DataFrame, target: np.ndarray, task: str, seed: int = 0) -> dict[str, float]:
    """Each column's single-feature score against ``target`` (see the module docs); NaN = no score."""
    matrix, target = _sample(matrix, np.asarray(target), seed)
    values = matrix.to_numpy(dtype="float64")
    usable = ~np.isnan(values).any(axis=0) & (
        np.nanmax(values, axis=0, initial=-np.inf) > np.nanmin(values, axis=0, initial=np.inf)
    )
    ranks = pd.DataFrame(values).rank(method="average").to_numpy()
    if task == "regression":
        target_ranks = pd.Series(target.astype("float64")).rank(method="average").to_numpy()
        centred = ranks - ranks.mean(axis=0)
        target_centred = target_ranks - target_ranks.mean()
        with np.errstate(divide="ignore", invalid="ignore"):
            scores = np.abs(target_centred @ centred / np.sqrt((centred**2).sum(axis=0) * (target_centred**2).sum()))
    else:
        label_codes, labels = pd.factorize(target)
        scores = _separation(ranks, label_codes)
        if len(labels) >= 2 and np.bincount(label_codes).min() >= MIN_CLASS_ROWS:
            purity = np.array([_purity(values[:, i], label_codes, len(labels)) for i in range(values.shape[1])])
            scores = np.fmax(scores, purity)
    return {
        column: float(score) if ok else float("nan")
        for column, score, ok in zip(matrix.columns, scores, usable, strict=True)
    }
