"""Promote: move the champion alias to a candidate the policy accepts, by compare-and-swap.

The policy itself is pure (``promotion.policy``); this module reads the champion, decides
against what it read, records the decision as the run's intent, and swaps. When another run
moved the champion first the swap is refused, and the decision is made again against the new
state: a champion that appeared meanwhile is scored on this run's holdout like any model
(``promotion.scores``) before it is compared. A later attempt of the same run carries out the
recorded intent (``promotion.moves``) and never decides again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from include.retrain.context import RunContext
from include.retrain.promotion.cas import compare_and_swap
from include.retrain.promotion.moves import ChampionMove, carry_out, finish, run_audit
from include.retrain.promotion.policy import PromotionDecision
from include.retrain.promotion.scores import HoldoutScores
from include.retrain.registry import CHAMPION, AliasPointer, ConcurrentUpdate, new_change_id


@dataclass(frozen=True)
class PromotionOutcome:
    """What a promotion attempt did: the decision, and whether the candidate became champion or challenger.

    ``overridden`` is set when this run had promoted the candidate (an earlier attempt) and
    another actor has moved the champion since: the retry leaves that alone and says so.
    ``recorded`` is the decision as this run's intent recorded it (its time, change id,
    significance), when there is one.
    """

    decision: PromotionDecision
    compared_with: str | None = None
    promoted: bool = False
    challenger: bool = False
    previous_version: str | None = None
    overridden: str | None = None
    recorded: Mapping[str, Any] | None = None

    @property
    def significance(self) -> dict[str, Any] | None:
        if self.decision.significance is not None:
            return self.decision.significance.to_dict()
        return (self.recorded or {}).get("significance")


#: The intent a retrain run's promote task records before it moves the champion.
PROMOTE_INTENT = "promote"


def promote_to_champion(run: RunContext, version: str, scores: HoldoutScores) -> PromotionOutcome:
    """Decide against the current champion and, if promoting, swap the champion alias.

    Whenever the swap is refused (another run moved the champion since it was read), the new
    champion is read, scored on this holdout and the decision is made again, within this
    attempt. Each decision is recorded as the run's intent before the swap; a later attempt of
    the same run (an Airflow retry, a cleared run) executes that recorded decision and never
    decides again, see :func:`_carry_out`.
    """
    registry = run.registry
    audit = run_audit(run)
    recorded = registry.read_intent(PROMOTE_INTENT, run.run_id)
    if recorded is not None and recorded.get("version") == version:
        return _carry_out(run, recorded)

    def attempt() -> PromotionOutcome:
        current = registry.get_alias(CHAMPION)
        champion = current.version if current else None
        if champion == version:
            return PromotionOutcome(PromotionDecision(False, f"{version} is already the champion (re-run)"), champion)
        decision = scores.decide(champion)
        intent = registry.record_intent(
            PROMOTE_INTENT,
            run.run_id,
            {
                "version": version,
                "run_key": run.run_key,
                "triggered_by": run.triggered_by,
                "promote": decision.promote,
                "reason": decision.reason,
                "significance": decision.significance.to_dict() if decision.significance else None,
                "forced": run.options.force_promote,
                "strategy": run.config.deployment.strategy,
                "expected": current.as_replaced() if current else None,
                "expected_etag": current.etag if current else None,
                "change_id": new_change_id(),
            },
            create_only=False,  # within one attempt, a lost swap re-decides: the newest decision stands
        )
        if not decision.promote:
            return PromotionOutcome(decision, champion, recorded=intent)
        try:
            pointer = registry.set_alias(
                CHAMPION, version, expected=current, reason=decision.reason, change_id=intent["change_id"], **audit
            )
        except ConcurrentUpdate:
            fresh = registry.get_alias(CHAMPION)
            if fresh is not None and (fresh.replaced or {}).get("change_id") == intent["change_id"]:
                return _carry_out(run, intent)  # ours landed (its response lost), then another actor replaced it
            raise  # another run moved the champion first: decide again against it
        finish(registry, _move(intent), pointer, audit)
        return _promoted(intent, pointer, decision)

    return compare_and_swap(attempt, what=f"champion alias of {run.config.name}")


def _move(intent: Mapping[str, Any]) -> ChampionMove:
    """The champion move a promote intent records; its one event is ``promoted``."""

    def details(previous: str | None) -> dict[str, Any]:
        return {
            "previous_version": previous,
            "forced": intent["forced"],
            "strategy": intent["strategy"],
            "significance": intent["significance"],
        }

    return ChampionMove(intent, intent["version"], "promoted", intent["reason"], details)


def _promoted(intent: Mapping[str, Any], pointer: AliasPointer, decision: PromotionDecision) -> PromotionOutcome:
    return PromotionOutcome(
        decision, pointer.previous_version, promoted=True, previous_version=pointer.previous_version, recorded=intent
    )


def _carry_out(run: RunContext, intent: Mapping[str, Any]) -> PromotionOutcome:
    """A later attempt of a run: finish the decision its earlier attempt recorded, never decide again.

    The candidate is champion when the swap landed (finished now if an attempt stopped short);
    when it landed and was replaced since (a rollback, another run), or another actor moved the
    champion before it landed, nothing is promoted and the outcome says why.
    """
    version = intent["version"]
    decision = PromotionDecision(intent["promote"], intent["reason"])
    expected = (intent.get("expected") or {}).get("version")
    if not intent["promote"]:
        return PromotionOutcome(decision, expected, recorded=intent)
    carried = carry_out(run.registry, _move(intent), run_audit(run))
    current = carried.champion
    if carried.state in ("finished", "swapped"):
        assert current is not None
        return _promoted(intent, current, decision)
    if carried.state == "undone":
        note = (
            f"{version} was promoted by an earlier attempt of this run, then the champion moved to "
            f"{_described(current)}; the retry leaves that in place and does not promote again"
        )
        # Not "promoted": the candidate is not champion as this run ends, and a notification must not say so.
        return PromotionOutcome(PromotionDecision(False, note), expected, overridden=note, recorded=intent)
    note = (
        f"not promoted: this run decided to promote {version} over {expected}, but before that "
        f"took effect the champion changed to {_described(current)}; a retry does not decide again against a "
        "champion another run produced"
    )
    return PromotionOutcome(
        PromotionDecision(False, note), current.version if current else None, overridden=note, recorded=intent
    )


def _described(champion: AliasPointer | None) -> str:
    """``<version> (run <run id>: <reason>)``, for a note about who moved the champion."""
    if champion is None:
        return "None"
    return f"{champion.version} (run {champion.run_id}: {champion.reason})"
