"""A registry of committed stand-in versions (nothing here loads a model), for the promotion tests."""

from __future__ import annotations

from typing import Any

from include.retrain.registry import CHAMPION, ModelRegistry
from include.retrain.storage import ArtifactStore

VERSIONS = [f"v2026010{day}-{str(day) * 10}" for day in range(1, 6)]
V1, V2, V3, V4, V5 = VERSIONS
FILES = {"model.skops": b"stand-in model bytes", "metrics.json": b"{}"}
RUN = {"run_id": "scheduled__2026-01-05", "triggered_by": "scheduled"}


def stand_in_registry(s3_client: Any) -> ModelRegistry:
    """The churn registry with ``VERSIONS`` committed, each with its own model bytes."""
    registry = ModelRegistry(ArtifactStore(s3_client, "retrain-artifacts", "retraining"), "churn")
    for version in VERSIONS:
        registry.register(version, {**FILES, "model.skops": version.encode()}, {"inputs_sha256": version})
    return registry


def make_champion(registry: ModelRegistry, version: str, reason: str = "") -> None:
    """Move the champion by compare-and-swap, as promotion and rollback do."""
    current = registry.get_alias(CHAMPION)
    registry.set_alias(CHAMPION, version, expected=current, reason=reason or f"{version} is better", **RUN)
