"""What the registry stores about a version and an alias: ``RegisteredVersion``, ``AliasPointer``."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypedDict

from include.retrain.storage import ArtifactRef

CHAMPION = "champion"
PREVIOUS = "previous"


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def new_change_id() -> str:
    """A unique id for one intended write: recorded in the object, so its writer can recognize it."""
    return uuid.uuid4().hex


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


class Audit(TypedDict):
    """Who moves an alias, recorded with every alias write and registry event."""

    run_id: str
    triggered_by: str


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
