"""Holdout scores: registered models scored on this run's holdout, next to the candidate.

What the promotion policy compares: the candidate's metric from evaluate, and each registered
version's on the same rows (sha256-checked and allowlisted on load), with per-row outputs for the
paired bootstrap test.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from include.retrain.context import RunContext
from include.retrain.frames import read_frame
from include.retrain.layout import MODEL_FILE
from include.retrain.manifests import EvaluateManifest, FeaturesManifest
from include.retrain.modelio import load_model
from include.retrain.promotion.policy import PromotionDecision, decide_promotion, needs_significance
from include.retrain.stages.evaluate import Evaluation, evaluate_model, outputs_from_columns
from include.retrain.stages.feature_set import SEGMENT_COLUMN
from include.retrain.stats.bootstrap import PairedComparison, paired_bootstrap

#: Column prefix of the champion's outputs in ``predictions.parquet``.
CHAMPION_PREFIX = "champion_"


def holdout_rows(run: RunContext, features: FeaturesManifest) -> tuple[pd.DataFrame, np.ndarray]:
    """This run's holdout: raw model input (segment values left out) and target, from build_features."""
    target = run.config.dataset.target
    frame = read_frame(run.store, features.ref("holdout_input"))
    return frame.drop(columns=[target, SEGMENT_COLUMN], errors="ignore"), frame[target].to_numpy()


def score_version(run: RunContext, version: str, holdout: pd.DataFrame, y: np.ndarray) -> Evaluation:
    """Score a registered version on this run's holdout (sha256 + allowlist checked on load)."""
    registry = run.registry
    data = registry.read_file(version, MODEL_FILE, manifest_sha256=registry.recorded_manifest_sha256(version))
    model = load_model(data, source=f"registered model {version}")
    return evaluate_model(model, holdout, y, run.config.model.task, run.config.dataset.positive_class)


def score_summary(
    run: RunContext, version: str, holdout: pd.DataFrame, y: np.ndarray
) -> tuple[Evaluation | None, dict[str, Any]]:
    """Score a version, and summarize it for a manifest; a model that cannot read these inputs has no value."""
    try:
        scored = score_version(run, version, holdout, y)
    except (KeyError, ValueError) as exc:  # its inputs differ from this config's features
        return None, {"version": version, "metrics": None, "value": None, "error": str(exc)[:300]}
    return scored, {"version": version, "metrics": scored.metrics, "value": scored.metrics[run.config.promotion.metric]}


def _class_list(classes: np.ndarray | None) -> list[Any] | None:
    return None if classes is None else classes.tolist()


def same_classes(a: Evaluation, b: Evaluation) -> bool:
    """Whether two models' outputs line up column by column (always true for regression)."""
    return _class_list(a.classes) == _class_list(b.classes)


class HoldoutScores:
    """Registered models scored on this run's holdout next to the candidate, each at most once.

    The candidate's, champion's and challenger's values come from the evaluate manifest, and the
    candidate's and champion's per-row outputs from ``predictions.parquet``; any other version
    (one that became champion after evaluate) is scored here on the same rows.
    """

    def __init__(self, run: RunContext, features: FeaturesManifest, evaluated: EvaluateManifest) -> None:
        self.run = run
        self.features = features
        self.evaluated = evaluated
        self.classes = None if evaluated.classes is None else np.asarray(evaluated.classes)
        self._values: dict[str, float | None] = {}
        self._outputs: dict[str, np.ndarray | None] = {}
        for entry in (evaluated.champion, evaluated.challenger):
            if entry:
                self._values[entry["version"]] = entry["value"]
        self._predictions: pd.DataFrame | None = None
        self._holdout: tuple[pd.DataFrame, np.ndarray] | None = None

    @property
    def candidate_value(self) -> float:
        return self.evaluated.value

    def value(self, version: str | None) -> float | None:
        """The policy metric of ``version`` on this holdout (None: no version, or it cannot be scored)."""
        if version is None:
            return None
        if version not in self._values:
            self._score(version)
        return self._values[version]

    def outputs(self, version: str) -> np.ndarray | None:
        """Per-row outputs of ``version`` on this holdout, aligned with the candidate's."""
        if version not in self._outputs:
            champion = self.evaluated.champion or {}
            if champion.get("version") == version and champion.get("predictions_stored"):
                self._outputs[version] = outputs_from_columns(self.predictions(), CHAMPION_PREFIX, self.classes)
            else:
                self._score(version)
        return self._outputs[version]

    def predictions(self) -> pd.DataFrame:
        if self._predictions is None:
            self._predictions = read_frame(self.run.store, self.evaluated.ref("predictions"))
        return self._predictions

    def _score(self, version: str) -> None:
        if self._holdout is None:
            self._holdout = holdout_rows(self.run, self.features)
        holdout, y = self._holdout
        scored, summary = score_summary(self.run, version, holdout, y)
        self._values[version] = summary["value"]
        aligned = scored is not None and _class_list(scored.classes) == _class_list(self.classes)
        self._outputs[version] = scored.outputs if scored is not None and aligned else None

    def significance(self, version: str) -> PairedComparison | None:
        """The paired bootstrap comparison of the candidate with ``version`` (None: no aligned outputs)."""
        theirs = self.outputs(version)
        bootstrap = self.run.config.promotion.bootstrap
        if theirs is None or bootstrap is None:
            return None
        frame = self.predictions()
        return paired_bootstrap(
            frame["target"].to_numpy(),
            outputs_from_columns(frame, "", self.classes),
            theirs,
            self.classes,
            self.run.config.promotion.metric,
            samples=bootstrap.samples,
            confidence=bootstrap.confidence,
            seed=self.run.config.model.seed,
        )

    def decide(self, champion_version: str | None) -> PromotionDecision:
        """The policy's decision for the candidate against ``champion_version`` (None: no champion)."""
        policy = self.run.config.promotion
        options = self.run.options
        champion_value = self.value(champion_version)
        significance = None
        if champion_version is not None and needs_significance(champion_value, policy, force=options.force_promote):
            significance = self.significance(champion_version)
        return decide_promotion(
            self.candidate_value,
            champion_value,
            policy,
            force=options.force_promote,
            force_reason=options.reason,
            significance=significance,
        )
