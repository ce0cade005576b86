"""A run's feature set: the train/holdout split, the reference profile, the fitted transformer and
each side's model input, built near one copy of the window in memory.

Only the columns used are read, the split chooses row positions and each side's model input is
built from them a column at a time, the transformer is fitted branch by branch, and each matrix
is transformed a chunk of rows at a time as it is written (:meth:`FeatureSet.matrix`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer

from include.retrain.errors import DataFailure
from include.retrain.frames import release_unused_memory
from include.retrain.gates.profile import reference_profile
from include.retrain.stages.dates import with_date_parts
from include.retrain.stages.features import (
    build_feature_transformer,
    check_category_counts,
    fit_transformer,
    target_values,
    to_model_input,
    transform_in_chunks,
)
from include.retrain.stages.split import split_columns, split_rows

if TYPE_CHECKING:
    from include.retrain.config import PipelineConfig

#: Column of ``holdout_input.parquet`` carrying each row's segment when segments are configured.
SEGMENT_COLUMN = "__segment__"


def segment_labels(values: pd.Series) -> pd.Series:
    """Segment values as strings (missing as ``(missing)``), a small categorical column."""
    labels = values.astype("str").astype(object)
    labels[values.isna().to_numpy()] = "(missing)"
    return labels.astype("category")


class FeatureSet:
    """Both sides' targets and model input, the fitted transformer and the training rows' profile."""

    def __init__(self, target: str, **parts: Any) -> None:
        self.target = target
        self.profile: dict[str, Any] = parts["profile"]
        self.y: dict[str, np.ndarray] = {"train": parts["y_train"], "holdout": parts["y_holdout"]}
        self.inputs: dict[str, pd.DataFrame] = {"train": parts["train_input"], "holdout": parts["holdout_input"]}
        self.segments: pd.Series | None = parts["segments"]
        self.transformer: ColumnTransformer = parts["transformer"]
        self.feature_columns = [str(c) for c in self.transformer.get_feature_names_out()]
        if target in self.feature_columns:
            raise DataFailure(f"a feature column is named like the target {target!r}; rename one of them")

    @property
    def rows(self) -> dict[str, int]:
        return {side: len(y) for side, y in self.y.items()}

    def matrix(self, side: str) -> Iterator[pd.DataFrame]:
        """The side's transformed matrix with its target column, a chunk of rows at a time."""
        y = self.y[side]
        done = 0
        for chunk in transform_in_chunks(self.transformer, self.inputs[side]):
            yield chunk.assign(**{self.target: y[done : done + len(chunk)]})
            done += len(chunk)

    def drop_train_input(self) -> None:
        """Free the training side's model input once its matrix is written."""
        del self.inputs["train"]

    def holdout_input(self) -> pd.DataFrame:
        """The holdout's raw model input with its target (and segment, when configured)."""
        holdout = self.inputs["holdout"]
        if self.segments is not None:
            holdout = holdout.assign(**{SEGMENT_COLUMN: self.segments})
        return holdout.assign(**{self.target: self.y["holdout"]})


def build_feature_set(read_raw: Callable[[list[str]], pd.DataFrame], config: PipelineConfig) -> FeatureSet:
    """Split train/holdout, profile the training rows, fit the feature transformer on them.

    ``read_raw(columns)`` reads those columns of the window; the frame is dropped before the
    transformer is fitted.
    """
    features = config.features
    target = config.dataset.target
    task = config.model.task
    segments = config.expectations.model.segments
    time_column = config.dataset.event_date_column or config.dataset.partition_column
    id_column = config.dataset.id_column
    used = list(dict.fromkeys([*features.all, target, *([segments.column] if segments is not None else [])]))
    row_columns = config.dataset.row_identity_columns
    split_by = split_columns(config.split, time_column=time_column, id_column=id_column, row_columns=row_columns)
    raw = read_raw(list(dict.fromkeys([*split_by, *used])))
    rows = split_rows(
        raw,
        config.split,
        target=target,
        task=task,
        seed=config.model.seed,
        time_column=time_column,
        id_column=id_column,
        row_columns=row_columns,
    )
    raw = raw[used]  # the ids or rows (hashed) or times (sorted) are done with
    release_unused_memory()
    parts: dict[str, Any] = {
        "profile": reference_profile(
            with_date_parts(raw[features.all].take(rows.train), features),
            numeric=[*features.numeric, *features.passthrough, *features.date_part_columns],
            categorical=features.categorical,
            bins=config.expectations.drift.bins,
            target=raw[target].take(rows.train),
            task=task,
        ),
        "y_train": target_values(raw[[target]].take(rows.train), target, task),
        "y_holdout": target_values(raw[[target]].take(rows.holdout), target, task),
        "train_input": to_model_input(raw, features, rows.train),
        "holdout_input": to_model_input(raw, features, rows.holdout),
        "segments": None
        if segments is None
        else segment_labels(raw[segments.column].take(rows.holdout).reset_index(drop=True)),
    }
    del raw, rows
    release_unused_memory()
    parts["transformer"] = fit_transformer(build_feature_transformer(features), parts["train_input"])
    check_category_counts(parts["transformer"], features.max_categories)
    return FeatureSet(target, **parts)
