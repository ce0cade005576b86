"""GX's ``column_values.between`` metric, vectorised for every numeric dtype (pandas engine).

GX compares a column with its bounds in one vectorised step only when the column's dtype is
exactly ``int64`` or ``float64``; for pandas' nullable ``Int64`` (what ingest makes of every
``int`` column) and for ``float32`` (one-hot features) it calls a Python function per value.
On a 1M-row churn window that was about 60% of ``validate_raw``. Defining this subclass
re-registers the metric under its own name for the pandas engine: every expectation built on
it (``ExpectColumnValuesToBeBetween``) now compares numeric columns in one step. Same results:
narrow floats are compared in float64 (as Python compares them), integers exactly against integer
bounds (against float bounds, as float64: exact below 2**53); other dtypes (dates, strings) keep
GX's own code.

Imported only by ``gates.validation``, inside gate tasks.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any

import pandas as pd
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.metrics.column_map_metrics.column_values_between import ColumnValuesBetween
from great_expectations.expectations.metrics.map_metric_provider import column_condition_partial

_REGISTRY_LOGGER = logging.getLogger("great_expectations.expectations.registry")

#: GX's own pandas implementation (under its registration decorators), for the dtypes left to it.
_GX_BETWEEN = inspect.unwrap(ColumnValuesBetween._pandas)


def _numeric(column: pd.Series, *bounds: Any) -> bool:
    """A numeric, non-boolean column compared with numeric bounds (or none)."""
    numeric_bounds = all(b is None or (isinstance(b, int | float) and not isinstance(b, bool)) for b in bounds)
    dtype = column.dtype
    return numeric_bounds and pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


_level = _REGISTRY_LOGGER.level
_REGISTRY_LOGGER.setLevel(logging.ERROR)  # re-registering is the point: no "overwriting" warning
try:

    class VectorizedColumnValuesBetween(ColumnValuesBetween):
        """``column_values.between`` for pandas, one vectorised comparison for every numeric dtype."""

        @column_condition_partial(engine=PandasExecutionEngine)
        def _pandas(
            cls,  # noqa: N805  (GX passes the metric class, as in its own providers)
            column: pd.Series,
            min_value: Any = None,
            max_value: Any = None,
            strict_min: bool | None = None,
            strict_max: bool | None = None,
            **kwargs: Any,
        ) -> pd.Series:
            if not _numeric(column, min_value, max_value):
                return _GX_BETWEEN(cls, column, min_value, max_value, strict_min, strict_max, **kwargs)
            if min_value is None and max_value is None:
                raise ValueError("min_value and max_value cannot both be None")
            if min_value is not None and max_value is not None and min_value > max_value:
                raise ValueError("min_value cannot be greater than max_value")
            if pd.api.types.is_float_dtype(column.dtype) and column.dtype != "float64":
                # Compare in float64, as Python does: in float32 the bound 1.8e308 would round to inf.
                column = column.astype("float64")
            # Missing values were filtered out by GX before this call, so no NA reaches the result.
            strict = bool(strict_min), bool(strict_max)  # GX passes None for "not strict"
            return cls._pandas_vectorized(column, min_value, max_value, *strict).astype(bool)

finally:
    _REGISTRY_LOGGER.setLevel(_level)
