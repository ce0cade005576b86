"""Canary: a candidate that passes the policy shadows the champion as the ``challenger`` alias.

With ``deployment.strategy: canary`` a candidate that passes the promotion policy becomes the
challenger instead of champion. Each later run scores it next to the champion on its own
holdout; after ``canary_runs`` wins in a row it becomes champion (and is deployed), after one
loss it is removed. Its progress lives in the challenger alias's ``details``; every change of
it is a compare-and-swap (``promotion.cas``) and records its one event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from include.retrain.context import RunContext
from include.retrain.promotion.cas import compare_and_swap, compare_and_swap_if_possible
from include.retrain.promotion.moves import mirror_previous, run_audit
from include.retrain.promotion.policy import PromotionDecision, canary_verdict
from include.retrain.promotion.promote import PromotionOutcome, promote_to_champion
from include.retrain.promotion.scores import HoldoutScores
from include.retrain.registry import CHAMPION, AliasPointer, Audit, ModelRegistry, new_change_id, utc_now

CHALLENGER = "challenger"


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
    audit: Audit,
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
    registry: ModelRegistry, canary: Canary, comparison: Mapping[str, Any], *, audit: Audit
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


def end_canary(registry: ModelRegistry, canary: Canary, *, audit: Audit, reason: str) -> None:
    """Remove the challenger (CAS), e.g. after a lost comparison."""
    registry.clear_alias(CHALLENGER, expected=canary.pointer, reason=reason, **audit)


def enter_canary(run: RunContext, version: str, scores: HoldoutScores) -> PromotionOutcome:
    """Canary strategy: a candidate that passes the policy becomes the challenger, not the champion.

    One canary at a time: while another challenger is in shadow, the candidate is registered but
    not deployed (a restarted canary would never finish under daily retraining). With no champion
    there is nothing to shadow, and a forced promotion skips the canary: both go straight to
    champion.
    """
    registry = run.registry

    def attempt() -> PromotionOutcome:
        champion = registry.get_alias(CHAMPION)
        if champion is None or champion.version == version or run.options.force_promote:
            return promote_to_champion(run, version, scores)
        slot, canary = challenger_alias(registry)
        if canary is not None and canary.version == version:
            record_canary_started(registry, canary)  # if the attempt that started it stopped short of its event
            decision = PromotionDecision(False, f"{version} is already the challenger (re-run)")
            return PromotionOutcome(decision, champion.version, challenger=True)
        if canary is not None:
            decision = PromotionDecision(
                False, f"registered, not deployed: the {canary.describe()} is in progress; one canary runs at a time"
            )
            return PromotionOutcome(decision, champion.version)
        decision = scores.decide(champion.version)
        if not decision.promote:
            return PromotionOutcome(decision, champion.version)
        required = run.config.deployment.canary_runs
        reason = f"challenger for a {required}-run canary: {decision.reason}"
        start_canary(
            registry,
            version,
            expected=slot,
            required=required,
            run_key=run.run_key,
            audit=run_audit(run),
            reason=reason,
        )
        return PromotionOutcome(
            PromotionDecision(False, reason, decision.significance), champion.version, challenger=True
        )

    return compare_and_swap(attempt, what=f"aliases of {run.config.name}")


def advance_canary(run: RunContext, scores: HoldoutScores) -> dict[str, Any] | None:
    """Score the challenger next to the champion on this run's holdout and act on the result.

    A run counts once (a re-run of the same run key adds nothing); ``canary_runs`` wins in a row
    make the challenger champion, one loss removes it with a ``rejected`` event. Returns what
    happened, for the promote manifest, or None without a challenger.
    """
    registry = run.registry
    audit = run_audit(run)

    def attempt() -> dict[str, Any] | None:
        _, canary = challenger_alias(registry)
        if canary is None:
            return None
        champion = registry.get_alias(CHAMPION)
        champion_version = champion.version if champion else None
        progress = {"version": canary.version, "wins": canary.wins, "required": canary.required}
        if champion_version == canary.version:  # promoted, but the clean-up was cut short
            assert champion is not None
            _record_graduation(registry, champion)
            end_canary(registry, canary, audit=audit, reason=f"{canary.version} is champion now")
            return None
        if canary.has_seen(run.run_key):
            return {**progress, "result": "already counted for this run"}
        challenger_value, champion_value = scores.value(canary.version), scores.value(champion_version)
        verdict = canary_verdict(challenger_value, champion_value, run.config.promotion)
        comparison = {
            "run_key": run.run_key,
            "run_id": run.run_id,
            "champion_version": champion_version,
            "challenger_value": challenger_value,
            "champion_value": champion_value,
            "won": verdict.promote,
        }
        if not verdict.promote:
            reason = f"lost the canary comparison on run {run.run_key} after {canary.wins} wins: {verdict.reason}"
            end_canary(registry, canary, audit=audit, reason=reason)
            details = {"canary": comparison}
            registry.record_event("rejected", canary.version, reason=reason, details=details, **audit)
            return {**progress, "result": "lost", "reason": reason}
        if canary.wins + 1 < canary.required:
            canary = record_canary_win(registry, canary, comparison, audit=audit)
            return {**progress, "wins": canary.wins, "result": "won", "reason": verdict.reason}
        reason = f"won the canary {canary.required}/{canary.required}: {verdict.reason}"
        graduation = {"graduated": {**comparison, "wins": canary.required, "required": canary.required}}
        pointer = registry.set_alias(
            CHAMPION, canary.version, expected=champion, reason=reason, details=graduation, **audit
        )
        # Landed: nothing below is a compare-and-swap that can be refused (mirror and clear are best effort).
        mirror_previous(registry, pointer, **audit)
        _record_graduation(registry, pointer)
        _clear_graduated(registry, canary.version, audit)
        return {**progress, "wins": canary.required, "result": "promoted", "reason": reason}

    return compare_and_swap(attempt, what=f"aliases of {run.config.name}")


def _record_graduation(registry: ModelRegistry, champion: AliasPointer) -> None:
    """The ``canary_scored`` and ``promoted`` events of a canary's graduation, derived from the champion alias.

    Written create-only from the alias's change id, so the attempt that finishes a graduation
    cut short writes them once.
    """
    graduated = champion.details.get("graduated")
    if not graduated or champion.version is None:
        return
    common = {"run_id": champion.run_id, "triggered_by": champion.triggered_by, "reason": champion.reason}
    common |= {"change_id": champion.change_id, "at": champion.updated_at}
    registry.record_event("canary_scored", champion.version, details=graduated, **common)
    details = {"previous_version": champion.previous_version, "forced": False, "strategy": "canary"}
    registry.record_event("promoted", champion.version, details=details, **common)


def _clear_graduated(registry: ModelRegistry, version: str, audit: Audit) -> None:
    """Remove a challenger that just became champion (unless someone replaced it meanwhile)."""

    def attempt() -> None:
        _, canary = challenger_alias(registry)
        if canary is None or canary.version != version:
            return
        end_canary(registry, canary, audit=audit, reason=f"{version} won its canary and is champion")

    compare_and_swap_if_possible(attempt)
