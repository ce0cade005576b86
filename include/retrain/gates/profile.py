"""Reference profile of a model's training data: what ``check_drift`` compares later windows with.

Stored with every registered version as ``reference_profile.json``::

    {"version": 1, "rows": 8400, "bins": 10,
     "numeric": {"tenure_months": {"edges": [2, 5, ...], "shares": [0.11, ...], "missing": 0.0,
                                   "mean": 19.3, "std": 18.2, "min": 0, "max": 120}},
     "categorical": {"plan": {"shares": {"basic": 0.5, "standard": 0.3, "premium": 0.2}}}}

Numeric features: ``edges`` are the distinct interior quantiles of the reference (deciles by
default), so bin ``i`` holds ``edges[i-1] < x <= edges[i]`` with open ends; ``shares`` is each
bin's share of all rows and ``missing`` the share of missing values (the last PSI bin).
Categorical features: each value's share of all rows, missing values under ``__missing__``.

``target`` (profiles written since label drift is checked) describes the label of the same rows:
``{"column": "churned", "kind": "classes", "shares": {"0": 0.8, "1": 0.2}}`` for classification,
or ``{"column": "units", "kind": "numeric", "edges": ..., "shares": ..., ...}`` (as a numeric
feature) for regression. Profiles without it are still read; their label is not compared.

Pure and vectorised (numpy quantiles, ``searchsorted`` + ``bincount``, pandas ``value_counts``),
so profiling stays linear and fast on 10M rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

PROFILE_VERSION = 1
MISSING = "__missing__"


def numeric_values(series: pd.Series) -> np.ndarray:
    """A numeric column as float64 with NaN for missing (nullable and bool dtypes included)."""
    return series.to_numpy(dtype="float64", na_value=np.nan)


def quantile_edges(values: np.ndarray, bins: int) -> list[float]:
    """The distinct interior quantiles cutting non-missing ``values`` into ``bins`` equal shares."""
    present = values[~np.isnan(values)]
    if present.size == 0:
        return []
    return [float(e) for e in np.unique(np.quantile(present, np.linspace(0, 1, bins + 1)[1:-1]))]


def bin_shares(values: np.ndarray, edges: Sequence[float]) -> tuple[np.ndarray, float]:
    """Share of all rows in each bin cut by ``edges`` (right-closed), and the share missing."""
    if values.size == 0:
        return np.zeros(len(edges) + 1), 0.0
    missing = np.isnan(values)
    index = np.searchsorted(np.asarray(edges, dtype="float64"), values[~missing], side="left")
    counts = np.bincount(index, minlength=len(edges) + 1)
    return counts / values.size, float(missing.sum() / values.size)


def category_shares(series: pd.Series) -> dict[str, float]:
    """Each value's share of all rows (as a string key), missing values under ``__missing__``."""
    if len(series) == 0:
        return {}
    counts = series.value_counts(dropna=False, sort=False)
    counts = counts[counts > 0]  # a categorical dtype lists unused categories with 0
    shares: dict[str, float] = {}
    for value, count in zip(counts.index, counts.to_numpy(), strict=True):
        key = MISSING if pd.isna(value) else str(value)
        shares[key] = shares.get(key, 0.0) + float(count) / len(series)
    return shares


def _numeric_profile(values: np.ndarray, bins: int) -> dict[str, Any]:
    edges = quantile_edges(values, bins)
    shares, missing = bin_shares(values, edges)
    present = values[~np.isnan(values)]
    stats = (
        {
            "mean": float(present.mean()),
            "std": float(present.std()),
            "min": float(present.min()),
            "max": float(present.max()),
        }
        if present.size
        else {"mean": None, "std": None, "min": None, "max": None}
    )
    return {"edges": edges, "shares": [float(s) for s in shares], "missing": missing, **stats}


def label_profile(target: pd.Series, task: str, bins: int = 10) -> dict[str, Any]:
    """The label's distribution: class shares (classification) or quantile bins (regression)."""
    if task == "classification":
        return {"column": str(target.name), "kind": "classes", "shares": category_shares(target)}
    return {"column": str(target.name), "kind": "numeric", **_numeric_profile(numeric_values(target), bins)}


def reference_profile(
    frame: pd.DataFrame,
    numeric: Sequence[str],
    categorical: Sequence[str],
    bins: int = 10,
    *,
    target: pd.Series | None = None,
    task: str = "classification",
) -> dict[str, Any]:
    """The profile of ``frame``'s numeric and categorical columns and of ``target`` (see the module docs)."""
    profile = {
        "version": PROFILE_VERSION,
        "rows": len(frame),
        "bins": bins,
        "numeric": {column: _numeric_profile(numeric_values(frame[column]), bins) for column in numeric},
        "categorical": {column: {"shares": category_shares(frame[column])} for column in categorical},
    }
    if target is not None:
        profile["target"] = label_profile(target, task, bins)
    return profile
