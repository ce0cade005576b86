"""Score: which landing partitions to score, what their input gate checks, and the predictions' columns.

Pure functions: they see an object listing, frames and a fitted model, never the store.
``tasks.score`` reads and writes around them. A scored partition's input is the landing data
without the label (the target, and the column a derived label comes from): labels may land
later, and the model never sees them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from include.retrain.config import ColumnSpec, DatasetConfig, PipelineConfig
from include.retrain.gates.drift import drift_table
from include.retrain.gates.expectation_spec import ExpectationSpec
from include.retrain.gates.expectations import raw_expectations
from include.retrain.runs import TrainingWindow
from include.retrain.stages.dates import with_date_parts
from include.retrain.stages.evaluate import positive_last
from include.retrain.stages.ingest import LandingFile, landing_files

#: Columns every predictions file has besides the id column and the model outputs.
VERSION_COLUMN = "model_version"
RUN_KEY_COLUMN = "run_key"
#: Prefix of a canary challenger's shadow outputs (and ``challenger_version``).
CHALLENGER_PREFIX = "challenger_"


def label_columns(dataset: DatasetConfig) -> set[str]:
    """The columns a scoring run never reads: the target and the source of a derived label."""
    return {dataset.target, *([dataset.label.column] if dataset.label is not None else [])}


def input_columns(dataset: DatasetConfig) -> dict[str, ColumnSpec]:
    """The declared columns of the scoring input: every landing column but the label's."""
    dropped = label_columns(dataset)
    return {name: spec for name, spec in dataset.columns.items() if name not in dropped}


def partition_table(day: date) -> str:
    """The gate's table name for one partition, so each failure names it: ``ds=2026-02-01``."""
    return f"ds={day.isoformat()}"


def landing_partitions(
    listing: Iterable[tuple[str, int]], dataset: DatasetConfig, end: date, lookback_days: int
) -> dict[date, list[LandingFile]]:
    """The data files per ``ds`` day in the ``lookback_days`` before ``end`` (exclusive), oldest first."""
    window = TrainingWindow.ending(end, lookback_days)
    found: dict[date, list[LandingFile]] = {}
    for landing_file in landing_files(listing, dataset):
        if window.contains(landing_file.partition):
            found.setdefault(landing_file.partition, []).append(landing_file)
    return dict(sorted(found.items()))


def choose_partitions(
    candidates: Iterable[date], scored_by: Mapping[date, str], run_key: str, limit: int
) -> tuple[list[date], list[date]]:
    """The days this run scores (oldest first, at most ``limit``) and, of those, the ones it already scored.

    ``scored_by`` maps a day that has predictions to the run key that wrote them. A day scored by
    another run is left as it is; a day scored by this run (an earlier attempt, or the same run
    cleared and re-run) stays in the run's set, so a retry finishes what its first attempt
    started and reports the same partitions, without writing them again.
    """
    chosen = [day for day in sorted(candidates) if scored_by.get(day, run_key) == run_key][:limit]
    return chosen, [day for day in chosen if day in scored_by]


def input_expectations(config: PipelineConfig, day: date) -> list[ExpectationSpec]:
    """``validate_raw``'s expectations for one partition's input, minus the label, on its own table.

    The same schema, types, nulls, ranges, categories, unique ids and checks; not the label's
    (it is not read), and the row count asks for at least one row instead of a training
    window's ``min_rows`` (one day is scored, not a whole window).
    """
    dropped = label_columns(config.dataset)
    specs = []
    for spec in raw_expectations(config, TrainingWindow(day, day + timedelta(days=1))):
        if spec.kwargs.get("column") in dropped:
            continue
        if spec.expectation == "ExpectTableColumnsToMatchSet":
            columns = [c for c in spec.kwargs["column_set"] if c not in dropped]
            spec = replace(spec, kwargs={**spec.kwargs, "column_set": columns})
        elif spec.expectation == "ExpectTableRowCountToBeBetween":
            spec = replace(spec, kwargs={"min_value": 1, "max_value": None})
        specs.append(replace(spec, table=partition_table(day)))
    return specs


def model_outputs(model: Any, frame: pd.DataFrame, task: str, positive_class: Any = None) -> dict[str, np.ndarray]:
    """``score`` and, for a classifier, ``proba_<class>`` per class, for each row of ``frame``.

    ``score`` is what the retrain path's gates and metrics call the score: the prediction
    (regression), the positive class's probability (binary: ``dataset.positive_class``, by
    default the last label in sorted order) or the top class's probability (multiclass).
    """
    if task == "regression":
        return {"score": np.asarray(model.predict(frame), dtype="float64")}
    probabilities = np.asarray(model.predict_proba(frame), dtype="float64")
    classes = np.asarray(model.classes_)
    if positive_class is not None:
        probabilities, classes = positive_last(probabilities, classes, positive_class)
    score = probabilities[:, 1] if len(classes) == 2 else probabilities.max(axis=1)
    return {"score": score, **{f"proba_{label}": probabilities[:, i] for i, label in enumerate(classes.tolist())}}


def _constant(value: str, rows: int) -> pd.Categorical:
    """A column holding one string on every row, as a category: written dictionary-encoded, without
    converting a million Python strings (half the CPU of writing a 1M-row predictions file)."""
    return pd.Categorical.from_codes(np.zeros(rows, dtype=np.int8), categories=[value])


def predictions_frame(
    ids: pd.Series,
    outputs: Mapping[str, np.ndarray],
    version: str,
    run_key: str,
    challenger: tuple[str, Mapping[str, np.ndarray]] | None = None,
) -> pd.DataFrame:
    """One row per scored row: the id, the deployed model's outputs, its version and the run key,
    then a challenger's shadow outputs (``challenger_version``, ``challenger_score``, ...)."""
    columns: dict[str, Any] = {str(ids.name): ids.to_numpy(), **outputs}
    columns[VERSION_COLUMN] = _constant(version, len(ids))
    columns[RUN_KEY_COLUMN] = _constant(run_key, len(ids))
    if challenger is not None:
        shadow_version, shadow = challenger
        columns[f"{CHALLENGER_PREFIX}version"] = _constant(shadow_version, len(ids))
        columns.update({f"{CHALLENGER_PREFIX}{name}": values for name, values in shadow.items()})
    return pd.DataFrame(columns)


def serving_drift(
    config: PipelineConfig, profile: Mapping[str, Any] | None, frame: pd.DataFrame
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """PSI and KS per feature of the scored rows against a reference profile, as ``check_drift`` computes them.

    Returns the rows (``feature``, ``kind``, ``psi``, ``ks``) and why other features were not
    compared. Without a profile nothing is compared.
    """
    columns = list(config.expectations.drift.columns or config.features.compared)
    if profile is None:
        return [], dict.fromkeys(columns, "the deployed version has no reference profile")
    table, skipped = drift_table(profile, with_date_parts(frame, config.features), columns)
    return table.to_dict("records"), skipped


def drift_levels(rows: Sequence[Mapping[str, Any]], psi_warn: float, psi_fail: float) -> dict[str, list[str]]:
    """Features over the drift gate's bars (``psi_warn``, ``psi_fail``): a hint for consumers, not a gate."""
    levels: dict[str, list[str]] = {"above_psi_warn": [], "above_psi_fail": []}
    for row in rows:
        psi = row["psi"]
        if psi is not None and psi == psi and psi > psi_fail:
            levels["above_psi_fail"].append(row["feature"])
        elif psi is not None and psi == psi and psi > psi_warn:
            levels["above_psi_warn"].append(row["feature"])
    return levels
