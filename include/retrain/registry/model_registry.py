"""One pipeline's registry: immutable versions (create-only) and aliases moved by compare-and-swap."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from include.retrain.errors import IntegrityError
from include.retrain.layout import (
    MODEL_FILE,
    REGISTRY,
    VERSION_MANIFEST,
    VERSIONS,
    alias_file,
    version_file,
)
from include.retrain.registry.history import RegistryHistory
from include.retrain.registry.records import CHAMPION, AliasPointer, RegisteredVersion, new_change_id, utc_now
from include.retrain.storage import (
    ArtifactRef,
    ArtifactStore,
    ConcurrentUpdate,
    ObjectAlreadyExists,
    sha256_bytes,
)

MANIFEST = VERSION_MANIFEST


class ModelRegistry(RegistryHistory):
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
