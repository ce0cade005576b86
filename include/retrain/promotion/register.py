"""Registering a run's candidate: its version id, its files, the ``registered`` event, and the
``rejected`` event when the policy turns down a version this run registered."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from include.retrain import model_card
from include.retrain.context import RunContext
from include.retrain.layout import METRICS_FILE, MODEL_CARD_JSON, MODEL_CARD_MD, MODEL_FILE, PROFILE_FILE
from include.retrain.manifests import EvaluateManifest, FeaturesManifest, IngestManifest, TrainManifest
from include.retrain.promotion.moves import run_audit
from include.retrain.promotion.policy import make_version_id
from include.retrain.promotion.promote import PromotionOutcome


def inputs_sha256(run: RunContext, ingested: IngestManifest) -> str:
    """What determines a model: data, config, window and run options that change results."""
    payload = {
        "landing_sha256": ingested.landing_sha256,
        "config_sha256": run.config.config_hash(),
        "window": run.describe()["window"],
        "overrides": run.options.data_overrides(run.config),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def candidate_version(run: RunContext, ingested: IngestManifest) -> str:
    """The candidate's version id: the window's end and its inputs' hash (same inputs, same version)."""
    return make_version_id(run.window.end, inputs_sha256(run, ingested))


def version_files(
    run: RunContext,
    card: dict[str, Any],
    features: FeaturesManifest,
    trained: TrainManifest,
    evaluated: EvaluateManifest,
) -> dict[str, bytes]:
    """The version's files: model, metrics, model card (JSON and Markdown), reference profile."""
    metrics_json = {
        "metric": evaluated.metric,
        "value": evaluated.value,
        "metrics": evaluated.metrics,
        "metrics_ci": evaluated.metrics_ci,
    }
    files = {
        MODEL_FILE: run.store.get_bytes(trained.ref("model")),
        METRICS_FILE: json.dumps(metrics_json, indent=2, sort_keys=True).encode(),
        MODEL_CARD_JSON: json.dumps(card, indent=2, sort_keys=True, default=str).encode(),
        MODEL_CARD_MD: model_card.render_markdown(card).encode(),
    }
    if "reference_profile" in features.artifacts:  # absent only in runs started before profiles were kept
        # What check_drift compares later windows with while this version is champion.
        files[PROFILE_FILE] = run.store.get_bytes(features.ref("reference_profile"))
    return files


def register_candidate(
    run: RunContext, version: str, files: dict[str, bytes], ingested: IngestManifest, evaluated: EvaluateManifest
) -> tuple[bool, bool]:
    """Commit the version; return whether this call created it and whether this run registered it
    (this attempt or an earlier one: its one ``registered`` event, keyed by the version)."""
    registry = run.registry
    metadata = {
        "inputs_sha256": inputs_sha256(run, ingested),
        "metric": evaluated.metric,
        "value": evaluated.value,
        "run_id": run.run_id,
    }
    record, created = registry.register(version, files, metadata)
    reason = f"{evaluated.metric}={evaluated.value:.4f}"
    ours = registry.record_registered(record, reason=reason, **run_audit(run))
    return created, ours


def record_rejection(run: RunContext, version: str, outcome: PromotionOutcome, *, registered_here: bool) -> None:
    """The ``rejected`` event of a version this run registered, unless it became champion or
    challenger, was overridden, or already is champion."""
    if (
        not registered_here
        or outcome.promoted
        or outcome.challenger
        or outcome.overridden
        or outcome.compared_with == version
    ):
        return
    details = {"compared_with": outcome.compared_with, "significance": outcome.significance}
    at = (outcome.recorded or {}).get("recorded_at")
    run.registry.record_rejected(version, reason=outcome.decision.reason, details=details, at=at, **run_audit(run))
