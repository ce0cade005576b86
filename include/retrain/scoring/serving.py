"""The models a scoring run serves: the version ``deployed.json`` names and a canary's challenger.

Loaded as the retrain path loads registered models: the version's manifest is checked against
the sha256 the pointer (or alias) recorded, the model file against its manifest, and the file is
opened with skops' allowlist only (``modelio``). Any mismatch fails the run at once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from include.retrain.config import PipelineConfig
from include.retrain.errors import IntegrityError, PipelineFailure
from include.retrain.layout import DEPLOYED, MODEL_FILE, PROFILE_FILE
from include.retrain.modelio import load_model
from include.retrain.registry import ModelRegistry
from include.retrain.storage import sha256_bytes


class NoDeployedModel(PipelineFailure):
    """``deployed.json`` does not exist: no champion has been promoted yet, nothing to score with."""


@dataclass(frozen=True)
class ServingModel:
    """A loaded registered model, its version and its reference profile (None: registered without one)."""

    version: str
    model: Any
    profile: dict[str, Any] | None


def load_registered(
    registry: ModelRegistry, version: str, manifest_sha256: str | None, role: str, model_sha256: str | None = None
) -> ServingModel:
    """Load ``version``'s model (sha256-checked, allowlisted) and its reference profile."""
    record = registry.get_version(version, manifest_sha256=manifest_sha256)
    if record is None:
        raise IntegrityError(f"the {role} version {version} is not registered for {registry.pipeline}")
    data = registry.read_file(version, MODEL_FILE, manifest_sha256=manifest_sha256)
    if model_sha256 and sha256_bytes(data) != model_sha256:
        raise IntegrityError(
            f"the {role} model {version} has sha256 {sha256_bytes(data)}, not the {model_sha256} "
            f"{registry.key(DEPLOYED)} recorded"
        )
    model = load_model(data, source=f"{role} model {version}")
    profile = None
    if PROFILE_FILE in record.files:
        profile = json.loads(registry.read_file(version, PROFILE_FILE, manifest_sha256=manifest_sha256))
    return ServingModel(version, model, profile)


def deployed_model(registry: ModelRegistry) -> ServingModel:
    """The model ``registry/deployed.json`` names; NoDeployedModel when nothing is deployed yet."""
    from include.retrain.promotion.deploy import read_deployed

    pointer = read_deployed(registry)
    if pointer is None:
        raise NoDeployedModel(
            f"no deployed model for {registry.pipeline}: {registry.store.uri(registry.key(DEPLOYED))} does not "
            f"exist (no champion has been promoted yet). Run retrain_{registry.pipeline} until a version is "
            "promoted; no predictions were written"
        )
    recorded = (pointer.model or {}).get("sha256")
    return load_registered(registry, pointer.version, pointer.manifest_sha256, "deployed", recorded)


def shadow_model(registry: ModelRegistry, config: PipelineConfig, deployed_version: str) -> ServingModel | None:
    """A canary's challenger (other than the deployed version) when the variant shadow-scores it."""
    if config.deployment.strategy != "canary" or config.scoring is None or not config.scoring.shadow:
        return None
    from include.retrain.promotion.canary import challenger_alias

    _, canary = challenger_alias(registry)
    if canary is None or canary.version == deployed_version:
        return None
    return load_registered(registry, canary.version, canary.pointer.manifest_sha256, "challenger")
