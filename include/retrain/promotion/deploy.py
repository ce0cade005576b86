"""Deploy: the pointer serving systems poll, and how each strategy moves it.

``registry/deployed.json`` names the version that serves live traffic. It follows the champion:
:func:`deploy_champion` makes it point at the current champion, so a run or a rollback that
moved the champion, or a retry after a crash half way, always ends with both in agreement.

Strategies (``deployment.strategy``):

- ``direct``: deploying the champion is switching the pointer to it.
- ``blue_green``: two slot aliases, ``blue`` and ``green``. The new champion is loaded into the
  idle slot, then the pointer switches to that slot; the other slot keeps the model it had, so
  switching back (a rollback) is instant and needs no new load.
- ``canary``: deployed like ``direct``; a candidate first shadows the champion as the challenger
  (``promotion.canary``) and is deployed once it wins its canary and becomes champion.

Every change of the pointer is a compare-and-swap (``promotion.cas``; it reads the pointer before
the champion, so a slower writer can never put back an older champion), records a ``deployed``
event, and can be POSTed to an HTTP hook named by an Airflow connection.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

from include.retrain.config import DeploymentConfig
from include.retrain.layout import DEPLOYED, MODEL_FILE
from include.retrain.promotion.cas import compare_and_swap
from include.retrain.registry import CHAMPION, Audit, ConcurrentUpdate, ModelRegistry, new_change_id, utc_now
from include.retrain.webhook import InvalidWebhook, post_json

BLUE, GREEN = "blue", "green"


@dataclass(frozen=True)
class DeployedPointer:
    """``registry/deployed.json``: what serving runs; ``etag`` is what a CAS must match."""

    pipeline: str
    version: str
    previous_version: str | None
    strategy: str
    slot: str | None
    model: dict[str, Any]
    updated_at: str
    run_id: str
    triggered_by: str
    reason: str
    #: Unique per switch: the writer recognizes its own switch by it (and derives its event from it).
    change_id: str = ""
    #: sha256 of the version's manifest (``model.sha256`` is the model's), as the champion alias recorded it.
    manifest_sha256: str | None = None
    etag: str = ""

    def to_json(self) -> dict[str, Any]:
        return {name: value for name, value in asdict(self).items() if name != "etag"}


def read_deployed(registry: ModelRegistry) -> DeployedPointer | None:
    found = registry.store.read_object(registry.key(DEPLOYED))
    if found is None:
        return None
    payload = json.loads(found.data)
    known = {name: payload.get(name) for name in DeployedPointer.__dataclass_fields__ if name != "etag"}
    known["change_id"] = known["change_id"] or ""
    return DeployedPointer(**known, etag=found.etag)


def record_deployed_event(registry: ModelRegistry, pointer: DeployedPointer) -> None:
    """The ``deployed`` event of this switch, derived from the pointer: written once, whoever finishes it."""
    if not pointer.change_id:  # written before switches carried an id: its event was written then
        return
    registry.record_event(
        "deployed",
        pointer.version,
        run_id=pointer.run_id,
        triggered_by=pointer.triggered_by,
        reason=pointer.reason,
        details={"strategy": pointer.strategy, "slot": pointer.slot, "previous_version": pointer.previous_version},
        change_id=pointer.change_id,
        at=pointer.updated_at,
    )


def deploy_champion(registry: ModelRegistry, strategy: str, *, audit: Audit) -> tuple[DeployedPointer | None, bool]:
    """Make ``deployed.json`` serve the current champion; return it and whether this call moved it.

    Idempotent: when the pointer already serves the champion nothing is switched (its
    ``deployed`` event is written if an interrupted attempt left it out; so is the event of a
    pointer about to be replaced, whose writer may never come back for it). A lost
    compare-and-swap re-reads both and tries again. The pointer's reason is the champion's.
    A champion whose manifest no longer has the sha256 its alias recorded is not deployed.
    """

    def attempt() -> tuple[DeployedPointer | None, bool]:
        deployed = read_deployed(registry)  # before the champion: see the module docstring
        champion = registry.get_alias(CHAMPION)
        if champion is None or champion.version is None:
            return deployed, False
        if deployed is not None:
            # An interrupted switch's event is written here; and one about to be replaced gets
            # it first: its writer may have died between the swap and the event, and its retry
            # would no longer find it deployed.
            record_deployed_event(registry, deployed)
            if deployed.version == champion.version:
                return deployed, False
        record = registry.get_version(champion.version, manifest_sha256=champion.manifest_sha256)
        assert record is not None  # set_alias only points at committed versions
        change_id = new_change_id()
        try:
            slot = _load_idle_slot(registry, champion.version, deployed, audit) if strategy == "blue_green" else None
            pointer = DeployedPointer(
                pipeline=registry.pipeline,
                version=champion.version,
                previous_version=deployed.version if deployed else None,
                strategy=strategy,
                slot=slot,
                model=record.files[MODEL_FILE].to_dict(),
                updated_at=utc_now(),
                run_id=audit["run_id"],
                triggered_by=audit["triggered_by"],
                reason=champion.reason,
                change_id=change_id,
                manifest_sha256=champion.manifest_sha256,
            )
            body = json.dumps(pointer.to_json(), indent=2, sort_keys=True).encode()
            etag = registry.store.swap_bytes(
                registry.key(DEPLOYED), body, expected_etag=deployed.etag if deployed else None
            )
        except ConcurrentUpdate:
            landed = read_deployed(registry)  # a lost response to our own switch, resent and refused?
            if landed is None or landed.change_id != change_id:
                raise  # another writer switched it: read both again
            pointer, etag = landed, landed.etag
        record_deployed_event(registry, pointer)
        return replace(pointer, etag=etag), True

    return compare_and_swap(attempt, what=registry.key(DEPLOYED))


def _load_idle_slot(registry: ModelRegistry, version: str, deployed: DeployedPointer | None, audit: Audit) -> str:
    """The slot to switch to: one already holding ``version``, else the idle slot, loaded with it."""
    slots = {name: registry.get_alias(name) for name in (BLUE, GREEN)}
    for name, pointer in slots.items():
        if pointer is not None and pointer.version == version:  # a rollback, or a switch cut short
            return name
    idle = GREEN if deployed is not None and deployed.slot == BLUE else BLUE
    registry.set_alias(idle, version, expected=slots[idle], reason=f"loaded for deployment of {version}", **audit)
    return idle


# -- the HTTP hook -----------------------------------------------------------------------------


def publish(
    registry: ModelRegistry,
    config: DeploymentConfig,
    *,
    audit: Audit,
    get_connection: Callable[[str], Any] | None,
) -> DeployedPointer | None:
    """Deploy the current champion, then call the hook if this run moved the pointer.

    "This run" includes an earlier attempt of it: a retry after a failed hook sends the pointer
    again, so the hook is called at least once per change (receivers should be idempotent).
    """
    deployed, _ = deploy_champion(registry, config.strategy, audit=audit)
    if config.notify_conn_id and deployed is not None and deployed.run_id == audit["run_id"]:
        if get_connection is None:
            raise InvalidWebhook(f"no connection lookup available for hook {config.notify_conn_id!r}")
        # Not 2xx in time: WebhookFailed, an infra failure that Airflow retries.
        post_json(
            get_connection(config.notify_conn_id),
            deployed.to_json(),
            timeout=config.notify_timeout_seconds,
            purpose="deployment hook",
        )
    return deployed
