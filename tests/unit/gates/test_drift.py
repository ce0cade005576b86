"""Unit tests for ``include.retrain.gates.drift``: PSI and KS of a window against a reference profile."""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

from dev.synthetic.churn import churn_day
from include.retrain.gates.drift import EPSILON, binned_ks, drift_table, population_stability_index
from include.retrain.gates.profile import MISSING, reference_profile


class TestPopulationStabilityIndex:
    """PSI = sum (c - r) * ln(c / r), shares floored at EPSILON."""

    def test_hand_computed(self) -> None:
        # (0.25 - 0.5) ln(0.25 / 0.5) + (0.75 - 0.5) ln(0.75 / 0.5) = 0.173287 + 0.101366
        assert population_stability_index([0.5, 0.5], [0.25, 0.75]) == pytest.approx(0.274653, abs=1e-6)

    def test_three_bins_hand_computed(self) -> None:
        # 0.1 ln(0.4/0.3) + (-0.1) ln(0.3/0.4) + 0 = 0.028768 + 0.028768
        assert population_stability_index([0.3, 0.4, 0.3], [0.4, 0.3, 0.3]) == pytest.approx(0.057536, abs=1e-6)

    def test_empty_bin_uses_the_floor(self) -> None:
        # (0.9 - 1) ln(0.9) + (0.1 - 0.0001) ln(0.1 / 0.0001)
        expected = -0.1 * math.log(0.9) + (0.1 - EPSILON) * math.log(0.1 / EPSILON)
        assert population_stability_index([1.0, 0.0], [0.9, 0.1]) == pytest.approx(expected)
        assert expected == pytest.approx(0.700621, abs=1e-6)

    def test_identical_and_symmetric(self) -> None:
        assert population_stability_index([0.2, 0.3, 0.5], [0.2, 0.3, 0.5]) == 0.0
        assert population_stability_index([0.2, 0.8], [0.6, 0.4]) == pytest.approx(
            population_stability_index([0.6, 0.4], [0.2, 0.8])
        )

    def test_bins_empty_on_both_sides_add_nothing(self) -> None:
        assert population_stability_index([0.5, 0.5, 0.0], [0.25, 0.75, 0.0]) == pytest.approx(0.274653, abs=1e-6)


class TestBinnedKs:
    """The largest CDF gap at the bin edges, over non-missing values."""

    def test_hand_computed(self) -> None:
        # CDFs at the edges: ref 0.5, 1.0; current 0.2, 1.0 -> 0.3
        assert binned_ks([0.5, 0.5], [0.2, 0.8]) == pytest.approx(0.3)

    def test_shares_are_renormalised_without_missing(self) -> None:
        # current shares of all rows with 50% missing: same distribution as the reference
        assert binned_ks([0.5, 0.5], [0.25, 0.25]) == pytest.approx(0.0)

    def test_no_values(self) -> None:
        assert math.isnan(binned_ks([0.5, 0.5], [0.0, 0.0]))


class TestDriftTable:
    """One row per compared feature, with PSI over the reference's bins (and KS for numerics)."""

    REFERENCE: ClassVar[dict] = {
        "numeric": {"x": {"edges": [2.0, 3.0], "shares": [0.5, 0.25, 0.25], "missing": 0.0}},
        "categorical": {"c": {"shares": {"a": 0.5, "b": 0.5}}},
    }

    def test_hand_computed_numeric_and_categorical(self) -> None:
        frame = pd.DataFrame(
            {"x": [1.0, 2.5, 4.0, np.nan], "c": pd.Series(["a", "a", "a", "new"], dtype="str")},
        )
        table, skipped = drift_table(self.REFERENCE, frame, ["x", "c"])
        assert skipped == {}
        assert table["feature"].tolist() == ["x", "c"]
        assert table["kind"].tolist() == ["numeric", "categorical"]
        # x: bins (.25, .25, .25) + missing .25 against (.5, .25, .25) + missing 0
        x_expected = population_stability_index([0.5, 0.25, 0.25, 0.0], [0.25, 0.25, 0.25, 0.25])
        # c: values a, b, new -> (.75, 0, .25) against (.5, .5, 0)
        c_expected = population_stability_index([0.5, 0.5, 0.0], [0.75, 0.0, 0.25])
        assert table["psi"].tolist() == pytest.approx([x_expected, c_expected])
        assert table.loc[0, "ks"] == pytest.approx(binned_ks([0.5, 0.25, 0.25], [0.25, 0.25, 0.25]))
        assert math.isnan(table.loc[1, "ks"])

    def test_missing_values_count_as_their_own_category(self) -> None:
        reference = {"categorical": {"c": {"shares": {"a": 0.5, MISSING: 0.5}}}}
        frame = pd.DataFrame({"c": pd.Series(["a", None], dtype="str")})
        table, _ = drift_table(reference, frame, ["c"])
        assert table["psi"].tolist() == [0.0]

    def test_columns_that_cannot_be_compared_are_named(self) -> None:
        frame = pd.DataFrame({"x": [1.0], "other": [1.0]})
        table, skipped = drift_table(self.REFERENCE, frame, ["x", "c", "other"])
        assert table["feature"].tolist() == ["x"]
        assert skipped == {"c": "not in this window's data", "other": "not in the champion's reference profile"}

    def test_empty_window(self) -> None:
        table, skipped = drift_table(self.REFERENCE, pd.DataFrame({"x": pd.Series([], dtype="float64")}), ["x"])
        assert len(table) == 0
        assert list(table.columns) == ["feature", "kind", "psi", "ks"]
        assert skipped == {"x": "the window has no rows"}


class TestDriftOnChurnData:
    """Same-distribution windows stay far below the warning bar; a real shift is far above the fail bar."""

    NUMERIC = ("tenure_months", "monthly_charges", "support_calls")
    CATEGORICAL = ("plan", "region")

    @staticmethod
    def window(first: date, days: int = 28, rows: int = 100) -> pd.DataFrame:
        return pd.concat([churn_day(first + timedelta(days=i), rows) for i in range(days)], ignore_index=True)

    def test_no_false_alarm_between_windows(self) -> None:
        profile = reference_profile(self.window(date(2026, 1, 1)), self.NUMERIC, self.CATEGORICAL)
        later = self.window(date(2026, 2, 15))
        table, _ = drift_table(profile, later, [*self.NUMERIC, *self.CATEGORICAL])
        assert table["psi"].max() < 0.05, table

    def test_shift_is_large(self) -> None:
        profile = reference_profile(self.window(date(2026, 1, 1)), self.NUMERIC, self.CATEGORICAL)
        shifted = self.window(date(2026, 2, 15))
        shifted["tenure_months"] = (shifted["tenure_months"] + 48).clip(upper=120)
        shifted["plan"] = shifted["plan"].where(shifted.index % 2 == 0, "premium")
        table, _ = drift_table(profile, shifted, ["tenure_months", "plan", "region"])
        psi = dict(zip(table["feature"], table["psi"], strict=True))
        assert psi["tenure_months"] > 1.0
        assert psi["plan"] > 0.25
        assert psi["region"] < 0.05
        ks = dict(zip(table["feature"], table["ks"], strict=True))
        assert ks["tenure_months"] > 0.5
