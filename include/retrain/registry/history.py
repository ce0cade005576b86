"""The registry's append-only history: one immutable event object per change, and run intents.

``RegistryHistory`` is a part of ``ModelRegistry`` (its base class): it uses the registry's
``store``, ``key`` and ``version_digests``.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from include.retrain.layout import EVENTS, intent_file
from include.retrain.registry.records import RegisteredVersion, utc_now
from include.retrain.storage import ArtifactStore, ObjectAlreadyExists

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
        "retrain_requested",
    }
)


def _safe_name(text: str) -> str:
    """``text`` as one readable key segment, with a short hash so distinct texts never collide."""
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", text)[:80]
    return f"{readable}-{hashlib.sha256(text.encode()).hexdigest()[:10]}"


class RegistryHistory:
    """Events and intents of one pipeline's registry (see ``ModelRegistry``)."""

    store: ArtifactStore

    def key(self, *parts: str) -> str:
        """The store key of ``parts`` under the registry folder (``ModelRegistry.key``)."""
        raise NotImplementedError

    def version_digests(self, version: str) -> dict[str, str] | None:
        """The sha256 of a version's model and manifest (``ModelRegistry.version_digests``)."""
        raise NotImplementedError

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
        return self._read_events(self._event_keys())

    def recent_events(self, limit: int, kind: str | None = None) -> list[dict[str, Any]]:
        """The newest ``limit`` events (of ``kind``, if given), newest first; reads only those objects."""
        keys = [k for k in self._event_keys() if kind is None or _event_kind(k) == kind]
        return self._read_events(reversed(keys[-limit:])) if limit > 0 else []

    def _read_events(self, keys: Iterable[str]) -> list[dict[str, Any]]:
        """The events at ``keys``; an event deleted after it was listed is skipped, not a None."""
        return [event for key in keys if (event := self.store.read_json(key)) is not None]

    def _event_keys(self) -> list[str]:
        """Event keys, oldest first: each starts with its UTC time."""
        return self.store.list_keys(self.key(EVENTS) + "/")


def _event_kind(key: str) -> str:
    """``registered`` from ``.../events/<utc time>-registered-<version>-<id>.json`` (kinds have no hyphen)."""
    return key.rsplit("/", 1)[-1].split("-", 2)[1]
