"""Live performance: a scored day's predictions joined with the labels that landed since, and its metric.

Pure functions: they see day lists, frames and plain settings, never the store. ``tasks.live``
reads the predictions and the labelled landing partition around them and writes the record.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from include.retrain.stages.evaluate import Evaluation, classification_metrics, regression_metrics
from include.retrain.stages.scoring import VERSION_COLUMN

if TYPE_CHECKING:
    from include.retrain.config import BootstrapConfig

PROBA_PREFIX = "proba_"


def ready_days(scored: Iterable[date], measured: Iterable[date], end: date, delay_days: int, limit: int) -> list[date]:
    """The scored days whose labels are due and that have no live record yet, oldest first, at most ``limit``.

    Labels of day D land by D + ``delay_days``; a run whose data interval ends on ``end`` (exclusive)
    has seen the landing days before ``end``, so D is due when D + ``delay_days`` < ``end``. Waiting
    for the whole delay matters: a record is written once and never revised.
    """
    done = set(measured)
    due = [day for day in sorted(set(scored)) if day + timedelta(days=delay_days) < end and day not in done]
    return due[:limit]


@dataclass(frozen=True)
class LabelledDay:
    """A day's predictions with the label of each row that has one, and the rows left out."""

    joined: pd.DataFrame
    unlabeled: int
    unmatched: int


def join_labels(predictions: pd.DataFrame, labels: pd.DataFrame, id_column: str, target: str) -> LabelledDay:
    """Inner join of the predictions with the landed labels on ``id_column``.

    Rows whose label is still missing are left out and counted (``unlabeled``), as are predictions
    whose id is no longer in the landing partition (``unmatched``). The joined frame keeps the
    predictions' columns and adds ``target``.
    """
    if labels[id_column].duplicated().any():
        raise ValueError(f"the landing partition has duplicate {id_column!r} values: the labels cannot be joined")
    merged = predictions.merge(labels[[id_column, target]], on=id_column, how="left", indicator=True)
    matched = merged["_merge"] == "both"
    has_label = matched & merged[target].notna()
    joined = merged.loc[has_label].drop(columns="_merge").reset_index(drop=True)
    return LabelledDay(joined, unlabeled=int((matched & ~has_label).sum()), unmatched=int((~matched).sum()))


def prediction_classes(predictions: pd.DataFrame) -> np.ndarray | None:
    """The class labels of the ``proba_<class>`` columns, in column order (positive last); None for regression."""
    names = [str(c)[len(PROBA_PREFIX) :] for c in predictions.columns if str(c).startswith(PROBA_PREFIX)]
    return np.asarray(names, dtype=object) if names else None


def day_evaluation(joined: pd.DataFrame, target: str) -> tuple[Evaluation, np.ndarray]:
    """The joined rows as an :class:`Evaluation` of the version that scored them, and the labels.

    Classification labels are compared as text, as the ``proba_<class>`` column names spell them.
    """
    classes = prediction_classes(joined)
    if classes is None:
        y_true = joined[target].to_numpy(dtype="float64")
        outputs = joined["score"].to_numpy(dtype="float64")
        return Evaluation(regression_metrics(y_true, outputs), outputs, outputs), y_true
    y_true = joined[target].astype(str).to_numpy(dtype=object)
    outputs = joined[[PROBA_PREFIX + str(label) for label in classes]].to_numpy(dtype="float64")
    metrics = classification_metrics(y_true, outputs, classes)
    return Evaluation(metrics, joined["score"].to_numpy(dtype="float64"), outputs, classes), y_true


def live_metric(
    joined: pd.DataFrame, target: str, metric: str, bootstrap: BootstrapConfig | None, seed: int
) -> dict[str, Any]:
    """``metric`` on the joined rows with its bootstrap interval (``promotion.bootstrap``, or its defaults)."""
    from include.retrain.stats.bootstrap import metrics_with_intervals

    evaluation, y_true = day_evaluation(joined, target)
    intervals, plan = metrics_with_intervals(evaluation, y_true, bootstrap, seed)
    found = intervals[metric]
    return {
        "value": found["value"],
        "ci_low": found["ci_low"],
        "ci_high": found["ci_high"],
        "confidence": plan["confidence"],
        "samples": plan.get("samples"),
    }


def scored_version(predictions: pd.DataFrame) -> str:
    """The one version that scored a day (a day's predictions are never rewritten)."""
    versions = predictions[VERSION_COLUMN].dropna().unique().tolist()
    if len(versions) != 1:
        raise ValueError(f"a predictions file names {len(versions)} model versions: {versions}")
    return str(versions[0])


def live_record(
    day: date, version: str, metric: str, measured: Mapping[str, Any], labelled: LabelledDay, run: Mapping[str, Any]
) -> dict[str, Any]:
    """The immutable record of one day: what was measured, on how many rows, by which run."""
    return {
        "partition": day.isoformat(),
        "model_version": version,
        "metric": metric,
        **measured,
        "rows_joined": len(labelled.joined),
        "rows_unlabeled": labelled.unlabeled,
        "rows_unmatched": labelled.unmatched,
        "run_key": run.get("run_key"),
        "run_id": run.get("run_id"),
    }


def live_series(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Live records sorted by day, then version: the series charts and retrain triggers read."""
    return sorted((dict(r) for r in records), key=lambda r: (str(r["partition"]), str(r["model_version"])))
