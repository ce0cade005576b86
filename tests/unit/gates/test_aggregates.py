"""``gates.aggregates``: GX's mean, sum and standard deviation, the same values without a per-value scan.

Each expectation runs through the real GX gate (``run_gate``) and its observed value is compared
with pandas' own aggregate of the non-null values. Which code path ran is shown by replacing GX's
Decimal conversion (a GX internal: the only way to see that the per-value scan was skipped) with
one that records its calls.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pandas as pd
import pytest
from great_expectations.expectations.metrics.column_aggregate_metrics import column_mean

from include.retrain.gates.expectations import ExpectationSpec
from include.retrain.gates.validation import run_gate

FRAME = pd.DataFrame(
    {
        "nullable_int": pd.array([1, 2, None, 7], dtype="Int64"),
        "float": [0.5, float("nan"), 1.5, 4.0],
        "narrow": pd.array([1.0, 2.0, 3.0, 10.0], dtype="float32"),
        "flag": [True, False, True, True],
    }
)
AGGREGATES = {
    "ExpectColumnMeanToBeBetween": "mean",
    "ExpectColumnSumToBeBetween": "sum",
    "ExpectColumnStdevToBeBetween": "std",
}


def observed(frame: pd.DataFrame, expectation: str, column: str) -> Any:
    spec = ExpectationSpec(expectation, {"column": column, "min_value": -1e9, "max_value": 1e9}, table="data")
    result = run_gate("aggregates", {"data": frame}, [spec])
    (outcome,) = result.outcomes
    assert outcome.error is None, outcome
    return outcome.observed


@pytest.mark.parametrize("expectation", AGGREGATES)
@pytest.mark.parametrize("column", FRAME.columns)
def test_each_numeric_aggregate_equals_pandas_on_the_non_null_values(expectation: str, column: str) -> None:
    values = FRAME[column].dropna()
    expected = getattr(values.astype("float64"), AGGREGATES[expectation])()
    assert observed(FRAME, expectation, column) == pytest.approx(expected, rel=1e-6)


def test_a_numeric_column_skips_the_decimal_scan_and_an_object_column_keeps_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    original = column_mean.convert_pandas_series_decimal_to_float_dtype

    def recording(data: pd.Series, inplace: bool = False) -> Any:
        calls.append(str(data.dtype))
        return original(data=data, inplace=inplace)

    monkeypatch.setattr(column_mean, "convert_pandas_series_decimal_to_float_dtype", recording)

    assert observed(FRAME, "ExpectColumnMeanToBeBetween", "float") == pytest.approx(2.0)
    assert calls == []

    decimals = pd.DataFrame({"price": pd.Series([1.5, Decimal("2.5"), 2.0], dtype=object)})
    assert observed(decimals, "ExpectColumnMeanToBeBetween", "price") == pytest.approx(2.0)
    assert calls == ["object"]
