"""A stage manifest, recorded: written next to the stage's outputs as ``manifest.json``, so a run
folder explains itself, and returned for XCom."""

from __future__ import annotations

from typing import TypeVar

from include.retrain.context import RunContext
from include.retrain.layout import stage_manifest
from include.retrain.manifests import StageManifest

M = TypeVar("M", bound=StageManifest)


def record(run: RunContext, manifest: M) -> M:
    """Write ``<stage>/manifest.json`` (the XCom form, its summary first) and return the manifest."""
    run.store.put_json(run.key(stage_manifest(manifest.STAGE)), manifest.to_xcom())
    return manifest
