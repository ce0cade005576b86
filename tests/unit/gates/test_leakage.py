"""Unit tests for ``include.retrain.gates.leakage``: single-feature scores against the target."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from dev.synthetic.churn import churn_day
from include.retrain.gates import leakage
from include.retrain.gates.leakage import single_feature_scores

BAR = 0.999  # the default expectations.features.max_single_feature_score
N = 4000


@pytest.fixture(scope="module")
def rng() -> np.random.Generator:
    return np.random.default_rng(3)


@pytest.fixture(scope="module")
def labels(rng: np.random.Generator) -> np.ndarray:
    return (rng.random(N) < 0.3).astype("int64")


class TestClassificationLeaks:
    """Copies, monotone transforms and deterministic codes of the label score 1."""

    def test_leaks_score_one(self, rng: np.random.Generator, labels: np.ndarray) -> None:
        matrix = pd.DataFrame(
            {
                "copy": labels.astype("float64"),
                "inverted": 1.0 - labels,
                "scaled_with_gap": labels * 7.0 + rng.random(N),  # continuous, separable by a threshold
                # 1 -> 2, 0 -> 1 or 3: deterministic, but no threshold separates it (AUC 0.5 + ...)
                "code": np.where(labels == 1, 2.0, rng.choice([1.0, 3.0], size=N)),
            }
        )
        scores = single_feature_scores(matrix, labels, "classification")
        assert scores == pytest.approx(dict.fromkeys(matrix.columns, 1.0))

    def test_legitimate_features_stay_below_the_bar(self, rng: np.random.Generator, labels: np.ndarray) -> None:
        matrix = pd.DataFrame(
            {
                "noise": rng.normal(size=N),
                "strong": labels * 2.0 + rng.normal(size=N),  # AUC ~0.92
                "onehot_rare": (rng.random(N) < 0.02).astype("float64"),
                "small_ints": rng.poisson(2, size=N).astype("float64"),
            }
        )
        scores = single_feature_scores(matrix, labels, "classification")
        assert 0.45 < scores["noise"] < 0.55
        assert 0.85 < scores["strong"] < 0.97
        assert scores["onehot_rare"] < 0.6
        assert scores["small_ints"] < 0.6
        assert max(scores.values()) < BAR

    def test_rare_class_does_not_make_every_feature_pure(self, rng: np.random.Generator) -> None:
        # 0.5% positives: the majority-share of any value is > 0.99, but lambda stays ~0.
        rare = (rng.random(20_000) < 0.005).astype("int64")
        matrix = pd.DataFrame({"flag": (rng.random(20_000) < 0.5).astype("float64")})
        assert single_feature_scores(matrix, rare, "classification")["flag"] < 0.6

    def test_multiclass_label_code(self, rng: np.random.Generator) -> None:
        classes = rng.choice(np.array(["a", "b", "c"]), size=N)
        code = pd.Series(classes).map({"a": 2.0, "b": 0.0, "c": 1.0}).to_numpy()
        matrix = pd.DataFrame({"code": code, "noise": rng.normal(size=N)})
        scores = single_feature_scores(matrix, classes, "classification")
        assert scores["code"] == pytest.approx(1.0)
        assert scores["noise"] < 0.6

    def test_no_score_when_unjudgeable(self, rng: np.random.Generator, labels: np.ndarray) -> None:
        with_gap = rng.normal(size=N)
        with_gap[5] = np.nan
        matrix = pd.DataFrame({"constant": np.ones(N), "with_nan": with_gap})
        scores = single_feature_scores(matrix, labels, "classification")
        assert math.isnan(scores["constant"])
        assert math.isnan(scores["with_nan"])

    def test_too_few_rows_of_a_class_gives_no_score(self, rng: np.random.Generator) -> None:
        few = np.zeros(500, dtype="int64")
        few[:5] = 1  # 5 positives: perfect separation could be chance
        matrix = pd.DataFrame({"copy": few.astype("float64")})
        assert math.isnan(single_feature_scores(matrix, few, "classification")["copy"])

    def test_large_matrices_are_sampled_deterministically(
        self, rng: np.random.Generator, labels: np.ndarray, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(leakage, "MAX_ROWS", 1000)
        matrix = pd.DataFrame({"copy": labels.astype("float64"), "noise": rng.normal(size=N)})
        first = single_feature_scores(matrix, labels, "classification", seed=1)
        assert first == single_feature_scores(matrix, labels, "classification", seed=1)
        assert first["copy"] == pytest.approx(1.0)


class TestRegressionLeaks:
    """For a numeric target the score is the absolute Spearman correlation."""

    def test_monotone_transforms_score_one_and_noise_does_not(self, rng: np.random.Generator) -> None:
        target = rng.normal(size=N)
        matrix = pd.DataFrame(
            {
                "exp": np.exp(target),
                "negated": -3 * target,
                "related": target + rng.normal(size=N),
                "noise": rng.normal(size=N),
            }
        )
        scores = single_feature_scores(matrix, target, "regression")
        assert scores["exp"] == pytest.approx(1.0)
        assert scores["negated"] == pytest.approx(1.0)
        assert 0.5 < scores["related"] < 0.8
        assert scores["noise"] < 0.1


def test_churn_features_are_not_leaks() -> None:
    """The shipped demo data's real signal (tenure, calls, plan) is strong but nowhere near the bar."""
    window = pd.concat([churn_day(date(2026, 1, 1) + timedelta(days=i), 200) for i in range(10)], ignore_index=True)
    matrix = pd.DataFrame(
        {
            "tenure_months": window["tenure_months"].to_numpy(dtype="float64"),
            "monthly_charges": window["monthly_charges"].fillna(50).to_numpy(),
            "support_calls": window["support_calls"].to_numpy(dtype="float64"),
            **{f"plan_{p}": (window["plan"] == p).to_numpy(dtype="float64") for p in ("basic", "premium")},
        }
    )
    scores = single_feature_scores(matrix, window["churned"].to_numpy(dtype="int64"), "classification")
    assert scores["tenure_months"] > 0.6  # a genuinely strong feature
    assert max(scores.values()) < 0.9
