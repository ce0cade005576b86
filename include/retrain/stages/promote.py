"""Promote: decide whether a candidate becomes champion, and name its registry version.

Pure decision logic; the registry (``include.retrain.registry``) applies the decision with
compare-and-swap so concurrent promoters cannot both win.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from include.retrain.config import PromotionConfig
from include.retrain.stages.evaluate import improvement, is_better


@dataclass(frozen=True)
class PromotionDecision:
    """Whether to move the champion alias, and a sentence saying why."""

    promote: bool
    reason: str


def meets_threshold(value: float, policy: PromotionConfig) -> bool:
    """Whether ``value`` reaches the policy's threshold (always true without one)."""
    if math.isnan(value):
        return False
    if policy.threshold is None:
        return True
    return value >= policy.threshold if policy.direction == "maximize" else value <= policy.threshold


def decide_promotion(
    candidate: float,
    champion: float | None,
    policy: PromotionConfig,
    *,
    force: bool = False,
    force_reason: str = "",
) -> PromotionDecision:
    """Apply the promotion policy to a candidate's holdout metric.

    - ``force`` promotes regardless (the reason is recorded);
    - the first model is promoted when it reaches the threshold;
    - later models must reach the threshold and beat the champion (scored on the same
      holdout) by at least ``min_improvement``.
    """
    metric = policy.metric
    if force:
        return PromotionDecision(True, f"forced promotion: {force_reason}")
    if not meets_threshold(candidate, policy):
        bar = "<=" if policy.direction == "minimize" else ">="
        return PromotionDecision(False, f"{metric} {candidate:.4f} misses the threshold ({bar} {policy.threshold})")
    if champion is None or math.isnan(champion):
        return PromotionDecision(True, f"first champion: {metric} {candidate:.4f} meets the threshold")
    delta = improvement(candidate, champion, metric)
    if is_better(candidate, champion, metric, policy.min_improvement):
        return PromotionDecision(
            True,
            f"{metric} {candidate:.4f} beats champion {champion:.4f} by {delta:+.4f} "
            f"(needed {policy.min_improvement:g})",
        )
    return PromotionDecision(
        False,
        f"{metric} {candidate:.4f} does not beat champion {champion:.4f} by {policy.min_improvement:g} "
        f"(difference {delta:+.4f})",
    )


def make_version_id(window_end: date, inputs_sha256: str) -> str:
    """A unique, sortable version id: window end date plus a hash of everything that made it.

    The same data, config and options always give the same id, so re-running a run never
    registers a duplicate version.
    """
    return f"v{window_end:%Y%m%d}-{inputs_sha256[:10]}"
