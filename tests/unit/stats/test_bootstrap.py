"""Unit tests for ``include.retrain.stats``: bootstrap intervals and the paired test.

The weighted metrics are checked against ``stages.evaluate`` (sklearn) on explicitly resampled
rows, so the fast path computes exactly the metrics the pipeline reports.
"""

from __future__ import annotations

import numpy as np
import pytest

from include.retrain.config import METRICS
from include.retrain.stages.evaluate import classification_metrics, regression_metrics
from include.retrain.stats.bootstrap import PairedComparison, metric_intervals, paired_bootstrap
from include.retrain.stats.resampling import resample_counts
from include.retrain.stats.weighted import WeightedMetrics

RNG = np.random.default_rng(11)


def binary_case(rows: int = 3000, signal: float = 1.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Labels and two-column probabilities with ``signal`` strength; rounded, so there are many ties."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, rows)
    p = 1 / (1 + np.exp(-(signal * (y - 0.5) * 2 + rng.normal(0, 1.5, rows))))
    p = np.round(p, 2)
    return y, np.column_stack([1 - p, p])


def assert_resample_matches_evaluate(y: np.ndarray, outputs: np.ndarray, classes: np.ndarray | None, seed: int) -> None:
    """One explicit bootstrap resample: its count vector must give stages.evaluate's metrics of its rows."""
    index = np.random.default_rng(seed).integers(0, len(y), len(y))
    counts = np.bincount(index, minlength=len(y)).astype("float64")[None, :]
    if classes is None:
        expected = regression_metrics(y[index], outputs[index])
    else:
        expected = classification_metrics(y[index], outputs[index], classes)

    got = WeightedMetrics(y, outputs, classes).compute(counts)

    assert set(got) == set(expected)
    for name, value in expected.items():
        assert got[name][0] == pytest.approx(value, rel=1e-9, abs=1e-12), name


class TestWeightedMetricsMatchEvaluate:
    """A resample's metrics from counts equal stages.evaluate's metrics on the resampled rows."""

    @pytest.mark.parametrize("seed", [1, 2, 3])
    def test_binary_with_ties(self, seed: int) -> None:
        y, probabilities = binary_case()
        assert_resample_matches_evaluate(y, probabilities, np.array([0, 1]), seed)

    def test_binary_string_labels(self) -> None:
        y, probabilities = binary_case(rows=500)
        labels = np.array(["stay", "churn"])[y]
        # sklearn sorts classes: "stay" is classes_[1], the positive class
        assert_resample_matches_evaluate(labels, probabilities[:, ::-1], np.array(["churn", "stay"]), 4)

    def test_multiclass(self) -> None:
        rows = 1200
        y = RNG.integers(0, 3, rows)
        probabilities = RNG.dirichlet([1.0, 1.0, 1.0], rows)
        probabilities[np.arange(rows), y] += 0.3
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        assert_resample_matches_evaluate(y, probabilities, np.array([0, 1, 2]), 5)

    def test_regression(self) -> None:
        y = RNG.normal(1000.0, 5.0, 2000)  # a large offset: r2 must stay well conditioned
        assert_resample_matches_evaluate(y, y + RNG.normal(0, 2.0, 2000), None, 6)

    def test_unknown_label_makes_ranking_metrics_undefined_as_evaluate_does(self) -> None:
        y = np.array([0, 1, 2, 1, 0, 1])
        probabilities = np.array([[0.8, 0.2], [0.3, 0.7], [0.4, 0.6], [0.1, 0.9], [0.6, 0.4], [0.5, 0.5]])
        classes = np.array([0, 1])
        expected = classification_metrics(y, probabilities, classes)
        got = WeightedMetrics(y, probabilities, classes).compute(np.ones((1, len(y))))
        for name, value in expected.items():
            if np.isnan(value):
                assert np.isnan(got[name][0]), name
            else:
                assert got[name][0] == pytest.approx(value), name


class TestResampleCounts:
    """Resamples are count vectors of n draws, deterministic for a seed."""

    def test_each_resample_draws_every_row_count_once(self) -> None:
        batches = list(resample_counts(50, 40, seed=3))
        counts = np.vstack(batches)
        assert counts.shape == (40, 50)
        assert (counts.sum(axis=1) == 50).all()
        assert (counts >= 0).all()

    def test_same_seed_same_resamples(self) -> None:
        first = np.vstack(list(resample_counts(30, 20, seed=9)))
        again = np.vstack(list(resample_counts(30, 20, seed=9)))
        other = np.vstack(list(resample_counts(30, 20, seed=10)))
        np.testing.assert_array_equal(first, again)
        assert not np.array_equal(first, other)


class TestMetricIntervals:
    """Every metric of the task gets an interval around its value that narrows with more rows."""

    def test_intervals_cover_the_value(self) -> None:
        y, probabilities = binary_case(rows=2000)
        classes = np.array([0, 1])
        values = classification_metrics(y, probabilities, classes)

        intervals = metric_intervals(y, probabilities, classes, samples=400, confidence=0.95, seed=1)

        assert set(intervals) == {m for m, (task, _) in METRICS.items() if task == "classification"}
        for name, (low, high) in intervals.items():
            assert low < values[name] < high, name

    def test_more_rows_narrower_interval(self) -> None:
        widths = []
        for rows in (500, 8000):
            y, probabilities = binary_case(rows=rows)
            low, high = metric_intervals(y, probabilities, np.array([0, 1]), samples=300, confidence=0.9, seed=2)[
                "roc_auc"
            ]
            widths.append(high - low)
        assert widths[1] < widths[0] / 2  # about 1/sqrt(16) = 1/4 of the width


class TestPairedBootstrap:
    """The paired test: a small gain within the holdout's noise is not significant, a clear one is."""

    @staticmethod
    def slightly_better_pair(rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Two models sharing a signal; the candidate sees a little more of it, each has its own noise."""
        rng = np.random.default_rng(21)
        y = rng.integers(0, 2, rows)
        shared = y * 1.0 + rng.normal(0, 1.2, rows)
        champion = 1 / (1 + np.exp(-(shared + rng.normal(0, 0.4, rows))))
        candidate = 1 / (1 + np.exp(-(shared + 0.05 * y + rng.normal(0, 0.4, rows))))
        return y, np.column_stack([1 - candidate, candidate]), np.column_stack([1 - champion, champion])

    def test_small_gain_within_noise_is_not_significant(self) -> None:
        y, candidate, champion = self.slightly_better_pair(2000)

        result = paired_bootstrap(
            y, candidate, champion, np.array([0, 1]), "roc_auc", samples=1000, confidence=0.95, seed=42
        )

        assert 0 < result.difference < 0.02  # better on the point estimate...
        assert result.ci_low < 0 < result.ci_high  # ...but within the noise of 2000 rows
        assert not result.clears(0.0)
        assert result.valid_samples == 1000

    def test_the_same_gain_on_ten_times_the_rows_is_significant(self) -> None:
        y, candidate, champion = self.slightly_better_pair(20000)

        result = paired_bootstrap(
            y, candidate, champion, np.array([0, 1]), "roc_auc", samples=1000, confidence=0.95, seed=42
        )

        assert 0 < result.difference < 0.02
        assert result.clears(0.0)

    def test_clear_gain_is_significant(self) -> None:
        y, strong = binary_case(rows=2000, seed=3)
        blurred = np.clip(strong[:, 1] + np.random.default_rng(4).normal(0, 0.5, len(y)), 0, 1)
        weak = np.column_stack([1 - blurred, blurred])

        result = paired_bootstrap(y, strong, weak, np.array([0, 1]), "roc_auc", samples=500, confidence=0.95, seed=1)

        assert result.ci_low > 0.05
        assert result.clears(0.05)
        assert not result.clears(result.ci_high)

    def test_the_same_model_never_clears(self) -> None:
        y, probabilities = binary_case(rows=500)
        result = paired_bootstrap(
            y, probabilities, probabilities, np.array([0, 1]), "log_loss", samples=200, confidence=0.95, seed=1
        )
        assert (result.difference, result.ci_low, result.ci_high) == (0.0, 0.0, 0.0)
        assert not result.clears(0.0)

    def test_minimized_metric_counts_a_lower_error_as_improvement(self) -> None:
        y = RNG.normal(0, 1, 1500)
        close = y + RNG.normal(0, 0.5, 1500)
        far = y + RNG.normal(0, 1.0, 1500)

        result = paired_bootstrap(y, close, far, None, "rmse", samples=300, confidence=0.95, seed=1)

        assert result.difference > 0
        assert result.clears(0.0)
        reverse = paired_bootstrap(y, far, close, None, "rmse", samples=300, confidence=0.95, seed=1)
        assert reverse.difference == pytest.approx(-result.difference)
        assert reverse.ci_high < 0

    def test_seeded_and_serializable(self) -> None:
        y, probabilities = binary_case(rows=400)
        noisy = np.clip(probabilities + RNG.normal(0, 0.05, probabilities.shape), 0, 1)
        args = (y, probabilities, noisy, np.array([0, 1]), "average_precision")
        first = paired_bootstrap(*args, samples=200, confidence=0.9, seed=7)
        assert paired_bootstrap(*args, samples=200, confidence=0.9, seed=7) == first
        assert PairedComparison(**first.to_dict()) == first
        assert "90% CI" in first.describe()
