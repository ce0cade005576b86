"""Champion moves: carrying out the intent a promote or a rollback recorded, and mirroring ``previous``.

A run that moves the champion first records its intent under
``registry/intents/<promote|rollback>/<run id>.json``: the version it moves to, the champion it
replaces (with that alias's ETag) and a change id. Then it carries the intent out, and every
later attempt of the same run (an Airflow retry, a cleared run) carries out the same intent and
never decides again. :func:`carry_out` tells from the champion alias, and the event history,
how far an earlier attempt got; it recognizes this run's own write by the change id, even when
the response to that write was lost and another actor has replaced it since.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from include.retrain.promotion.cas import compare_and_swap, compare_and_swap_if_possible
from include.retrain.registry import CHAMPION, PREVIOUS, AliasPointer, Audit, ModelRegistry

if TYPE_CHECKING:
    from include.retrain.context import RunContext


@dataclass(frozen=True)
class ChampionMove:
    """A recorded intent to point the champion at ``target``, and the one event that records it."""

    intent: Mapping[str, Any]
    target: str
    #: The event that records the move (``promoted``, ``rolled_back``): it tells a retry the move landed.
    event: str
    #: The champion alias's reason (the event's is the intent's).
    reason: str
    #: The event's details, given the version the move replaced.
    details: Callable[[str | None], dict[str, Any]]

    def record(self, registry: ModelRegistry, previous: str | None, change_id: str, at: str) -> None:
        """Write the move's event; keyed by ``change_id``, so whichever attempt gets here writes it once."""
        registry.record_event(
            self.event,
            self.target,
            run_id=self.intent["run_id"],
            triggered_by=self.intent.get("triggered_by", ""),
            reason=self.intent["reason"],
            details=self.details(previous),
            change_id=change_id,
            at=at,
        )


@dataclass(frozen=True)
class Carried:
    """Where a champion move stands once carried out, and the champion alias as it is now.

    - ``finished``: an earlier attempt's swap had landed and is still champion; finished now;
    - ``swapped``: this attempt swapped the champion (and finished the move);
    - ``undone``: an earlier attempt's swap landed and a later write replaced it; left in place;
    - ``preempted``: another actor moved the champion before the swap landed; nothing moved.
    """

    state: Literal["finished", "swapped", "undone", "preempted"]
    champion: AliasPointer | None


def carry_out(registry: ModelRegistry, move: ChampionMove, audit: Audit) -> Carried:
    """Carry out a recorded champion move, or finish it if an earlier attempt did the swap.

    - the champion carries the intent's change id: the swap landed; finish it (``previous``, event);
    - a later write replaced the swap (its ``replaced`` names the change id, or the move's event
      exists): the swap landed and was undone since; record its event if it is missing;
    - the champion is still the one the intent replaces (same ETag): do the swap now;
    - otherwise another actor moved the champion before the swap landed.
    """
    intent = move.intent
    change_id = intent["change_id"]
    expected = intent.get("expected") or {}

    def attempt() -> Carried:
        current = registry.get_alias(CHAMPION)
        if current is not None and current.change_id == change_id:
            finish(registry, move, current, audit)
            return Carried("finished", current)
        replaced = (current.replaced or {}) if current is not None else {}
        if replaced.get("change_id") == change_id or registry.has_event(move.event, move.target, change_id):
            if replaced.get("change_id") == change_id:
                move.record(registry, expected.get("version"), change_id, replaced["updated_at"])
            return Carried("undone", current)
        if (current.etag if current is not None else None) != intent.get("expected_etag"):
            return Carried("preempted", current)
        # Refused: someone else's write, or ours whose response was lost before another actor
        # replaced it; the next attempt's checks tell which (the new alias's ``replaced`` names ours).
        pointer = registry.set_alias(
            CHAMPION, move.target, expected=current, reason=move.reason, change_id=change_id, **audit
        )
        finish(registry, move, pointer, audit)
        return Carried("swapped", pointer)

    return compare_and_swap(attempt, what=f"champion alias of {registry.pipeline}")


def finish(registry: ModelRegistry, move: ChampionMove, pointer: AliasPointer, audit: Audit) -> None:
    """Finish a champion move that landed: mirror ``previous`` and record its one event."""
    mirror_previous(registry, pointer, **audit)
    move.record(registry, pointer.previous_version, pointer.change_id, pointer.updated_at)


def mirror_previous(registry: ModelRegistry, champion: AliasPointer, *, run_id: str, triggered_by: str) -> None:
    """Point ``previous`` at the champion that ``champion`` replaced (best effort).

    A convenience for serving teams and rollback; the champion pointer's own
    ``previous_version`` (written atomically with it) is the authoritative record.
    """
    previous = champion.previous_version
    if previous is None:
        return

    def attempt() -> None:
        current = registry.get_alias(PREVIOUS)
        if current is not None and current.version == previous:
            return  # already mirrored (a retry)
        registry.set_alias(
            PREVIOUS,
            previous,
            expected=current,
            run_id=run_id,
            triggered_by=triggered_by,
            reason=f"champion before {champion.version}",
        )

    compare_and_swap_if_possible(attempt)


def run_audit(run: RunContext) -> Audit:
    """Who moves an alias on behalf of ``run``: recorded with every write and event."""
    return {"run_id": run.run_id, "triggered_by": run.triggered_by}
