"""Deployment: the pointer serving systems poll, how each strategy moves it, and the canary.

``registry/deployed.json`` names the version that serves live traffic. It follows the champion:
:func:`deploy_champion` makes it point at the current champion, so a run or a rollback that
moved the champion, or a retry after a crash half way, always ends with both in agreement.

Strategies (``deployment.strategy``):

- ``direct``: deploying the champion is switching the pointer to it.
- ``blue_green``: two slot aliases, ``blue`` and ``green``. The new champion is loaded into the
  idle slot, then the pointer switches to that slot; the other slot keeps the model it had, so
  switching back (a rollback) is instant and needs no new load.
- ``canary``: a candidate that passes the promotion policy becomes the ``challenger`` alias (a
  shadow) instead of champion. Each later run scores it next to the champion on its own holdout;
  after ``canary_runs`` wins in a row it becomes champion and is deployed, after one loss it is
  removed. Its progress lives in the challenger alias's ``details``.

Every change of the pointer is a compare-and-swap (reading the pointer before the champion, so
a slower writer can never put back an older champion), records a ``deployed`` event, and can be
POSTed to an HTTP hook named by an Airflow connection.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from include.retrain.config import DeploymentConfig
from include.retrain.registry import (
    CHAMPION,
    MAX_CAS_ATTEMPTS,
    AliasPointer,
    ConcurrentUpdate,
    ModelRegistry,
    new_change_id,
    utc_now,
)
from include.retrain.webhook import InvalidWebhook, post_json

DEPLOYED = "deployed.json"
CHALLENGER = "challenger"
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


def deploy_champion(
    registry: ModelRegistry, strategy: str, *, audit: Mapping[str, str]
) -> tuple[DeployedPointer | None, bool]:
    """Make ``deployed.json`` serve the current champion; return it and whether this call moved it.

    Idempotent: when the pointer already serves the champion nothing is switched (its
    ``deployed`` event is written if an interrupted attempt left it out). A lost
    compare-and-swap re-reads both and tries again. The pointer's reason is the champion's.
    A champion whose manifest no longer has the sha256 its alias recorded is not deployed.
    """
    for _ in range(MAX_CAS_ATTEMPTS):
        deployed = read_deployed(registry)  # before the champion: see the module docstring
        champion = registry.get_alias(CHAMPION)
        if champion is None:
            return deployed, False
        if deployed is not None and deployed.version == champion.version:
            record_deployed_event(registry, deployed)
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
                model=record.files["model.skops"].to_dict(),
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
                continue
            pointer, etag = landed, landed.etag
        record_deployed_event(registry, pointer)
        return replace(pointer, etag=etag), True
    raise ConcurrentUpdate(f"{registry.key(DEPLOYED)} kept changing; gave up after {MAX_CAS_ATTEMPTS} attempts")


def _load_idle_slot(
    registry: ModelRegistry, version: str, deployed: DeployedPointer | None, audit: Mapping[str, str]
) -> str:
    """The slot to switch to: one already holding ``version``, else the idle slot, loaded with it."""
    slots = {name: registry.get_alias(name) for name in (BLUE, GREEN)}
    for name, pointer in slots.items():
        if pointer is not None and pointer.version == version:  # a rollback, or a switch cut short
            return name
    idle = GREEN if deployed is not None and deployed.slot == BLUE else BLUE
    registry.set_alias(idle, version, expected=slots[idle], reason=f"loaded for deployment of {version}", **audit)
    return idle


# -- canary ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Canary:
    """A challenger in shadow: its alias, the wins it needs, and the comparisons so far."""

    pointer: AliasPointer

    @property
    def version(self) -> str:
        assert self.pointer.version is not None
        return self.pointer.version

    @property
    def wins(self) -> int:
        return int(self.pointer.details.get("wins", 0))

    @property
    def required(self) -> int:
        return int(self.pointer.details.get("required", 1))

    def has_seen(self, run_key: str) -> bool:
        """Whether the run with ``run_key`` started this canary or was already counted (a re-run)."""
        seen = {self.pointer.details.get("started_by_run_key")}
        seen |= {c["run_key"] for c in self.pointer.details.get("comparisons", [])}
        return run_key in seen

    def describe(self) -> str:
        return f"canary of {self.version} ({self.wins}/{self.required} wins)"


def challenger_alias(registry: ModelRegistry) -> tuple[AliasPointer | None, Canary | None]:
    """The challenger alias object (what a CAS must match) and the canary it holds, if any."""
    pointer = registry.get_alias(CHALLENGER)
    return pointer, (Canary(pointer) if pointer is not None and pointer.version else None)


def start_canary(
    registry: ModelRegistry,
    version: str,
    *,
    expected: AliasPointer | None,
    required: int,
    run_key: str,
    audit: Mapping[str, str],
    reason: str,
) -> Canary:
    """Make ``version`` the challenger (CAS against ``expected``) with no wins yet."""
    details = {"wins": 0, "required": required, "started_by_run_key": run_key, "comparisons": []}
    change_id = new_change_id()
    details["started"] = {"change_id": change_id, "at": utc_now(), "reason": reason, **audit}
    pointer = registry.set_alias(
        CHALLENGER, version, expected=expected, reason=reason, details=details, change_id=change_id, **audit
    )
    record_canary_started(registry, Canary(pointer))
    return Canary(pointer)


def record_canary_started(registry: ModelRegistry, canary: Canary) -> None:
    """The ``canary_started`` event of this canary, derived from the alias: written once, whoever finishes it."""
    started = canary.pointer.details.get("started")
    if not started:  # started before canaries recorded this: its event was written then
        return
    registry.record_event(
        "canary_started",
        canary.version,
        run_id=started["run_id"],
        triggered_by=started["triggered_by"],
        reason=started["reason"],
        details={"required": canary.required},
        change_id=started["change_id"],
        at=started["at"],
    )


def record_canary_win(
    registry: ModelRegistry, canary: Canary, comparison: Mapping[str, Any], *, audit: Mapping[str, str]
) -> Canary:
    """Count one more win (CAS); the caller promotes the challenger once ``wins == required``."""
    details = dict(canary.pointer.details)
    details["wins"] = canary.wins + 1
    details["comparisons"] = [*details.get("comparisons", []), dict(comparison)]
    reason = f"won canary comparison {details['wins']}/{canary.required} on run {comparison['run_key']}"
    pointer = registry.set_alias(
        CHALLENGER, canary.version, expected=canary.pointer, reason=reason, details=details, **audit
    )
    registry.record_event(
        "canary_scored",
        canary.version,
        reason=reason,
        details={**comparison, "wins": details["wins"], "required": canary.required},
        change_id=pointer.change_id,
        at=pointer.updated_at,
        **audit,
    )
    return Canary(pointer)


def end_canary(registry: ModelRegistry, canary: Canary, *, audit: Mapping[str, str], reason: str) -> None:
    """Remove the challenger (CAS), e.g. after a lost comparison."""
    registry.clear_alias(CHALLENGER, expected=canary.pointer, reason=reason, **audit)


# -- the HTTP hook -----------------------------------------------------------------------------


def publish(
    registry: ModelRegistry,
    config: DeploymentConfig,
    *,
    audit: Mapping[str, str],
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
