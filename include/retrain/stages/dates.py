"""Date parts: date and datetime columns as numeric model features (``features.date_parts``).

:class:`DateParts` is a step of the registered model's feature transformer (on the model file
allowlist), so serving passes dates and the model derives the parts it was trained on;
:func:`with_date_parts` computes the same parts for the reference profile and ``check_drift``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from include.retrain.config import DATE_PARTS, FeaturesConfig


def date_part_values(dates: pd.Series, part: str) -> np.ndarray:
    """One part of datetime64 values as float64 (NaN where the date is missing); see ``DATE_PARTS``."""
    if part not in DATE_PARTS:
        raise ValueError(f"unknown date part {part!r}; choose from {list(DATE_PARTS)}")
    accessor = dates.dt
    if part == "is_weekend":
        values = accessor.dayofweek.to_numpy(dtype="float64", na_value=np.nan)
        return np.where(np.isnan(values), np.nan, (values >= 5).astype("float64"))
    return getattr(accessor, part).to_numpy(dtype="float64", na_value=np.nan)


def date_values(values: pd.Series) -> np.ndarray:
    """A date or datetime column as naive datetime64[us] (UTC wall time if it had a zone; NaT = missing).

    Text is parsed (a serving request may send ISO strings); what does not parse is missing.
    """
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        parsed = values
    else:
        parsed = pd.to_datetime(values.astype("object"), errors="coerce", utc=True, format="ISO8601")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return parsed.to_numpy(dtype="datetime64[us]")


class DateParts(TransformerMixin, BaseEstimator):
    """Date and datetime columns to numeric parts (``<column>_<part>``, float64, NaN for a missing date).

    A step of the registered model's feature transformer, so serving passes dates and the model
    derives the parts it was trained on. Learns nothing from rows (fit records the input columns).
    Its type is on the model file allowlist (``include.retrain.modelio``).
    """

    def __init__(self, parts: tuple[str, ...] = ()) -> None:
        self.parts = parts

    def fit(self, X: pd.DataFrame, y: object = None) -> DateParts:  # noqa: N803 (sklearn's signature)
        unknown = [part for part in self.parts if part not in DATE_PARTS]
        if unknown or not self.parts:
            raise ValueError(f"DateParts needs parts from {list(DATE_PARTS)}, got {list(self.parts)}")
        self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:  # noqa: N803
        frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(X, columns=self.feature_names_in_)
        out = {}
        for column in self.feature_names_in_:
            dates = pd.Series(date_values(frame[column]), index=frame.index)
            for part in self.parts:
                out[f"{column}_{part}"] = date_part_values(dates, part)
        return pd.DataFrame(out, index=frame.index, copy=False)

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return np.asarray([f"{c}_{p}" for c in self.feature_names_in_ for p in self.parts], dtype=object)


def with_date_parts(frame: pd.DataFrame, features: FeaturesConfig) -> pd.DataFrame:
    """``frame`` plus each date part of ``features.date_parts`` whose date column it holds.

    What the reference profile describes and check_drift compares: the parts as the model's
    :class:`DateParts` step computes them (before the imputation of missing dates).
    """
    added = {}
    for column, parts in features.date_parts.items():
        if column in frame.columns:
            dates = pd.Series(date_values(frame[column]), index=frame.index)
            added.update({f"{column}_{part}": date_part_values(dates, part) for part in parts})
    return frame.assign(**added) if added else frame
