"""Unit tests for ``include.retrain.promotion.policy``: the promotion policy and version ids."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest

from include.retrain.config import BootstrapConfig, PromotionConfig
from include.retrain.promotion.policy import (
    canary_verdict,
    decide_promotion,
    make_version_id,
    meets_threshold,
    needs_significance,
)
from include.retrain.stats.bootstrap import PairedComparison

NAN = float("nan")
AUC = PromotionConfig(metric="roc_auc", threshold=0.65)
RMSE = PromotionConfig(metric="rmse", threshold=10.0)


class TestDecidePromotion:
    """The policy: force, threshold, first champion, beat the champion by min_improvement."""

    def test_force_promotes_with_the_reason(self) -> None:
        decision = decide_promotion(0.1, 0.9, AUC, force=True, force_reason="rollback after incident 42")
        assert decision.promote is True
        assert "forced" in decision.reason
        assert "rollback after incident 42" in decision.reason

    def test_force_promotes_even_nan(self) -> None:
        assert decide_promotion(NAN, None, AUC, force=True, force_reason="manual").promote is True

    @pytest.mark.parametrize(
        ("policy", "candidate", "champion", "bar"),
        [
            pytest.param(AUC, 0.64, None, ">= 0.65", id="maximize-first-model"),
            pytest.param(AUC, 0.64, 0.5, ">= 0.65", id="maximize-beats-weak-champion"),
            pytest.param(RMSE, 10.5, None, "<= 10.0", id="minimize-first-model"),
            pytest.param(RMSE, 10.5, 20.0, "<= 10.0", id="minimize-beats-weak-champion"),
        ],
    )
    def test_below_threshold_is_refused(
        self, policy: PromotionConfig, candidate: float, champion: float | None, bar: str
    ) -> None:
        decision = decide_promotion(candidate, champion, policy)
        assert decision.promote is False
        assert "threshold" in decision.reason
        assert bar in decision.reason
        assert policy.metric in decision.reason

    @pytest.mark.parametrize(
        ("policy", "candidate"),
        [
            pytest.param(AUC, 0.65, id="maximize-at-threshold"),
            pytest.param(AUC, 0.9, id="maximize-above"),
            pytest.param(RMSE, 10.0, id="minimize-at-threshold"),
            pytest.param(RMSE, 3.0, id="minimize-below"),
            pytest.param(PromotionConfig(metric="r2"), -5.0, id="no-threshold"),
        ],
    )
    def test_first_model_meeting_threshold_is_promoted(self, policy: PromotionConfig, candidate: float) -> None:
        decision = decide_promotion(candidate, None, policy)
        assert decision.promote is True
        assert "first champion" in decision.reason

    def test_nan_champion_counts_as_no_champion(self) -> None:
        decision = decide_promotion(0.7, NAN, AUC)
        assert decision.promote is True
        assert "first champion" in decision.reason

    @pytest.mark.parametrize(
        ("policy", "candidate", "champion", "promote"),
        [
            pytest.param(AUC, 0.80, 0.75, True, id="maximize-better"),
            pytest.param(AUC, 0.75, 0.75, False, id="maximize-equal"),
            pytest.param(AUC, 0.70, 0.75, False, id="maximize-worse"),
            pytest.param(RMSE, 4.0, 5.0, True, id="minimize-better"),
            pytest.param(RMSE, 5.0, 5.0, False, id="minimize-equal"),
            pytest.param(RMSE, 6.0, 5.0, False, id="minimize-worse"),
        ],
    )
    def test_against_champion(self, policy: PromotionConfig, candidate: float, champion: float, promote: bool) -> None:
        decision = decide_promotion(candidate, champion, policy)
        assert decision.promote is promote
        assert "champion" in decision.reason
        assert f"{champion:.4f}" in decision.reason

    @pytest.mark.parametrize(
        ("policy", "candidate", "champion", "promote"),
        [
            pytest.param(PromotionConfig(metric="roc_auc", min_improvement=0.25), 0.74, 0.5, False, id="auc-short"),
            pytest.param(PromotionConfig(metric="roc_auc", min_improvement=0.25), 0.75, 0.5, True, id="auc-exact"),
            pytest.param(PromotionConfig(metric="roc_auc", min_improvement=0.25), 0.9, 0.5, True, id="auc-more"),
            pytest.param(PromotionConfig(metric="rmse", min_improvement=0.5), 1.75, 2.0, False, id="rmse-short"),
            pytest.param(PromotionConfig(metric="rmse", min_improvement=0.5), 1.5, 2.0, True, id="rmse-exact"),
        ],
    )
    def test_min_improvement_is_respected(
        self, policy: PromotionConfig, candidate: float, champion: float, promote: bool
    ) -> None:
        decision = decide_promotion(candidate, champion, policy)
        assert decision.promote is promote
        assert f"{policy.min_improvement:g}" in decision.reason

    @pytest.mark.parametrize(
        ("policy", "champion"),
        [
            pytest.param(AUC, None, id="threshold-first-model"),
            pytest.param(AUC, 0.7, id="threshold-with-champion"),
            pytest.param(PromotionConfig(metric="roc_auc"), None, id="no-threshold-first-model"),
            pytest.param(PromotionConfig(metric="rmse"), 5.0, id="no-threshold-with-champion"),
        ],
    )
    def test_nan_candidate_is_refused(self, policy: PromotionConfig, champion: float | None) -> None:
        decision = decide_promotion(NAN, champion, policy)
        assert decision.promote is False
        assert "nan" in decision.reason

    def test_meets_threshold(self) -> None:
        assert meets_threshold(0.65, AUC)
        assert not meets_threshold(0.6499, AUC)
        assert meets_threshold(10.0, RMSE)
        assert not meets_threshold(10.01, RMSE)
        assert not meets_threshold(NAN, PromotionConfig(metric="rmse"))


def paired(difference: float, ci_low: float, ci_high: float) -> PairedComparison:
    return PairedComparison("roc_auc", difference, ci_low, ci_high, confidence=0.95, samples=1000, valid_samples=1000)


BOOTSTRAP = PromotionConfig(metric="roc_auc", threshold=0.65, bootstrap=BootstrapConfig())


class TestBootstrapPolicy:
    """With ``bootstrap`` set, the lower bound of the paired interval decides, not the point values."""

    def test_better_but_not_significant_is_refused(self) -> None:
        decision = decide_promotion(0.74, 0.73, BOOTSTRAP, significance=paired(0.01, -0.004, 0.024))
        assert decision.promote is False
        assert "not significant" in decision.reason
        assert "95% CI [-0.0040, +0.0240]" in decision.reason
        assert decision.significance == paired(0.01, -0.004, 0.024)

    def test_a_worse_candidate_is_called_worse_not_insignificant(self) -> None:
        decision = decide_promotion(0.70, 0.73, BOOTSTRAP, significance=paired(-0.03, -0.05, -0.01))
        assert decision.promote is False
        assert "no improvement" in decision.reason

    def test_significant_improvement_is_promoted(self) -> None:
        decision = decide_promotion(0.78, 0.73, BOOTSTRAP, significance=paired(0.05, 0.02, 0.08))
        assert decision.promote is True
        assert "significant" in decision.reason
        assert decision.significance is not None

    def test_lower_bound_must_exceed_min_improvement(self) -> None:
        policy = BOOTSTRAP.model_copy(update={"min_improvement": 0.03})
        assert decide_promotion(0.78, 0.73, policy, significance=paired(0.05, 0.02, 0.08)).promote is False
        assert decide_promotion(0.78, 0.73, policy, significance=paired(0.05, 0.031, 0.08)).promote is True

    def test_without_paired_predictions_nothing_is_promoted(self) -> None:
        decision = decide_promotion(0.9, 0.7, BOOTSTRAP, significance=None)
        assert decision.promote is False
        assert "predictions" in decision.reason

    def test_first_model_needs_only_the_threshold(self) -> None:
        assert not needs_significance(None, BOOTSTRAP)
        decision = decide_promotion(0.7, None, BOOTSTRAP)
        assert decision.promote is True
        assert "first champion" in decision.reason

    def test_threshold_still_applies(self) -> None:
        decision = decide_promotion(0.6, 0.5, BOOTSTRAP, significance=paired(0.1, 0.05, 0.15))
        assert decision.promote is False
        assert "misses the threshold" in decision.reason

    def test_force_bypasses_the_test(self) -> None:
        assert not needs_significance(0.73, BOOTSTRAP, force=True)
        decision = decide_promotion(0.70, 0.73, BOOTSTRAP, force=True, force_reason="incident 7 fix")
        assert decision.promote is True
        assert decision.reason == "forced promotion: incident 7 fix"

    def test_needed_only_when_configured_and_a_champion_has_a_value(self) -> None:
        assert needs_significance(0.73, BOOTSTRAP)
        assert not needs_significance(0.73, AUC)
        assert not needs_significance(NAN, BOOTSTRAP)


class TestCanaryVerdict:
    """A canary comparison is won on point values: threshold met and min_improvement beaten."""

    def test_win_and_loss(self) -> None:
        assert canary_verdict(0.75, 0.70, AUC).promote is True
        loss = canary_verdict(0.69, 0.70, AUC)
        assert loss.promote is False
        assert "does not beat champion" in loss.reason

    def test_no_bootstrap_for_later_comparisons(self) -> None:
        assert canary_verdict(0.75, 0.74, BOOTSTRAP).promote is True

    def test_threshold_applies(self) -> None:
        assert canary_verdict(0.64, 0.5, AUC).promote is False

    def test_unscorable_challenger_loses_and_missing_champion_is_beaten(self) -> None:
        assert canary_verdict(None, 0.7, AUC).promote is False
        verdict = canary_verdict(0.7, None, AUC)
        assert verdict.promote is True
        assert "no champion to beat" in verdict.reason


class TestVersionId:
    """Version ids sort by window end and are stable for the same inputs."""

    SHA_A = hashlib.sha256(b"a").hexdigest()
    SHA_B = hashlib.sha256(b"b").hexdigest()

    def test_format(self) -> None:
        assert make_version_id(date(2026, 1, 9), self.SHA_A) == f"v20260109-{self.SHA_A[:10]}"

    def test_stable(self) -> None:
        assert make_version_id(date(2026, 3, 1), self.SHA_A) == make_version_id(date(2026, 3, 1), self.SHA_A)
        assert make_version_id(date(2026, 3, 1), self.SHA_A) != make_version_id(date(2026, 3, 1), self.SHA_B)

    def test_sortable_by_window_end(self) -> None:
        ends = [date(2026, 1, 10), date(2025, 12, 31), date(2026, 1, 9), date(2026, 10, 1), date(2026, 2, 1)]
        shas = [self.SHA_A, self.SHA_B, self.SHA_B, self.SHA_A, "f" * 64]
        ids = {make_version_id(end, sha): end for end, sha in zip(ends, shas, strict=True)}
        assert [ids[i] for i in sorted(ids)] == sorted(ends)
