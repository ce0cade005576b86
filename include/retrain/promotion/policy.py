"""Promotion policy: decide whether a candidate becomes champion, and name its registry version.

Pure decision logic; ``promotion.promote`` and ``promotion.canary`` apply the decision to the
registry with compare-and-swap so concurrent promoters cannot both win.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date

from include.retrain.config import PromotionConfig
from include.retrain.stages.evaluate import improvement, is_better
from include.retrain.stats.bootstrap import PairedComparison


@dataclass(frozen=True)
class PromotionDecision:
    """Whether to move the champion alias, a sentence saying why, and the paired test if one ran."""

    promote: bool
    reason: str
    significance: PairedComparison | None = None


def meets_threshold(value: float, policy: PromotionConfig) -> bool:
    """Whether ``value`` reaches the policy's threshold (always true without one)."""
    if math.isnan(value):
        return False
    if policy.threshold is None:
        return True
    return value >= policy.threshold if policy.direction == "maximize" else value <= policy.threshold


def needs_significance(champion: float | None, policy: PromotionConfig, *, force: bool = False) -> bool:
    """Whether :func:`decide_promotion` wants a paired bootstrap comparison against this champion."""
    return policy.bootstrap is not None and not force and champion is not None and not math.isnan(champion)


def decide_promotion(
    candidate: float,
    champion: float | None,
    policy: PromotionConfig,
    *,
    force: bool = False,
    force_reason: str = "",
    significance: PairedComparison | None = None,
) -> PromotionDecision:
    """Apply the promotion policy to a candidate's holdout metric.

    - ``force`` promotes regardless (the reason is recorded);
    - the first model is promoted when it reaches the threshold;
    - later models must reach the threshold and beat the champion (scored on the same
      holdout) by at least ``min_improvement``; with ``policy.bootstrap`` set, the lower bound
      of the paired bootstrap interval of the improvement (``significance``) must exceed
      ``min_improvement``, so a gain within the noise of the holdout does not count.
    """
    metric = policy.metric
    if force:
        return PromotionDecision(True, f"forced promotion: {force_reason}")
    if not meets_threshold(candidate, policy):
        bar = "<=" if policy.direction == "minimize" else ">="
        return PromotionDecision(False, f"{metric} {candidate:.4f} misses the threshold ({bar} {policy.threshold})")
    if champion is None or math.isnan(champion):
        return PromotionDecision(True, f"first champion: {metric} {candidate:.4f} meets the threshold")
    if policy.bootstrap is not None:
        return _decide_by_bootstrap(candidate, champion, policy, significance)
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


def _decide_by_bootstrap(
    candidate: float, champion: float, policy: PromotionConfig, significance: PairedComparison | None
) -> PromotionDecision:
    versus = f"{policy.metric} {candidate:.4f} vs champion {champion:.4f}"
    if significance is None:
        return PromotionDecision(
            False,
            f"{versus}: the bootstrap test needs both models' predictions on the same holdout rows and the "
            "champion's are missing (it could not be scored on them)",
        )
    bar = f"{policy.min_improvement:g}"
    if significance.clears(policy.min_improvement):
        return PromotionDecision(
            True, f"{versus}: significant improvement, {significance.describe()} lies above {bar}", significance
        )
    if significance.difference <= 0:
        return PromotionDecision(False, f"{versus}: no improvement, {significance.describe()}", significance)
    return PromotionDecision(
        False,
        f"{versus}: improvement not significant, {significance.describe()} does not lie above {bar}",
        significance,
    )


def canary_verdict(challenger: float | None, champion: float | None, policy: PromotionConfig) -> PromotionDecision:
    """Whether a challenger wins one canary comparison on a later run's holdout.

    It wins when it reaches the threshold and beats the champion by ``min_improvement`` on point
    values. No bootstrap here: it passed that test when it entered the canary, and winning on
    ``canary_runs`` fresh windows in a row is the repeated evidence the canary exists for.
    """
    if challenger is None:
        return PromotionDecision(False, "the challenger could not be scored on this holdout")
    point_policy = policy.model_copy(update={"bootstrap": None})
    verdict = decide_promotion(challenger, champion, point_policy)
    return PromotionDecision(verdict.promote, verdict.reason.replace("first champion: ", "no champion to beat: "))


#: What every version id looks like; anything else (a path, a URI) is not a version.
VERSION_ID_RE = re.compile(r"^v\d{8}-[0-9a-f]{10}$")


def make_version_id(window_end: date, inputs_sha256: str) -> str:
    """A unique, sortable version id: window end date plus a hash of everything that made it.

    The same data, config and options always give the same id, so re-running a run never
    registers a duplicate version.
    """
    return f"v{window_end:%Y%m%d}-{inputs_sha256[:10]}"
