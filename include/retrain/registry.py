"""Model registry on the artifact store: immutable versions, CAS aliases, append-only events.

Layout under ``s3://<bucket>/<prefix>/<pipeline>/registry/``::

    versions/<version>/<file>           model.skops, metrics.json, model_card.json/.md, ...
    versions/<version>/manifest.json    commit marker: every file with its sha256, plus metadata
    aliases/<alias>.json                {"version", "previous_version", "updated_at", "run_id", "change_id", ...}
    events/<utc timestamp>-<event>-<version>-<id>.json   one immutable object per event
    intents/<task>/<run id>.json        what a run decided to change, recorded before it changes it
    deployed.json                       what serving runs (written by ``include.retrain.promotion.deploy``)

A version exists once its manifest exists. Every object under ``versions/`` is written
create-only (``If-None-Match: *``), so a committed version can never be overwritten. Aliases
change only by compare-and-swap on their ETag (``If-Match``): of two racing promoters exactly
one wins; the other gets :class:`ConcurrentUpdate`, re-reads and decides again
(``include.retrain.promotion.cas``).

Every alias write carries a ``change_id``: a retry (boto's, or Airflow's) that finds its own
``change_id`` in the alias knows its write landed, even when the response to it was lost and
the resent request was refused with 412. Every event that records a change has a key derived
from the change (its time and ``change_id``), written create-only, so whichever attempt
completes a change writes its one event and a retry can never write a second. Aliases and
events that name a version also carry the sha256 of its model and manifest, so a rewritten
version no longer matches what the history says it was.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from include.retrain.errors import IntegrityError
from include.retrain.layout import (
    EVENTS,
    MODEL_FILE,
    REGISTRY,
    VERSION_MANIFEST,
    VERSIONS,
    alias_file,
    intent_file,
    version_file,
)
from include.retrain.storage import (
    ArtifactRef,
    ArtifactStore,
    ConcurrentUpdate,
    ObjectAlreadyExists,
    sha256_bytes,
)

MANIFEST = VERSION_MANIFEST
CHAMPION = "champion"
PREVIOUS = "previous"
EVENT_KINDS = frozenset(
    {
        "registered",
        "promoted",
        "rejected",
        "rolled_back",
        "deployed",
        "canary_started",
        "canary_scored",
        "drift_accepted",
    }
)

__all__ = ["AliasPointer", "ConcurrentUpdate", "ModelRegistry", "RegisteredVersion"]


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def new_change_id() -> str:
    """A unique id for one intended write: recorded in the object, so its writer can recognize it."""
    return uuid.uuid4().hex


def _safe_name(text: str) -> str:
    """``text`` as one readable key segment, with a short hash so distinct texts never collide."""
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", text)[:80]
    return f"{readable}-{hashlib.sha256(text.encode()).hexdigest()[:10]}"


@dataclass(frozen=True)
class RegisteredVersion:
    """A committed version: its files (with sha256) and the metadata it was registered with."""

    version: str
    files: dict[str, ArtifactRef]
    metadata: dict[str, Any]
    registered_at: str

    def to_manifest(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "registered_at": self.registered_at,
            "files": {name: ref.to_dict() for name, ref in self.files.items()},
            "metadata": self.metadata,
        }

    @classmethod
    def from_manifest(cls, payload: Mapping[str, Any]) -> RegisteredVersion:
        return cls(
            version=payload["version"],
            files={name: ArtifactRef.from_dict(ref) for name, ref in payload["files"].items()},
            metadata=dict(payload.get("metadata", {})),
            registered_at=payload["registered_at"],
        )


@dataclass(frozen=True)
class AliasPointer:
    """Where an alias points, who moved it and why; ``etag`` is what a CAS must match.

    ``version`` is None for a cleared alias (a challenger that was removed): the object stays,
    so the next writer still has an ETag to swap against. ``details`` holds alias-specific
    state, such as a canary's wins.
    """

    alias: str
    version: str | None
    previous_version: str | None
    updated_at: str
    run_id: str
    triggered_by: str
    reason: str
    etag: str
    details: dict[str, Any] = field(default_factory=dict)
    #: Unique per write; whoever wrote it recognizes its own write by it (empty in old registries).
    change_id: str = ""
    #: The write this one replaced: ``version``, ``change_id``, ``updated_at``, ``run_id`` (None: first write).
    replaced: dict[str, Any] | None = None
    #: sha256 of the version's ``model.skops`` and ``manifest.json`` when it was pointed at.
    model_sha256: str | None = None
    manifest_sha256: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "alias": self.alias,
            "version": self.version,
            "previous_version": self.previous_version,
            "updated_at": self.updated_at,
            "run_id": self.run_id,
            "triggered_by": self.triggered_by,
            "reason": self.reason,
            "details": self.details,
            "change_id": self.change_id,
            "replaced": self.replaced,
            "model_sha256": self.model_sha256,
            "manifest_sha256": self.manifest_sha256,
        }

    def as_replaced(self) -> dict[str, Any]:
        """What a later write records about this one (so a retry can learn its write landed)."""
        return {
            "version": self.version,
            "change_id": self.change_id,
            "updated_at": self.updated_at,
            "run_id": self.run_id,
        }


class ModelRegistry:
    """One pipeline's registry inside an artifact store."""

    def __init__(self, store: ArtifactStore, pipeline: str) -> None:
        self.store = store
        self.pipeline = pipeline

    def key(self, *parts: str) -> str:
        """The store key of ``parts`` under this pipeline's ``registry/`` folder."""
        return self.store.key(self.pipeline, REGISTRY, *parts)

    # -- versions ---------------------------------------------------------------------------

    def get_version(self, version: str, *, manifest_sha256: str | None = None) -> RegisteredVersion | None:
        """The committed version, or None; with ``manifest_sha256``, refused unless its manifest still has it."""
        found = self.store.read_object(self.key(*version_file(version, MANIFEST)))
        if found is None:
            return None
        if manifest_sha256 and sha256_bytes(found.data) != manifest_sha256:
            raise IntegrityError(
                f"version {version} of {self.pipeline} was rewritten: its manifest's sha256 "
                f"{sha256_bytes(found.data)} is not the {manifest_sha256} recorded when it was registered"
            )
        return RegisteredVersion.from_manifest(json.loads(found.data))

    def version_digests(self, version: str) -> dict[str, str] | None:
        """``model_sha256`` and ``manifest_sha256`` of a committed version (None: not registered)."""
        found = self.store.read_object(self.key(*version_file(version, MANIFEST)))
        if found is None:
            return None
        files = json.loads(found.data).get("files", {})
        model = files.get(MODEL_FILE, {}).get("sha256")
        return {"model_sha256": model, "manifest_sha256": sha256_bytes(found.data)}

    def recorded_manifest_sha256(self, version: str) -> str | None:
        """The manifest sha256 the history keeps for ``version``: the champion alias's, else its ``registered`` event's.

        None for versions registered before digests were recorded; then only the file digests
        in the manifest itself are checked.
        """
        champion = self.get_alias(CHAMPION)
        if champion is not None and champion.version == version and champion.manifest_sha256:
            return champion.manifest_sha256
        registered = self.registered_digests(version)
        return registered["manifest_sha256"] if registered else None

    def registered_digests(self, version: str) -> dict[str, Any] | None:
        """The digests the version's ``registered`` event recorded (None: no such event, or an old one)."""
        marker = f"-registered-{version}-"
        keys = [k for k in self._event_keys() if marker in k.rsplit("/", 1)[-1]]
        for key in keys:
            payload = self.store.read_json(key) or {}
            if payload.get("manifest_sha256"):
                return {"model_sha256": payload.get("model_sha256"), "manifest_sha256": payload["manifest_sha256"]}
        return None

    def list_versions(self) -> list[str]:
        """Committed versions, oldest first (version ids sort by window end)."""
        prefix = self.key(VERSIONS) + "/"
        keys = self.store.list_keys(prefix)
        return sorted(k[len(prefix) :].split("/")[0] for k in keys if k.endswith("/" + MANIFEST))

    def register(
        self, version: str, files: Mapping[str, bytes], metadata: Mapping[str, Any]
    ) -> tuple[RegisteredVersion, bool]:
        """Commit a version create-only; return it and whether this call created it.

        Idempotent: registering a committed version returns the existing one unchanged, as
        long as it was made from the same inputs (``metadata["inputs_sha256"]``). Files left
        by an interrupted attempt (no manifest yet) are complete objects from the same inputs;
        they are adopted, never overwritten, so a concurrent registration cannot swap bytes
        under a manifest.
        """
        existing = self.get_version(version)
        if existing is not None:
            return self._same_inputs(existing, metadata), False
        refs: dict[str, ArtifactRef] = {}
        for name, data in files.items():
            key = self.key(*version_file(version, name))
            content_type = "application/json" if name.endswith(".json") else "application/octet-stream"
            try:
                refs[name] = self.store.put_bytes(key, data, content_type=content_type, create_only=True)
            except ObjectAlreadyExists:
                adopted = self.store.ref_for(key)
                if adopted is None:  # deleted between the two calls: not a state we will guess about
                    raise
                refs[name] = adopted
        record = RegisteredVersion(version=version, files=refs, metadata=dict(metadata), registered_at=utc_now())
        try:
            self.store.put_json(self.key(*version_file(version, MANIFEST)), record.to_manifest(), create_only=True)
        except ObjectAlreadyExists:
            winner = self.get_version(version)
            assert winner is not None
            return self._same_inputs(winner, metadata), False
        return record, True

    @staticmethod
    def _same_inputs(existing: RegisteredVersion, metadata: Mapping[str, Any]) -> RegisteredVersion:
        theirs, ours = existing.metadata.get("inputs_sha256"), metadata.get("inputs_sha256")
        if theirs != ours:
            raise IntegrityError(
                f"version {existing.version} already exists with different inputs ({theirs} != {ours}); "
                "versions are immutable"
            )
        return existing

    def read_file(self, version: str, name: str, *, manifest_sha256: str | None = None) -> bytes:
        """A version's file, checked against the sha256 in its manifest.

        With ``manifest_sha256`` (what an alias or event recorded) the manifest itself is checked
        first, so a file rewritten together with its manifest is refused too.
        """
        record = self.get_version(version, manifest_sha256=manifest_sha256)
        if record is None:
            raise IntegrityError(f"version {version} is not registered for {self.pipeline}")
        if name not in record.files:
            raise IntegrityError(f"version {version} has no file {name!r}")
        return self.store.get_bytes(record.files[name])

    # -- aliases ----------------------------------------------------------------------------

    def get_alias(self, alias: str = CHAMPION) -> AliasPointer | None:
        found = self.store.read_object(self.key(*alias_file(alias)))
        if found is None:
            return None
        payload = json.loads(found.data)
        return AliasPointer(
            alias=alias,
            version=payload["version"],
            previous_version=payload.get("previous_version"),
            updated_at=payload.get("updated_at", ""),
            run_id=payload.get("run_id", ""),
            triggered_by=payload.get("triggered_by", ""),
            reason=payload.get("reason", ""),
            etag=found.etag,
            details=dict(payload.get("details") or {}),
            change_id=payload.get("change_id") or "",
            replaced=payload.get("replaced"),
            model_sha256=payload.get("model_sha256"),
            manifest_sha256=payload.get("manifest_sha256"),
        )

    def set_alias(
        self,
        alias: str,
        version: str,
        *,
        expected: AliasPointer | None,
        run_id: str,
        triggered_by: str,
        reason: str,
        details: Mapping[str, Any] | None = None,
        change_id: str | None = None,
    ) -> AliasPointer:
        """Point ``alias`` at ``version`` if it still is as ``expected`` (None: not set yet).

        Raises ConcurrentUpdate when someone else moved it first; the caller re-reads and
        re-decides. The version must be committed. ``change_id`` (default: a fresh one) is
        recorded in the alias; a caller that recorded it beforehand (an intent) can tell later
        whether this write landed.
        """
        digests = self.version_digests(version)
        if digests is None:
            raise IntegrityError(f"cannot point {alias} at {version}: it is not a registered version")
        return self._swap_alias(alias, version, expected, run_id, triggered_by, reason, details, change_id, digests)

    def clear_alias(
        self, alias: str, *, expected: AliasPointer, run_id: str, triggered_by: str, reason: str
    ) -> AliasPointer:
        """Point ``alias`` at nothing (``version`` null) if it still is as ``expected``; CAS like set_alias."""
        return self._swap_alias(alias, None, expected, run_id, triggered_by, reason, None, None, {})

    def _swap_alias(
        self,
        alias: str,
        version: str | None,
        expected: AliasPointer | None,
        run_id: str,
        triggered_by: str,
        reason: str,
        details: Mapping[str, Any] | None,
        change_id: str | None,
        digests: Mapping[str, str | None],
    ) -> AliasPointer:
        pointer = AliasPointer(
            alias=alias,
            version=version,
            previous_version=expected.version if expected else None,
            updated_at=utc_now(),
            run_id=run_id,
            triggered_by=triggered_by,
            reason=reason,
            etag="",
            details=dict(details or {}),
            change_id=change_id or new_change_id(),
            replaced=expected.as_replaced() if expected else None,
            model_sha256=digests.get("model_sha256"),
            manifest_sha256=digests.get("manifest_sha256"),
        )
        body = json.dumps(pointer.to_json(), indent=2, sort_keys=True).encode()
        try:
            etag = self.store.swap_bytes(
                self.key(*alias_file(alias)), body, expected_etag=expected.etag if expected else None
            )
        except ConcurrentUpdate:
            # A lost response: the write landed, the client resent it and got 412. Ours if it carries our id.
            landed = self.get_alias(alias)
            if landed is not None and landed.change_id == pointer.change_id:
                return landed
            raise
        return replace(pointer, etag=etag)

    # -- events -----------------------------------------------------------------------------

    def record_event(
        self,
        event: str,
        version: str,
        *,
        run_id: str,
        triggered_by: str,
        reason: str,
        details: Mapping[str, Any] | None = None,
        change_id: str | None = None,
        at: str | None = None,
    ) -> str:
        """Append one immutable event object; returns its key.

        ``change_id`` names the change the event records (an alias write's ``change_id``, a
        version, a run's decision) and ``at`` its time: the key is derived from both and written
        create-only, so recording the same change again (a retry) finds the event already there
        and never writes a second one. Without ``change_id`` each call is a new event.
        """
        if event not in EVENT_KINDS:
            raise ValueError(f"unknown registry event {event!r}")
        when = datetime.fromisoformat(at) if at else datetime.now(UTC)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        when = when.astimezone(UTC)
        event_id = (
            hashlib.sha256(f"{event}:{version}:{change_id}".encode()).hexdigest()[:12]
            if change_id
            else uuid.uuid4().hex[:8]
        )
        key = self.key(EVENTS, f"{when:%Y%m%dT%H%M%S%fZ}-{event}-{version}-{event_id}.json")
        payload = {
            "event": event,
            "version": version,
            "at": when.isoformat(timespec="microseconds"),
            "run_id": run_id,
            "triggered_by": triggered_by,
            "reason": reason,
            "details": dict(details or {}),
            "change_id": change_id,
            **(self.version_digests(version) or {}),
        }
        # Already there: this change's event was recorded (an earlier attempt, or a lost response).
        with contextlib.suppress(ObjectAlreadyExists):
            self.store.put_json(key, payload, create_only=True)
        return key

    def record_registered(self, record: RegisteredVersion, *, run_id: str, triggered_by: str, reason: str) -> bool:
        """Record ``record``'s ``registered`` event if run ``run_id`` registered it; whether it did.

        Keyed by the version and timed by its manifest, so whichever attempt of the registering
        run gets here writes the one event (a fault after the version commit does not lose it),
        and a run that found the version already registered by another writes none.
        """
        if record.metadata.get("run_id") != run_id:
            return False
        self.record_event(
            "registered",
            record.version,
            run_id=run_id,
            triggered_by=triggered_by,
            reason=reason,
            change_id=f"registered:{record.version}",
            at=record.registered_at,
        )
        return True

    def record_rejected(
        self,
        version: str,
        *,
        run_id: str,
        triggered_by: str,
        reason: str,
        details: Mapping[str, Any],
        at: str | None,
    ) -> None:
        """Record that run ``run_id`` decided not to promote ``version``: once per run and version.

        A retry that reaches the same decision finds the event already there, even when its
        decision carries no recorded time (``at`` None: the key's time would differ).
        """
        change_id = f"rejected:{run_id}"
        if not self.has_event("rejected", version, change_id):
            self.record_event(
                "rejected",
                version,
                run_id=run_id,
                triggered_by=triggered_by,
                reason=reason,
                details=details,
                change_id=change_id,
                at=at,
            )

    def has_event(self, event: str, version: str, change_id: str) -> bool:
        """Whether the event recording ``change_id`` exists (whatever time its key carries)."""
        event_id = hashlib.sha256(f"{event}:{version}:{change_id}".encode()).hexdigest()[:12]
        suffix = f"-{event}-{version}-{event_id}.json"
        return any(k.endswith(suffix) for k in self._event_keys())

    # -- intents ----------------------------------------------------------------------------

    def intent_key(self, task: str, run_id: str) -> str:
        return self.key(*intent_file(task, _safe_name(run_id)))

    def read_intent(self, task: str, run_id: str) -> dict[str, Any] | None:
        """What run ``run_id``'s ``task`` decided to change, as recorded before it changed anything."""
        return self.store.read_json(self.intent_key(task, run_id))

    def record_intent(self, task: str, run_id: str, intent: Mapping[str, Any], *, create_only: bool = True) -> dict:
        """Record a run's intent durably before acting on it; returns the intent that stands.

        Create-only by default: if an earlier attempt of the run recorded one, that one stands
        (and is returned), so every attempt executes the same intent.
        """
        payload = {"run_id": run_id, "task": task, "recorded_at": utc_now(), **intent}
        try:
            self.store.put_json(self.intent_key(task, run_id), payload, create_only=create_only)
        except ObjectAlreadyExists:
            existing = self.read_intent(task, run_id)
            assert existing is not None
            return existing
        return payload

    def events(self) -> list[dict[str, Any]]:
        """Every event, oldest first."""
        return [self.store.read_json(k) for k in self._event_keys()]

    def recent_events(self, limit: int, kind: str | None = None) -> list[dict[str, Any]]:
        """The newest ``limit`` events (of ``kind``, if given), newest first; reads only those objects."""
        keys = [k for k in self._event_keys() if kind is None or _event_kind(k) == kind]
        return [self.store.read_json(k) for k in reversed(keys[-limit:])] if limit > 0 else []

    def _event_keys(self) -> list[str]:
        """Event keys, oldest first: each starts with its UTC time."""
        return self.store.list_keys(self.key(EVENTS) + "/")


def _event_kind(key: str) -> str:
    """``registered`` from ``.../events/<utc time>-registered-<version>-<id>.json`` (kinds have no hyphen)."""
    return key.rsplit("/", 1)[-1].split("-", 2)[1]
