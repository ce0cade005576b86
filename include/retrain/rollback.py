"""Rollback: make an earlier version champion again and serve it, by compare-and-swap.

What the ``rollback_<name>`` DAG runs. Everything is checked before anything moves: the target
must be a registered version, and its model file must match the sha256 in its manifest and load
with the allowlist of trusted types, so a rollback never deploys a tampered file. A refused
rollback changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from include.retrain.config import DeploymentConfig
from include.retrain.deployment import publish
from include.retrain.errors import PipelineFailure
from include.retrain.modelio import load_model
from include.retrain.registry import CHAMPION, MAX_CAS_ATTEMPTS, ConcurrentUpdate, ModelRegistry
from include.retrain.stages.promote import VERSION_ID_RE

#: How many versions a refusal lists, newest first.
RECENT_VERSIONS = 10


class RollbackRefused(PipelineFailure):
    """The rollback cannot be done as asked; nothing was changed."""


def _recent(registry: ModelRegistry) -> str:
    versions = registry.list_versions()[::-1][:RECENT_VERSIONS]
    return ", ".join(versions) if versions else "none"


def rollback_champion(
    registry: ModelRegistry,
    deployment: DeploymentConfig,
    *,
    to_version: str,
    reason: str,
    audit: Mapping[str, str],
    get_connection: Callable[[str], Any] | None = None,
) -> dict[str, Any]:
    """Point the champion at ``to_version`` (empty: the champion's ``previous_version``) and deploy it.

    Records a ``rolled_back`` event; the deployment records ``deployed`` and calls the hook. For
    ``blue_green`` the pointer switches back to the slot that still holds the target, if one
    does. A retry of the same run after the champion moved only finishes the deployment.
    """
    reason = reason.strip()
    requested = to_version.strip()
    if not reason:
        raise RollbackRefused("param reason is required: say why you roll back (it is recorded with the rollback)")
    current = registry.get_alias(CHAMPION)
    if current is None:
        raise RollbackRefused(f"{registry.pipeline} has no champion yet; there is nothing to roll back")
    if requested and not VERSION_ID_RE.match(requested):
        raise RollbackRefused(
            f"param to_version {requested!r} is not a version id (v<YYYYMMDD>-<10 hex>); recent: {_recent(registry)}"
        )
    target = requested or current.previous_version
    if not target:
        raise RollbackRefused(
            f"champion {current.version} has no previous version; set to_version to one of: {_recent(registry)}"
        )
    if registry.get_version(target) is None:
        raise RollbackRefused(
            f"version {target!r} is not registered for {registry.pipeline}; "
            f"recent versions (newest first): {_recent(registry)}"
        )
    load_model(registry.read_file(target, "model.skops"), source=f"registered model {target}")

    from_version = current.version
    for _ in range(MAX_CAS_ATTEMPTS):
        if current.version == target:
            if current.run_id != audit["run_id"]:
                raise RollbackRefused(f"{target} is already the champion of {registry.pipeline}; nothing to roll back")
            from_version = current.previous_version  # an earlier attempt of this run moved it
            break
        try:
            pointer = registry.set_alias(CHAMPION, target, expected=current, reason=f"rollback: {reason}", **audit)
        except ConcurrentUpdate:
            fresh = registry.get_alias(CHAMPION)
            if not requested and fresh is not None and fresh.version != current.version:
                raise RollbackRefused(
                    f"the champion changed from {current.version} to {fresh.version} while rolling back to its "
                    "previous version; check the registry and trigger the rollback again"
                ) from None
            current = fresh or current
            from_version = current.version
            continue
        registry.mirror_previous(pointer, **audit)
        details = {"from_version": from_version, "requested_version": requested or None}
        registry.record_event("rolled_back", target, reason=reason, details=details, **audit)
        break
    else:
        raise ConcurrentUpdate(f"champion alias of {registry.pipeline} kept changing; gave up after {MAX_CAS_ATTEMPTS}")
    deployed = publish(registry, deployment, audit=audit, get_connection=get_connection)
    return {
        "summary": f"champion {from_version} -> {target}; deployed {deployed.version if deployed else None}",
        "pipeline": registry.pipeline,
        "from_version": from_version,
        "to_version": target,
        "reason": reason,
        "champion": target,
        "deployed": {"version": deployed.version, "slot": deployed.slot} if deployed else None,
        **audit,
    }
