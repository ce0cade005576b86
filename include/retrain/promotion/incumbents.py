"""The registered models a candidate is evaluated against: the champion and a canary's challenger,
scored on the candidate's holdout rows."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from include.retrain.context import RunContext
from include.retrain.promotion.canary import challenger_alias
from include.retrain.promotion.scores import CHAMPION_PREFIX, same_classes, score_summary
from include.retrain.registry import CHAMPION
from include.retrain.stages.evaluate import Evaluation, improvement, prediction_columns


@dataclass(frozen=True)
class Incumbents:
    """The champion's and challenger's summaries (None: there is none), and the champion's per-row
    outputs as ``predictions.parquet`` columns when they line up with the candidate's."""

    champion: dict[str, Any] | None
    challenger: dict[str, Any] | None
    columns: dict[str, np.ndarray] = field(default_factory=dict)

    def improvement(self, value: float, metric: str) -> float | None:
        """The candidate's ``value`` over the champion's (None: no champion, or it has no value)."""
        champion_value = self.champion["value"] if self.champion else None
        if champion_value is None or math.isnan(champion_value):
            return None
        return improvement(value, champion_value, metric)


def score_incumbents(run: RunContext, holdout: pd.DataFrame, y: np.ndarray, candidate: Evaluation) -> Incumbents:
    """Score the champion, and with ``deployment.strategy: canary`` a challenger other than it, on ``holdout``."""
    champion_alias = run.registry.get_alias(CHAMPION)
    champion_version = champion_alias.version if champion_alias else None
    champion: dict[str, Any] | None = None
    columns: dict[str, np.ndarray] = {}
    if champion_version is not None:
        scored, champion = score_summary(run, champion_version, holdout, y)
        champion["predictions_stored"] = scored is not None and same_classes(scored, candidate)
        if scored is not None and champion["predictions_stored"]:
            columns = prediction_columns(scored, CHAMPION_PREFIX)
    challenger: dict[str, Any] | None = None
    if run.config.deployment.strategy == "canary":
        _, canary = challenger_alias(run.registry)
        if canary is not None and canary.version != champion_version:
            _, challenger = score_summary(run, canary.version, holdout, y)
    return Incumbents(champion, challenger, columns)
