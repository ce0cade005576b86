"""Bootstrap intervals of holdout metrics, and the paired test promotion relies on.

Resamples are count matrices (``stats.resampling``) applied to per-row metric terms
(``stats.weighted``). The paired test draws one count matrix and applies it to both models, so
every resample scores candidate and champion on the same rows: it measures their difference, not
the sampling noise of the holdout they share. On a large holdout both functions follow a bag of
little bootstraps (:func:`~include.retrain.stats.resampling.holdout_plan` decides).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from include.retrain.stages.evaluate import Evaluation, improvement
from include.retrain.stats.resampling import BootstrapPlan, holdout_plan, little_resamples, resample_counts
from include.retrain.stats.weighted import WeightedMetrics

if TYPE_CHECKING:
    from include.retrain.config import BootstrapConfig


@dataclass(frozen=True)
class PairedComparison:
    """The candidate's improvement over the champion on the shared holdout, with its interval.

    ``difference`` and the interval are in metric units, positive = candidate better (for a
    minimized metric such as rmse, a positive difference means a lower error).
    """

    metric: str
    difference: float
    ci_low: float
    ci_high: float
    confidence: float
    samples: int
    valid_samples: int
    subsets: int = 1
    subset_rows: int | None = None

    def clears(self, min_improvement: float) -> bool:
        """Whether the whole interval lies above ``min_improvement`` (the improvement is significant)."""
        return not math.isnan(self.ci_low) and self.ci_low > min_improvement

    def describe(self) -> str:
        return (
            f"improvement {self.difference:+.4f}, {self.confidence:.0%} CI [{self.ci_low:+.4f}, {self.ci_high:+.4f}] "
            f"({self.samples} paired bootstrap samples{_little_text(self.subsets, self.subset_rows)})"
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _little_text(subsets: int, subset_rows: int | None) -> str:
    if subset_rows is None:
        return ""
    return f", bag of little bootstraps over {subsets} subsets of {subset_rows:,} rows"


def _interval(
    values: np.ndarray, confidence: float, method: Literal["linear", "median_unbiased"] = "linear"
) -> tuple[float, float]:
    valid = values[~np.isnan(values)]
    if not len(valid):
        return math.nan, math.nan
    tail = (1 - confidence) / 2
    low, high = np.quantile(valid, [tail, 1 - tail], method=method)
    return float(low), float(high)


def _mean(values: list[float]) -> float:
    defined = [value for value in values if not math.isnan(value)]
    return float(np.mean(defined)) if defined else math.nan


#: A statistic of resamples: count matrix (resamples x rows) -> values per resample, by name.
Statistic = Callable[[np.ndarray], dict[str, np.ndarray]]


def _little_deviations(
    plan: BootstrapPlan, seed: int, confidence: float, statistic_of: Callable[[np.ndarray | slice], Statistic]
) -> tuple[dict[str, tuple[float, float]], dict[str, int]]:
    """Per statistic, the bag of little bootstraps' interval of its deviation from the point value.

    Each subset's resamples scatter around the subset's own value, and that value is off the full
    holdout's by about sqrt(n / b) / 4 interval widths (1.6 at 200,000 rows), still half a width
    after averaging ten subsets: averaging raw endpoints would keep that error. So each subset
    gives the percentiles of its resamples minus its own value (all counts equal), and the caller
    adds their mean over subsets to the full holdout's value. A subset where the statistic is
    undefined on every resample is left out of the mean.

    Returns the deviation intervals and, per statistic, the number of resamples where it was
    defined. ``statistic_of(rows)`` is the statistic on that subset of the rows.
    """
    lows: dict[str, list[float]] = {}
    highs: dict[str, list[float]] = {}
    valid: dict[str, int] = {}
    for rows, batches in little_resamples(plan, seed):
        statistic = statistic_of(rows)
        centre = statistic(np.ones((1, len(rows))))
        resampled = [statistic(counts) for counts in batches]
        for name, value in centre.items():
            deviations = np.concatenate([values[name] for values in resampled]) - value[0]
            # with about 100 resamples per subset the default (linear) percentile sits ~2% of a
            # width inside each tail; the median-unbiased one does not (checked against the plain
            # bootstrap), and averaging over subsets keeps whatever bias each one has
            low, high = _interval(deviations, confidence, method="median_unbiased")
            lows.setdefault(name, []).append(low)
            highs.setdefault(name, []).append(high)
            valid[name] = valid.get(name, 0) + int((~np.isnan(deviations)).sum())
    return {name: (_mean(lows[name]), _mean(highs[name])) for name in lows}, valid


@dataclass(frozen=True)
class _Bootstrapped:
    point: dict[str, float]
    intervals: dict[str, tuple[float, float]]
    valid: dict[str, int]


def _bootstrap(
    plan: BootstrapPlan,
    seed: int,
    confidence: float,
    statistic_of: Callable[[np.ndarray | slice], Statistic],
) -> _Bootstrapped:
    """Point values and percentile intervals of a statistic following ``plan``.

    ``statistic_of(rows)`` is the statistic on those rows: all of them (``slice(None)``) for the
    point values and the plain bootstrap, each subset for the little one.
    """
    statistic = statistic_of(slice(None))
    point = {name: float(value[0]) for name, value in statistic(np.ones((1, plan.rows))).items()}
    if plan.little:
        deviations, valid = _little_deviations(plan, seed, confidence, statistic_of)
        intervals = {name: (point[name] + low, point[name] + high) for name, (low, high) in deviations.items()}
        return _Bootstrapped(point, intervals, valid)
    batches = [statistic(counts) for counts in resample_counts(plan.rows, plan.samples, seed)]
    resampled = {name: np.concatenate([batch[name] for batch in batches]) for name in point}
    return _Bootstrapped(
        point,
        {name: _interval(values, confidence) for name, values in resampled.items()},
        {name: int((~np.isnan(values)).sum()) for name, values in resampled.items()},
    )


def metric_intervals(
    y_true: np.ndarray,
    outputs: np.ndarray,
    classes: np.ndarray | None,
    *,
    samples: int,
    confidence: float,
    seed: int,
) -> dict[str, tuple[float, float]]:
    """Two-sided percentile bootstrap interval of every metric of the model's task.

    On a large holdout, a bag of little bootstraps (see :func:`holdout_plan`): the full
    holdout's value plus the mean over subsets of each subset's percentiles around its value.
    """
    y_true, outputs = np.asarray(y_true), np.asarray(outputs)

    def statistic_of(rows: np.ndarray | slice) -> Statistic:
        return WeightedMetrics(y_true[rows], outputs[rows], classes).compute

    plan = holdout_plan(y_true, classes, samples)
    return _bootstrap(plan, seed, confidence, statistic_of).intervals


def paired_bootstrap(
    y_true: np.ndarray,
    candidate: np.ndarray,
    champion: np.ndarray,
    classes: np.ndarray | None,
    metric: str,
    *,
    samples: int,
    confidence: float,
    seed: int,
) -> PairedComparison:
    """Interval of the candidate's improvement over the champion, resampling the same rows for both.

    ``candidate`` and ``champion`` are the two models' outputs on the same holdout rows (see
    :class:`WeightedMetrics`); the improvement is positive when the candidate is better. On a
    large holdout, a bag of little bootstraps (see :func:`holdout_plan`) whose subsets and
    count vectors are likewise shared by both models.
    """
    y_true, candidate, champion = np.asarray(y_true), np.asarray(candidate), np.asarray(champion)

    def statistic_of(rows: np.ndarray | slice) -> Statistic:
        ours = WeightedMetrics(y_true[rows], candidate[rows], classes)
        theirs = WeightedMetrics(y_true[rows], champion[rows], classes)

        def improvements(counts: np.ndarray) -> dict[str, np.ndarray]:
            ours_value, theirs_value = ours.compute(counts, [metric])[metric], theirs.compute(counts, [metric])[metric]
            return {metric: improvement(ours_value, theirs_value, metric)}

        return improvements

    plan = holdout_plan(y_true, classes, samples)
    result = _bootstrap(plan, seed, confidence, statistic_of)
    low, high = result.intervals[metric]
    return PairedComparison(
        metric=metric,
        difference=result.point[metric],
        ci_low=low,
        ci_high=high,
        confidence=confidence,
        samples=samples,
        valid_samples=result.valid[metric],
        subsets=plan.subsets,
        subset_rows=plan.subset_rows if plan.little else None,
    )


def metrics_with_intervals(
    evaluation: Evaluation, y_true: np.ndarray, bootstrap: BootstrapConfig | None, seed: int
) -> tuple[dict[str, dict[str, float]], dict[str, Any]]:
    """Every metric of ``evaluation`` with its interval (``value``, ``ci_low``, ``ci_high``), and how
    they were computed (the plan, ``confidence``, ``seed``): what the evaluate manifest and the model
    card carry. Without a ``promotion.bootstrap`` section, its defaults."""
    from include.retrain.config import BootstrapConfig

    bootstrap = bootstrap or BootstrapConfig()
    plan = holdout_plan(y_true, evaluation.classes, bootstrap.samples)
    intervals = metric_intervals(
        y_true,
        evaluation.outputs,
        evaluation.classes,
        samples=bootstrap.samples,
        confidence=bootstrap.confidence,
        seed=seed,
    )
    with_intervals = {
        name: {"value": evaluation.metrics[name], "ci_low": low, "ci_high": high}
        for name, (low, high) in intervals.items()
    }
    return with_intervals, {**plan.to_dict(), "confidence": bootstrap.confidence, "seed": seed}
