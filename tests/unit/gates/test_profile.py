"""Unit tests for ``include.retrain.gates.profile``: the reference profile stored with every version."""

from __future__ import annotations

import json
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from dev.synthetic.churn import churn_day
from include.retrain.gates.profile import (
    MISSING,
    bin_shares,
    category_shares,
    numeric_values,
    quantile_edges,
    reference_profile,
)


class TestNumericBins:
    """Bins come from the reference quantiles; a value on an edge belongs to the bin below it."""

    def test_quartile_edges_hand_checked(self) -> None:
        # numpy's linear interpolation on 1..100: 25.75, 50.5, 75.25
        assert quantile_edges(np.arange(1.0, 101.0), 4) == [25.75, 50.5, 75.25]

    def test_edges_ignore_missing_and_collapse_ties(self) -> None:
        values = np.array([0, 0, 0, 0, 0, 0, 0, 1, 2, np.nan], dtype="float64")
        # Nine values: deciles 1-7 sit on the zeros (one edge), then 0.4 and 1.2 (interpolated).
        assert quantile_edges(values, 10) == pytest.approx([0.0, 0.4, 1.2])

    def test_no_values_no_edges(self) -> None:
        assert quantile_edges(np.array([np.nan]), 10) == []

    def test_right_closed_bins_and_missing_share(self) -> None:
        values = np.array([1.0, 2.0, 2.5, 3.0, 4.0, np.nan, 10.0, np.nan])
        shares, missing = bin_shares(values, [2.0, 3.0])
        # (-inf, 2]: 1, 2 | (2, 3]: 2.5, 3 | (3, inf): 4, 10 ; 2 of 8 missing
        assert shares.tolist() == [2 / 8, 2 / 8, 2 / 8]
        assert missing == 2 / 8

    def test_empty_values(self) -> None:
        shares, missing = bin_shares(np.array([], dtype="float64"), [1.0])
        assert shares.tolist() == [0.0, 0.0]
        assert missing == 0.0

    def test_nullable_and_bool_columns_become_float_with_nan(self) -> None:
        assert np.array_equal(
            numeric_values(pd.Series([1, None, 3], dtype="Int64")), np.array([1.0, np.nan, 3.0]), equal_nan=True
        )
        assert numeric_values(pd.Series([True, False], dtype="boolean")).tolist() == [1.0, 0.0]


class TestCategoryShares:
    """Each value's share of all rows; missing values have their own key; unused categories vanish."""

    def test_shares_with_missing(self) -> None:
        series = pd.Series(pd.Categorical(["a", "b", "a", None], categories=["a", "b", "c"]))
        assert category_shares(series) == {"a": 0.5, "b": 0.25, MISSING: 0.25}

    def test_strings_and_bools(self) -> None:
        assert category_shares(pd.Series(["x", "y", "y", "y"], dtype="str")) == {"x": 0.25, "y": 0.75}
        assert category_shares(pd.Series([True, False, True, True], dtype="boolean")) == {"True": 0.75, "False": 0.25}

    def test_empty(self) -> None:
        assert category_shares(pd.Series([], dtype="str")) == {}


class TestReferenceProfile:
    """The profile of a churn window: every feature, shares summing to 1, plain JSON."""

    @pytest.fixture(scope="class")
    def window(self) -> pd.DataFrame:
        first = date(2026, 1, 1)
        return pd.concat([churn_day(first + timedelta(days=i), 200) for i in range(5)], ignore_index=True)

    def test_profile_of_a_window(self, window: pd.DataFrame) -> None:
        numeric = ["tenure_months", "monthly_charges", "support_calls"]
        profile = reference_profile(window, numeric, ["plan", "region"], bins=10)
        assert profile["version"] == 1
        assert profile["rows"] == 1000
        assert profile["bins"] == 10
        assert set(profile["numeric"]) == set(numeric)
        assert set(profile["categorical"]) == {"plan", "region"}
        for column in numeric:
            entry = profile["numeric"][column]
            assert len(entry["shares"]) == len(entry["edges"]) + 1
            assert sum(entry["shares"]) + entry["missing"] == pytest.approx(1.0)
            assert entry["edges"] == sorted(set(entry["edges"]))
        charges = profile["numeric"]["monthly_charges"]
        assert charges["missing"] == pytest.approx(window["monthly_charges"].isna().mean())
        assert len(charges["edges"]) == 9  # continuous: all nine deciles distinct
        assert max(charges["shares"]) < 0.11  # about a tenth per bin
        assert charges["mean"] == pytest.approx(window["monthly_charges"].mean())
        assert set(profile["categorical"]["plan"]["shares"]) == {"basic", "standard", "premium"}
        assert sum(profile["categorical"]["region"]["shares"].values()) == pytest.approx(1.0)
        assert json.loads(json.dumps(profile, allow_nan=False)) == profile

    def test_all_missing_numeric_column(self) -> None:
        frame = pd.DataFrame({"x": pd.Series([None, None], dtype="float64")})
        entry = reference_profile(frame, ["x"], [])["numeric"]["x"]
        assert entry == {
            "edges": [],
            "shares": [0.0],
            "missing": 1.0,
            "mean": None,
            "std": None,
            "min": None,
            "max": None,
        }
