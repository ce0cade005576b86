"""Labels: the label ``dataset.label`` derives from a landing column, and rows without a label.

Pure functions on the ingested window, after :func:`~include.retrain.stages.ingest.coerce_to_schema`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from include.retrain.config import DatasetConfig
from include.retrain.errors import DataFailure
from include.retrain.stages.ingest import PANDAS_DTYPES


def derive_label(frame: pd.DataFrame, dataset: DatasetConfig) -> pd.DataFrame:
    """Add the label ``dataset.label`` derives (as ``dataset.target``), after :func:`coerce_to_schema`.

    A nullable boolean: true where the rule holds on the source column, false where it does not,
    missing where the source value is missing (``dataset.target_nulls`` decides what then). A source
    column that is absent or not of its declared type gives no label: ``validate_raw`` names the
    source's problem and the missing label. A landing column named like the label is refused: the
    label would silently replace it.
    """
    label = dataset.label
    if label is None:
        return frame
    if dataset.target in frame.columns:
        raise DataFailure(
            f"the landing data has a column {dataset.target!r}, the name of the label dataset.label derives from "
            f"{label.column!r}; rename dataset.target (or drop dataset.label to use the landed column)"
        )
    source = frame.get(label.column)
    if source is None or str(source.dtype) != PANDAS_DTYPES[dataset.columns[label.column].type]:
        return frame
    missing = source.isna().to_numpy()
    operand = label.operand
    present = source.astype("object").where(~missing, None)
    if label.rule == "greater_than":
        holds = pd.to_numeric(source).to_numpy(dtype="float64", na_value=np.nan) > operand
    elif label.rule == "less_than":
        holds = pd.to_numeric(source).to_numpy(dtype="float64", na_value=np.nan) < operand
    else:
        allowed = list(operand) if isinstance(operand, tuple) else [operand]
        holds = present.isin(allowed).to_numpy()
    values = pd.array(np.asarray(holds, dtype=bool), dtype="boolean")
    values[missing] = pd.NA
    out = frame.copy(deep=False)
    out[dataset.target] = values
    return out


def drop_unlabelled(frame: pd.DataFrame, target: str) -> tuple[pd.DataFrame, int]:
    """``frame`` without the rows whose ``target`` is missing, and how many were dropped.

    For ``dataset.target_nulls: drop`` (labels that arrive later). A frame without the target
    column is returned as it is: ``validate_raw`` names the missing column.
    """
    if target not in frame.columns:
        return frame, 0
    missing = frame[target].isna().to_numpy()
    dropped = int(missing.sum())
    if not dropped:
        return frame, 0
    return frame.loc[~missing].reset_index(drop=True), dropped
