"""Covariate drift of a window against a reference profile: PSI per feature, KS for numerics.

PSI (population stability index) over the reference's bins ``i`` with reference shares ``r_i``
and current shares ``c_i``: ``PSI = sum_i (c_i - r_i) * ln(c_i / r_i)``, each share floored at
``EPSILON`` so an empty bin counts without dividing by zero. Numeric features use the
reference's quantile bins plus a missing bin; categorical features use every value seen in
either window plus missing. Rules of thumb: < 0.1 stable, 0.1-0.25 moderate, > 0.25 large.

KS here is the largest gap between the two empirical CDFs of the non-missing values at the
reference's bin edges: a lower bound of the exact two-sample KS statistic that needs only the
stored profile, not the reference rows.

The label is compared the same way (:func:`label_drift_table`): PSI of the class shares
(classification) or of the target over the reference's quantile bins (regression), with the
largest change of one class's share beside it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from include.retrain.gates.profile import bin_shares, category_shares, numeric_values

#: Floor of a bin's share in PSI (0.01%): empty bins count, without dividing by zero.
EPSILON = 1e-4


def population_stability_index(reference: Sequence[float], current: Sequence[float]) -> float:
    """PSI between two share vectors over the same bins (see the module docs)."""
    ref = np.maximum(np.asarray(reference, dtype="float64"), EPSILON)
    cur = np.maximum(np.asarray(current, dtype="float64"), EPSILON)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def binned_ks(reference_shares: Sequence[float] | np.ndarray, current_shares: Sequence[float] | np.ndarray) -> float:
    """Largest CDF gap at the bin edges, over non-missing values (shares exclude the missing bin)."""
    ref = np.asarray(reference_shares, dtype="float64")
    cur = np.asarray(current_shares, dtype="float64")
    if ref.sum() == 0 or cur.sum() == 0:
        return float("nan")
    return float(np.max(np.abs(np.cumsum(ref) / ref.sum() - np.cumsum(cur) / cur.sum())))


def drift_table(
    profile: Mapping[str, Any], frame: pd.DataFrame, columns: Sequence[str]
) -> tuple[pd.DataFrame, dict[str, str]]:
    """One row per compared feature (``feature``, ``kind``, ``psi``, ``ks``), and why others were not.

    ``ks`` is NaN for categorical features (and when either side has no values).
    """
    numeric = profile.get("numeric", {})
    categorical = profile.get("categorical", {})
    rows: list[tuple[str, str, float, float]] = []
    skipped: dict[str, str] = {}
    for column in columns:
        if len(frame) == 0:
            skipped[column] = "the window has no rows"
        elif column not in frame.columns:
            skipped[column] = "not in this window's data"
        elif column in numeric:
            reference = numeric[column]
            shares, missing = bin_shares(numeric_values(frame[column]), reference["edges"])
            psi = population_stability_index([*reference["shares"], reference["missing"]], [*shares, missing])
            rows.append((column, "numeric", psi, binned_ks(reference["shares"], shares)))
        elif column in categorical:
            reference_shares = categorical[column]["shares"]
            current_shares = category_shares(frame[column])
            values = sorted({*reference_shares, *current_shares})
            psi = population_stability_index(
                [reference_shares.get(v, 0.0) for v in values], [current_shares.get(v, 0.0) for v in values]
            )
            rows.append((column, "categorical", psi, float("nan")))
        else:
            skipped[column] = "not in the champion's reference profile"
    table = pd.DataFrame(rows, columns=["feature", "kind", "psi", "ks"]).astype({"psi": "float64", "ks": "float64"})
    return table, skipped


def label_drift_table(profile: Mapping[str, Any], target: pd.Series) -> tuple[pd.DataFrame | None, str]:
    """One row (``column``, ``kind``, ``psi``, ``largest_share_change``) for the label, or why it was not compared.

    ``largest_share_change`` is the largest absolute change of one class's share (classification;
    NaN for regression), e.g. 0.22 when a class goes from 12% to 34% of the rows.
    """
    reference = profile.get("target")
    if reference is None:
        return (
            None,
            "the champion's reference profile has no label distribution (registered before labels were profiled)",
        )
    if reference.get("column") != target.name:
        return None, f"the champion's profile describes the label {reference.get('column')!r}, not {target.name!r}"
    if len(target) == 0:
        return None, "the window has no rows"
    if reference["kind"] == "classes":
        current = category_shares(target)
        values = sorted({*reference["shares"], *current})
        ref = [reference["shares"].get(v, 0.0) for v in values]
        cur = [current.get(v, 0.0) for v in values]
        psi = population_stability_index(ref, cur)
        change = float(np.max(np.abs(np.asarray(cur) - np.asarray(ref))))
    else:
        shares, missing = bin_shares(numeric_values(target), reference["edges"])
        psi = population_stability_index([*reference["shares"], reference["missing"]], [*shares, missing])
        change = float("nan")
    row = {"column": str(target.name), "kind": reference["kind"], "psi": psi, "largest_share_change": change}
    return pd.DataFrame([row]).astype({"psi": "float64", "largest_share_change": "float64"}), ""


def label_shares_note(profile: Mapping[str, Any], target: pd.Series) -> str:
    """``label churned: class shares 0: 0.88 -> 0.66, 1: 0.12 -> 0.34`` (classification), for the report's notes."""
    reference = profile.get("target") or {}
    if reference.get("kind") != "classes" or len(target) == 0:
        return ""
    current = category_shares(target)
    values = sorted({*reference["shares"], *current})
    parts = [f"{v}: {reference['shares'].get(v, 0.0):.3f} -> {current.get(v, 0.0):.3f}" for v in values]
    return f"label {target.name}: class shares (champion's training rows -> this window) " + ", ".join(parts)
