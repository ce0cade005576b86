"""The gate rules (``expectations``): raw, features, model and drift gates."""

from __future__ import annotations

from pydantic import Field, model_validator

from include.retrain.config.base import (
    Fraction,
    _Strict,
)
from include.retrain.config.checks import Checks, Severity


class RawGateConfig(_Strict):
    """Rules for ``validate_raw``: table rules here, column defaults from ``dataset.columns``."""

    min_rows: int = Field(1, ge=1, description="Fewest rows a window may have.")
    max_rows: int | None = Field(None, ge=1, description="Most rows a window may have.")
    freshness_days: int | None = Field(
        2, ge=0, description="Newest partition may lag the day before the window end by this many days."
    )
    checks: Checks = Field(
        (), description="Shorthand expectations on the raw window; they add to or replace the schema defaults."
    )


class FeaturesGateConfig(_Strict):
    """Rules for ``validate_features``."""

    min_train_rows: int = Field(50, ge=1, description="Fewest training rows.")
    min_holdout_rows: int = Field(20, ge=1, description="Fewest holdout rows.")
    min_class_fraction: Fraction | None = Field(0.01, description="Smallest share of any class in training rows.")
    max_class_fraction: Fraction | None = Field(None, description="Largest share of any class in training rows.")
    min_feature_std: float | None = Field(
        0.0,
        ge=0,
        description="Each feature's standard deviation on the training rows must exceed this "
        "(0: no constant features); null = no check.",
    )
    on_constant_feature: Severity = Field(
        "warn",
        description="fail: a constant feature stops the run (a stuck upstream column); warn: recorded, "
        "for data with features constant by nature (e.g. blank pixels).",
    )
    max_single_feature_score: float | None = Field(
        0.999,
        ge=0.5,
        le=1.0,
        description="Leakage bar: the most one feature alone may predict the target on the training rows "
        "(ROC AUC either way or per-value purity; absolute Spearman correlation for regression); null = no check.",
    )
    checks: Checks = Field(
        (), description="Shorthand expectations on the train and holdout feature matrices (added to the defaults)."
    )

    @model_validator(mode="after")
    def _sane(self) -> FeaturesGateConfig:
        low, high = self.min_class_fraction, self.max_class_fraction
        if low is not None and high is not None and low > high:
            raise ValueError(f"min_class_fraction ({low}) is greater than max_class_fraction ({high})")
        for number, check in enumerate(self.checks):
            if check.table is not None:
                raise ValueError(
                    f"checks[{number}]: table rules do not apply to feature matrices; "
                    "use min_train_rows / min_holdout_rows"
                )
        return self


class SegmentsConfig(_Strict):
    """Per-segment floors for ``validate_model``: the metric on each segment of the holdout."""

    column: str = Field(description="Dataset column whose values define the segments (category, string, bool, int).")
    threshold: float = Field(
        description="Bar each segment's holdout metric must reach (>= maximize, <= minimize metrics)."
    )
    min_rows: int = Field(50, ge=1, description="Segments with fewer holdout rows are reported, not judged.")


class ModelGateConfig(_Strict):
    """Rules for ``validate_model``; the metric threshold comes from ``promotion``."""

    min_prediction_std: float = Field(
        1e-6, ge=0, description="Holdout scores must spread at least this much (not degenerate)."
    )
    max_regression: float | None = Field(
        None, ge=0, description="validate_model fails if the candidate is worse than the champion by more."
    )
    segments: SegmentsConfig | None = Field(None, description="Per-segment metric floors; null = none.")
    checks: Checks = Field(
        (),
        description="Shorthand expectations on the holdout metrics (a metric name or improvement_over_champion) "
        "and scores (`score`, `table: row_count`).",
    )


class LabelDriftConfig(_Strict):
    """Rules for the label's distribution in ``check_drift``: class shares or the target's bins vs the champion's."""

    psi_warn: float = Field(0.1, ge=0, description="Label PSI above this is recorded as a warning.")
    psi_fail: float = Field(
        0.25, ge=0, description="Label PSI above this is label drift (fails or warns per on_drift)."
    )
    on_drift: Severity = Field("warn", description="fail: label drift stops the run; warn: recorded, run goes on.")

    @model_validator(mode="after")
    def _ordered(self) -> LabelDriftConfig:
        if self.psi_warn > self.psi_fail:
            raise ValueError(f"psi_warn ({self.psi_warn}) is greater than psi_fail ({self.psi_fail})")
        return self


class DriftGateConfig(_Strict):
    """Rules for ``check_drift``: this window against the champion's reference profile."""

    columns: tuple[str, ...] | None = Field(
        None,
        description="Features to compare (a date column by its parts: `signup_date_month`); null = every model "
        "feature and date part.",
    )
    bins: int = Field(10, ge=2, le=100, description="Quantile bins per numeric feature in the reference profile.")
    psi_warn: float = Field(0.1, ge=0, description="PSI above this is recorded as a warning.")
    psi_fail: float = Field(0.25, ge=0, description="PSI above this is drift (fails or warns per on_drift).")
    ks_max: float | None = Field(
        None,
        gt=0,
        le=1,
        description="Optional: KS statistic (on the reference bin edges) above this is drift, numeric features.",
    )
    on_drift: Severity = Field("warn", description="fail: drift stops the run; warn: recorded, run goes on.")
    label: LabelDriftConfig | None = Field(
        LabelDriftConfig(),
        description="The label's distribution against the champion's training rows (classification: PSI of the "
        "class shares; regression: PSI of the target over the reference's quantile bins), with its own bars; "
        "null = not compared.",
    )

    @model_validator(mode="after")
    def _ordered(self) -> DriftGateConfig:
        if self.psi_warn > self.psi_fail:
            raise ValueError(f"psi_warn ({self.psi_warn}) is greater than psi_fail ({self.psi_fail})")
        return self


class ExpectationsConfig(_Strict):
    """The Great Expectations gates between stages."""

    raw: RawGateConfig = Field(RawGateConfig(), description="Rules for validate_raw.")
    features: FeaturesGateConfig = Field(FeaturesGateConfig(), description="Rules for validate_features.")
    drift: DriftGateConfig = Field(DriftGateConfig(), description="Rules for check_drift.")
    model: ModelGateConfig = Field(ModelGateConfig(), description="Rules for validate_model.")
