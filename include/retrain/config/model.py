"""The estimator, the train/holdout split and the promotion policy (``model``, ``split``, ``promotion``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from include.retrain.config.base import (
    _Strict,
)

#: Estimators a config may name, with the task each one solves. Anything else is refused:
#: the model file allowlist (``modelio``) is derived from this list.
ESTIMATORS: dict[str, Literal["classification", "regression"]] = {
    "sklearn.ensemble.HistGradientBoostingClassifier": "classification",
    "sklearn.ensemble.HistGradientBoostingRegressor": "regression",
    "sklearn.ensemble.RandomForestClassifier": "classification",
    "sklearn.ensemble.RandomForestRegressor": "regression",
    "sklearn.linear_model.LogisticRegression": "classification",
    "sklearn.linear_model.Ridge": "regression",
}

#: Metrics a promotion policy may use: the task they apply to and which way is better.
METRICS: dict[str, tuple[Literal["classification", "regression"], Literal["maximize", "minimize"]]] = {
    "roc_auc": ("classification", "maximize"),
    "average_precision": ("classification", "maximize"),
    "accuracy": ("classification", "maximize"),
    "f1": ("classification", "maximize"),
    "log_loss": ("classification", "minimize"),
    "rmse": ("regression", "minimize"),
    "mae": ("regression", "minimize"),
    "r2": ("regression", "maximize"),
}


ParamValue = int | float | bool | str | None


class ModelConfig(_Strict):
    """The estimator (from an allowlist), its parameters and the seed."""

    estimator: str = Field(description="Dotted path of an allowlisted sklearn estimator.")
    params: dict[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")], ParamValue] = Field(
        default_factory=dict, description="Estimator parameters; manual triggers may override these keys only."
    )
    seed: int = Field(42, ge=0, le=2**32 - 1, description="random_state for the estimator and the splits.")

    @field_validator("estimator")
    @classmethod
    def _allowed(cls, value: str) -> str:
        if value not in ESTIMATORS:
            raise ValueError(f"{value!r} is not an allowed estimator; choose one of {sorted(ESTIMATORS)}")
        return value

    @property
    def task(self) -> Literal["classification", "regression"]:
        return ESTIMATORS[self.estimator]


class SplitConfig(_Strict):
    """How the window is split into training and holdout rows.

    ``hash`` (default) assigns a row by a stable hash of ``dataset.id_column``: a row held out
    once stays held out in every later window, so the champion never trained on any row of a
    later candidate's holdout and the comparison is fair. Without an ``id_column`` the hash is of
    the row's declared values, the target excepted: the same row read by the next window keeps
    its side, but an entity whose values change between snapshots may change sides, and adding
    or removing a declared column draws the split anew once. ``random`` (seeded, per window)
    and ``time`` (latest rows): with overlapping windows the champion may have trained on part
    of their holdout.
    """

    strategy: Literal["hash", "random", "time"] = Field(
        "hash",
        description="hash (by dataset.id_column, or without one by each row's declared values except the target: "
        "a row keeps its side in every window), random (seeded, per window: with overlapping windows the champion "
        "is scored on rows it trained on) or time (latest rows held out).",
    )
    holdout_fraction: float = Field(0.2, ge=0.05, le=0.5, description="Share of rows held out.")
    stratify: bool = Field(True, description="Stratify the random split by class (classification).")


class BootstrapConfig(_Strict):
    """A paired bootstrap test on the shared holdout: is the candidate's improvement real or noise?

    Both models are scored on the same resampled rows, so the test sees only the difference
    between them, not the sampling noise of the holdout that both share. The same settings give
    the model card's metric intervals (``stats.bootstrap``).
    """

    samples: int = Field(
        1000,
        ge=100,
        le=100_000,
        description="Bootstrap resamples in all, each as many draws as the holdout has rows. From 20,000 "
        "holdout rows on they come from a bag of little bootstraps: samples/100 disjoint random subsets of n^0.7 "
        "holdout rows (at least 2,000; larger for a rare class; fewer subsets if they do not fit) share them evenly.",
    )
    confidence: float = Field(
        0.95, ge=0.5, le=0.999, description="Confidence level of the two-sided interval of the metric difference."
    )


class PromotionConfig(_Strict):
    """When a newly trained model becomes champion."""

    metric: str = Field(description="Holdout metric that decides promotion.")
    threshold: float | None = Field(None, description="Bar every model must reach (>= maximize, <= minimize).")
    min_improvement: float = Field(0.0, ge=0, description="How much a candidate must beat the champion by.")
    bootstrap: BootstrapConfig | None = Field(
        None,
        description="Paired bootstrap test: promote only if the lower bound of the interval of the improvement "
        "exceeds min_improvement; null = compare point values.",
    )

    @field_validator("metric")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in METRICS:
            raise ValueError(f"unknown metric {value!r}; choose one of {sorted(METRICS)}")
        return value

    @property
    def direction(self) -> Literal["maximize", "minimize"]:
        return METRICS[self.metric][1]
