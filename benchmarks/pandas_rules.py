"""The gates' rules written in plain pandas: the yardstick of ``gate_vs_pandas``.

Each function checks one :class:`ExpectationSpec` the way its GX expectation does (missing
values are ignored by value checks, ``mostly`` is the share of non-missing values that must
pass) and returns what a gate report needs: success, the unexpected count and a sample of at
most ``SAMPLE_SIZE`` unexpected values. No GX import, no suite, no result objects.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from include.retrain.gates.expectations import ExpectationSpec
from include.retrain.gates.result import SAMPLE_SIZE

Outcome = tuple[bool, int | None, list[Any]]


def _map_outcome(values: pd.Series, unexpected: np.ndarray, mostly: float | None, denominator: int) -> Outcome:
    count = int(unexpected.sum())
    sample = values[unexpected].head(SAMPLE_SIZE).tolist() if count else []
    share_ok = 1.0 if denominator == 0 else (denominator - count) / denominator
    return share_ok >= (mostly if mostly is not None else 1.0), count, sample


def _value_check(frame: pd.DataFrame, kwargs: Mapping[str, Any], unexpected: Callable[[pd.Series], Any]) -> Outcome:
    column = frame[kwargs["column"]]
    present = column[column.notna()]
    return _map_outcome(present, np.asarray(unexpected(present), dtype=bool), kwargs.get("mostly"), len(present))


def _between(series: pd.Series, kwargs: Mapping[str, Any]) -> Any:
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    bad = np.zeros(len(series), dtype=bool)
    if low is not None:
        bad |= (series <= low) if kwargs.get("strict_min") else (series < low)
    if high is not None:
        bad |= (series >= high) if kwargs.get("strict_max") else (series > high)
    return bad


def _bounded(value: float, kwargs: Mapping[str, Any]) -> bool:
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    return (low is None or value >= low) and (high is None or value <= high)


def check(spec: ExpectationSpec, frame: pd.DataFrame) -> Outcome:
    """Evaluate one expectation on ``frame`` in plain pandas."""
    kwargs = spec.kwargs
    name = spec.expectation
    if name == "ExpectTableColumnsToMatchSet":
        expected, actual = set(kwargs["column_set"]), set(frame.columns)
        ok = actual == expected if kwargs.get("exact_match", True) else expected <= actual
        return ok, None, sorted(actual ^ expected)
    if name == "ExpectTableRowCountToBeBetween":
        return _bounded(len(frame), kwargs), None, []
    if name == "ExpectColumnToExist":
        return kwargs["column"] in frame.columns, None, []
    if name == "ExpectColumnDtypeToBeIn":
        return str(frame[kwargs["column"]].dtype) in kwargs["type_list"], None, []
    if name == "ExpectColumnValuesToNotBeNull":
        column = frame[kwargs["column"]]
        return _map_outcome(column, column.isna().to_numpy(), kwargs.get("mostly"), len(column))
    if name == "ExpectColumnValuesToBeBetween":
        return _value_check(frame, kwargs, lambda s: _between(s, kwargs))
    if name == "ExpectColumnValuesToBeInSet":
        return _value_check(frame, kwargs, lambda s: ~s.isin(kwargs["value_set"]).to_numpy())
    if name == "ExpectColumnValuesToBeUnique":
        return _value_check(frame, kwargs, lambda s: s.duplicated(keep=False).to_numpy())
    if name == "ExpectColumnValuesToMatchRegex":
        pattern = re.compile(kwargs["regex"])
        return _value_check(frame, kwargs, lambda s: ~s.astype(str).str.contains(pattern).to_numpy())
    if name == "ExpectColumnMaxToBeBetween":
        observed = frame[kwargs["column"]].max()
        bounds = {k: pd.Timestamp(v) if isinstance(v, str) else v for k, v in kwargs.items() if k != "column"}
        return _bounded(observed, bounds), None, []
    if name == "ExpectColumnMeanToBeBetween":
        return _bounded(float(frame[kwargs["column"]].mean()), kwargs), None, []
    if name == "ExpectColumnStdevToBeBetween":
        return _bounded(float(frame[kwargs["column"]].std()), kwargs), None, []
    raise NotImplementedError(name)


def run_rules(tables: Mapping[str, pd.DataFrame], specs: Sequence[ExpectationSpec]) -> list[Outcome]:
    """Every spec on its table, in order."""
    return [check(spec, tables[spec.table]) for spec in specs]
