"""GX's ``column.mean``, ``column.sum`` and ``column.standard_deviation`` without a per-value scan (pandas engine).

Before aggregating, GX's pandas implementations look at every value in Python for a
``decimal.Decimal`` to convert (``convert_pandas_series_decimal_to_float_dtype``): about 0.65 s per
aggregate on a 1M-row column, a fifth of the scoring input gate. A column with a numeric dtype
cannot hold a ``Decimal`` (only an ``object`` column can), so for those the scan is skipped and
pandas aggregates directly: the same value GX computes after its scan finds nothing. Other dtypes
keep GX's own code. Defining each subclass re-registers its metric for the pandas engine, as
:mod:`vectorized` does for ``column_values.between``.

Imported only by ``gates.validation``, inside gate tasks.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any

import pandas as pd
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.metrics.column_aggregate_metric_provider import column_aggregate_value
from great_expectations.expectations.metrics.column_aggregate_metrics.column_mean import ColumnMean
from great_expectations.expectations.metrics.column_aggregate_metrics.column_standard_deviation import (
    ColumnStandardDeviation,
)
from great_expectations.expectations.metrics.column_aggregate_metrics.column_sum import ColumnSum

_REGISTRY_LOGGER = logging.getLogger("great_expectations.expectations.registry")

#: GX's own pandas implementations (under their registration decorators), for the dtypes left to them.
_GX_MEAN = inspect.unwrap(ColumnMean._pandas)
_GX_SUM = inspect.unwrap(ColumnSum._pandas)
_GX_STD = inspect.unwrap(ColumnStandardDeviation._pandas)


def holds_no_decimal(column: pd.Series) -> bool:
    """Whether the column's dtype rules out ``decimal.Decimal`` values (numeric or boolean, not object)."""
    return pd.api.types.is_numeric_dtype(column.dtype) and column.dtype != object


_level = _REGISTRY_LOGGER.level
_REGISTRY_LOGGER.setLevel(logging.ERROR)  # re-registering is the point: no "overwriting" warning
try:

    class NumericColumnMean(ColumnMean):
        """``column.mean`` for pandas: a numeric column's mean without GX's per-value Decimal scan."""

        @column_aggregate_value(engine=PandasExecutionEngine)
        def _pandas(cls, column: pd.Series, **kwargs: Any) -> Any:  # noqa: N805  (GX passes the metric class)
            return column.mean() if holds_no_decimal(column) else _GX_MEAN(cls, column, **kwargs)

    class NumericColumnSum(ColumnSum):
        """``column.sum`` for pandas: a numeric column's sum without GX's per-value Decimal scan."""

        @column_aggregate_value(engine=PandasExecutionEngine)
        def _pandas(cls, column: pd.Series, **kwargs: Any) -> Any:  # noqa: N805
            return column.sum() if holds_no_decimal(column) else _GX_SUM(cls, column, **kwargs)

    class NumericColumnStandardDeviation(ColumnStandardDeviation):
        """``column.standard_deviation`` for pandas: a numeric column's without GX's per-value Decimal scan."""

        @column_aggregate_value(engine=PandasExecutionEngine)
        def _pandas(cls, column: pd.Series, **kwargs: Any) -> Any:  # noqa: N805
            return column.std() if holds_no_decimal(column) else _GX_STD(cls, column, **kwargs)

finally:
    _REGISTRY_LOGGER.setLevel(_level)
