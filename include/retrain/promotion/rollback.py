"""Rollback: make an earlier version champion again and serve it, by compare-and-swap.

What the ``rollback_<name>`` DAG runs. Everything is checked before anything moves: the target
must be a registered version whose manifest still has the sha256 its ``registered`` event
recorded, and its model file must match the sha256 in that manifest and load with the allowlist
of trusted types, so a rollback never deploys a tampered file. It must also replace the champion
it was asked to replace (``expected_champion``; by default the champion when the rollback was
requested). A refused rollback changes nothing.

A rollback is carried out in two steps. First its resolved intent (target, the champion it
replaces, a change id) is recorded under ``registry/intents/rollback/<run id>.json``,
create-only, before anything moves. Then that intent is executed; every later attempt of the
same run (an Airflow retry, a cleared run) executes the same recorded intent and never resolves
"the previous version" again, so a retry cannot undo its own rollback.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from include.retrain.config import DeploymentConfig
from include.retrain.errors import IntegrityError, PipelineFailure
from include.retrain.modelio import load_model
from include.retrain.promotion.deploy import publish
from include.retrain.promotion.moves import ChampionMove, carry_out
from include.retrain.promotion.policy import VERSION_ID_RE
from include.retrain.registry import CHAMPION, MODEL_FILE, AliasPointer, Audit, ModelRegistry, new_change_id

#: How many versions a refusal lists, newest first.
RECENT_VERSIONS = 10

#: The intent a rollback run records before it moves the champion.
ROLLBACK_INTENT = "rollback"


class RollbackRefused(PipelineFailure):
    """The rollback cannot be done as asked; nothing was changed."""


def _recent(registry: ModelRegistry) -> str:
    versions = registry.list_versions()[::-1][:RECENT_VERSIONS]
    return ", ".join(versions) if versions else "none"


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def champion_at(current: AliasPointer, when: datetime) -> str | None:
    """Which version was champion at ``when``, as far as the alias tells (None: not known from it)."""
    updated = _parse_time(current.updated_at)
    if updated is None or updated <= when:
        return current.version
    replaced = current.replaced or {}
    before = _parse_time(replaced.get("updated_at"))
    return replaced.get("version") if before is not None and before <= when else None


def rollback_champion(
    registry: ModelRegistry,
    deployment: DeploymentConfig,
    *,
    to_version: str,
    reason: str,
    audit: Audit,
    get_connection: Callable[[str], Any] | None = None,
    expected_champion: str = "",
    requested_at: datetime | None = None,
) -> dict[str, Any]:
    """Point the champion at ``to_version`` (empty: the champion's ``previous_version``) and deploy it.

    ``expected_champion`` is the version this rollback replaces; empty means the champion at
    ``requested_at`` (when the run was asked for). An implicit rollback (no ``to_version``)
    whose champion changed since it was requested is refused, and so is any rollback whose
    ``expected_champion`` is no longer champion. Records one ``rolled_back`` event; the
    deployment records ``deployed`` and calls the hook.
    """
    run_id = audit["run_id"]
    intent = registry.read_intent(ROLLBACK_INTENT, run_id)
    if intent is None:
        resolved = _resolve(registry, to_version, reason, expected_champion, requested_at, audit)
        intent = registry.record_intent(ROLLBACK_INTENT, run_id, resolved)
    note = _carry_out(registry, intent, audit)
    deployed = publish(registry, deployment, audit=audit, get_connection=get_connection)
    target, replaces = intent["target"], intent["expected"]["version"]
    champion = registry.get_alias(CHAMPION)
    summary = f"champion {replaces} -> {target}; deployed {deployed.version if deployed else None}"
    return {
        "summary": summary + (f" ({note})" if note else ""),
        "pipeline": registry.pipeline,
        "from_version": replaces,
        "to_version": target,
        "replaces_champion": replaces,
        "expected_champion": intent.get("expected_champion"),
        "requested_at": intent.get("requested_at"),
        "reason": intent["reason"],
        "champion": champion.version if champion else None,
        "note": note,
        "deployed": {"version": deployed.version, "slot": deployed.slot} if deployed else None,
        **audit,
    }


def _resolve(
    registry: ModelRegistry,
    to_version: str,
    reason: str,
    expected_champion: str,
    requested_at: datetime | None,
    audit: Audit,
) -> dict[str, Any]:
    """Check the request against the registry and resolve it into an intent; refuse if anything is off."""
    reason = reason.strip()
    requested = to_version.strip()
    expected = expected_champion.strip()
    _check_params(registry, reason, requested, expected)
    current = _current_champion(registry, requested, expected, requested_at)
    target = _rollback_target(registry, current, requested)
    registered = registry.registered_digests(target)
    manifest_sha256 = registered["manifest_sha256"] if registered else None
    try:
        model = registry.read_file(target, MODEL_FILE, manifest_sha256=manifest_sha256)
    except IntegrityError as exc:
        raise IntegrityError(f"refusing to roll back to {target}: {exc}") from exc
    load_model(model, source=f"registered model {target}")
    return {
        "target": target,
        "requested_version": requested or None,
        "expected_champion": expected or None,
        "requested_at": requested_at.isoformat() if requested_at else None,
        "reason": reason,
        "triggered_by": audit["triggered_by"],
        "expected": current.as_replaced(),
        "expected_etag": current.etag,
        "target_manifest_sha256": manifest_sha256,
        "change_id": new_change_id(),
    }


def _check_params(registry: ModelRegistry, reason: str, requested: str, expected: str) -> None:
    """Refuse a request without a reason, or with a version param that is not a version id."""
    if not reason:
        raise RollbackRefused("param reason is required: say why you roll back (it is recorded with the rollback)")
    for name, value in (("to_version", requested), ("expected_champion", expected)):
        if value and not VERSION_ID_RE.match(value):
            raise RollbackRefused(
                f"param {name} {value!r} is not a version id (v<YYYYMMDD>-<10 hex>); recent: {_recent(registry)}"
            )


def _current_champion(
    registry: ModelRegistry, requested: str, expected: str, requested_at: datetime | None
) -> AliasPointer:
    """The champion now; refuse if there is none, or it is not the one the request expected."""
    current = registry.get_alias(CHAMPION)
    if current is None:
        raise RollbackRefused(f"{registry.pipeline} has no champion yet; there is nothing to roll back")
    if expected and current.version != expected:
        raise RollbackRefused(
            f"param expected_champion is {expected}, but the champion of {registry.pipeline} is {current.version} "
            f"(since {current.updated_at}, run {current.run_id}: {current.reason}); nothing changed"
        )
    if not expected and not requested and requested_at is not None:
        then = champion_at(current, requested_at)
        if then != current.version:
            raise RollbackRefused(
                f"the champion of {registry.pipeline} changed since this rollback was requested at "
                f"{requested_at.isoformat()}: it was {then or 'another version'}, it is {current.version} since "
                f'{current.updated_at} (run {current.run_id}: {current.reason}); "the previous version" now means '
                "something else, so nothing changed. Check the registry and trigger again, with expected_champion "
                "(and to_version) set"
            )
    return current


def _rollback_target(registry: ModelRegistry, current: AliasPointer, requested: str) -> str:
    """The version to roll back to (the requested one, else the previous); refuse one that cannot be."""
    target = requested or current.previous_version
    if not target:
        raise RollbackRefused(
            f"champion {current.version} has no previous version; set to_version to one of: {_recent(registry)}"
        )
    if current.version == target:
        raise RollbackRefused(f"{target} is already the champion of {registry.pipeline}; nothing to roll back")
    if registry.get_version(target) is None:
        raise RollbackRefused(
            f"version {target!r} is not registered for {registry.pipeline}; "
            f"recent versions (newest first): {_recent(registry)}"
        )
    return target


def _carry_out(registry: ModelRegistry, intent: Mapping[str, Any], audit: Audit) -> str | None:
    """Execute a recorded rollback intent, or finish it if an earlier attempt did the swap.

    Returns a note when there was nothing left to move. Refuses (nothing changed) when another
    actor moved the champion away from the one the intent replaces before the swap landed.
    """
    target, expected = intent["target"], intent["expected"]

    details = {
        "from_version": expected["version"],
        "requested_version": intent["requested_version"],
        "expected_champion": intent.get("expected_champion"),
        "requested_at": intent.get("requested_at"),
    }
    move = ChampionMove(intent, target, "rolled_back", f"rollback: {intent['reason']}", lambda _previous: details)
    carried = carry_out(registry, move, audit)
    current = carried.champion
    if carried.state == "swapped":
        return None
    if carried.state == "finished":
        return "finished by a retry: an earlier attempt of this run had moved the champion"
    if carried.state == "undone":
        return (
            f"an earlier attempt of this run rolled back to {target}; since then the champion moved to "
            f"{current.version if current else None}, which this retry leaves in place"
        )
    now = current.version if current is not None else None
    raise RollbackRefused(
        f"the champion of {registry.pipeline} changed from {expected['version']} to {now} while rolling back "
        f"to {target} (run {current.run_id if current else None}); this rollback replaces only "
        f"{expected['version']}, so nothing changed. Check the registry and trigger the rollback again"
    )
