"""Promotion: apply the promotion policy to the registry, by compare-and-swap, for each strategy.

The policy itself is pure (``stages.promote``); this module reads the aliases, decides against
what it read, and swaps. When another run moved an alias first the swap is refused, and the
decision is made again against the new state: a champion that appeared meanwhile is scored on
this run's holdout like any model (sha256-checked and allowlisted on load) before it is compared.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from include.retrain.context import RunContext
from include.retrain.deployment import (
    challenger_alias,
    end_canary,
    record_canary_started,
    record_canary_win,
    start_canary,
)
from include.retrain.frames import read_frame
from include.retrain.modelio import load_model
from include.retrain.registry import (
    CHAMPION,
    MAX_CAS_ATTEMPTS,
    AliasPointer,
    ConcurrentUpdate,
    ModelRegistry,
    new_change_id,
)
from include.retrain.stages.evaluate import Evaluation, evaluate_model, outputs_from_columns
from include.retrain.stages.promote import PromotionDecision, canary_verdict, decide_promotion, needs_significance
from include.retrain.stages.significance import PairedComparison, paired_bootstrap
from include.retrain.storage import ArtifactRef

#: Column prefix of the champion's outputs in ``predictions.parquet``.
CHAMPION_PREFIX = "champion_"

#: Column of ``holdout_input.parquet`` carrying each row's segment when segments are configured.
SEGMENT_COLUMN = "__segment__"


def holdout_rows(run: RunContext, features: Mapping[str, Any]) -> tuple[pd.DataFrame, np.ndarray]:
    """This run's holdout: raw model input (segment values left out) and target, from build_features."""
    target = run.config.dataset.target
    frame = read_frame(run.store, ArtifactRef.from_dict(features["artifacts"]["holdout_input"]))
    return frame.drop(columns=[target, SEGMENT_COLUMN], errors="ignore"), frame[target].to_numpy()


def score_version(run: RunContext, version: str, holdout: pd.DataFrame, y: np.ndarray) -> Evaluation:
    """Score a registered version on this run's holdout (sha256 + allowlist checked on load)."""
    registry = run.registry
    data = registry.read_file(version, "model.skops", manifest_sha256=registry.recorded_manifest_sha256(version))
    model = load_model(data, source=f"registered model {version}")
    return evaluate_model(model, holdout, y, run.config.model.task, run.config.dataset.positive_class)


def score_summary(
    run: RunContext, version: str, holdout: pd.DataFrame, y: np.ndarray
) -> tuple[Evaluation | None, dict[str, Any]]:
    """Score a version, and summarize it for a manifest; a model that cannot read these inputs has no value."""
    try:
        scored = score_version(run, version, holdout, y)
    except (KeyError, ValueError) as exc:  # its inputs differ from this config's features
        return None, {"version": version, "metrics": None, "value": None, "error": str(exc)[:300]}
    return scored, {"version": version, "metrics": scored.metrics, "value": scored.metrics[run.config.promotion.metric]}


def _class_list(classes: np.ndarray | None) -> list[Any] | None:
    return None if classes is None else classes.tolist()


def same_classes(a: Evaluation, b: Evaluation) -> bool:
    """Whether two models' outputs line up column by column (always true for regression)."""
    return _class_list(a.classes) == _class_list(b.classes)


class HoldoutScores:
    """Registered models scored on this run's holdout next to the candidate, each at most once.

    The candidate's, champion's and challenger's values come from the evaluate manifest, and the
    candidate's and champion's per-row outputs from ``predictions.parquet``; any other version
    (one that became champion after evaluate) is scored here on the same rows.
    """

    def __init__(self, run: RunContext, features: Mapping[str, Any], evaluated: Mapping[str, Any]) -> None:
        self.run = run
        self.features = features
        self.evaluated = evaluated
        self.classes = None if evaluated.get("classes") is None else np.asarray(evaluated["classes"])
        self._values: dict[str, float | None] = {}
        self._outputs: dict[str, np.ndarray | None] = {}
        for key in ("champion", "challenger"):
            entry = evaluated.get(key)
            if entry:
                self._values[entry["version"]] = entry["value"]
        self._predictions: pd.DataFrame | None = None
        self._holdout: tuple[pd.DataFrame, np.ndarray] | None = None

    @property
    def candidate_value(self) -> float:
        return self.evaluated["value"]

    def value(self, version: str | None) -> float | None:
        """The policy metric of ``version`` on this holdout (None: no version, or it cannot be scored)."""
        if version is None:
            return None
        if version not in self._values:
            self._score(version)
        return self._values[version]

    def outputs(self, version: str) -> np.ndarray | None:
        """Per-row outputs of ``version`` on this holdout, aligned with the candidate's."""
        if version not in self._outputs:
            champion = self.evaluated.get("champion") or {}
            if champion.get("version") == version and champion.get("predictions_stored"):
                self._outputs[version] = outputs_from_columns(self.predictions(), CHAMPION_PREFIX, self.classes)
            else:
                self._score(version)
        return self._outputs[version]

    def predictions(self) -> pd.DataFrame:
        if self._predictions is None:
            ref = ArtifactRef.from_dict(self.evaluated["artifacts"]["predictions"])
            self._predictions = read_frame(self.run.store, ref)
        return self._predictions

    def _score(self, version: str) -> None:
        if self._holdout is None:
            self._holdout = holdout_rows(self.run, self.features)
        holdout, y = self._holdout
        scored, summary = score_summary(self.run, version, holdout, y)
        self._values[version] = summary["value"]
        aligned = scored is not None and _class_list(scored.classes) == _class_list(self.classes)
        self._outputs[version] = scored.outputs if aligned else None

    def significance(self, version: str) -> PairedComparison | None:
        """The paired bootstrap comparison of the candidate with ``version`` (None: no aligned outputs)."""
        theirs = self.outputs(version)
        bootstrap = self.run.config.promotion.bootstrap
        if theirs is None or bootstrap is None:
            return None
        frame = self.predictions()
        return paired_bootstrap(
            frame["target"].to_numpy(),
            outputs_from_columns(frame, "", self.classes),
            theirs,
            self.classes,
            self.run.config.promotion.metric,
            samples=bootstrap.samples,
            confidence=bootstrap.confidence,
            seed=self.run.config.model.seed,
        )

    def decide(self, champion_version: str | None) -> PromotionDecision:
        """The policy's decision for the candidate against ``champion_version`` (None: no champion)."""
        policy = self.run.config.promotion
        options = self.run.options
        champion_value = self.value(champion_version)
        significance = None
        if champion_version is not None and needs_significance(champion_value, policy, force=options.force_promote):
            significance = self.significance(champion_version)
        return decide_promotion(
            self.candidate_value,
            champion_value,
            policy,
            force=options.force_promote,
            force_reason=options.reason,
            significance=significance,
        )


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
    audit = _audit(run)
    recorded = registry.read_intent(PROMOTE_INTENT, run.run_id)
    if recorded is not None and recorded.get("version") == version:
        return _carry_out(run, recorded)
    for _ in range(MAX_CAS_ATTEMPTS):
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
            continue
        return _promoted(run, intent, pointer, decision)
    raise ConcurrentUpdate(
        f"champion alias of {run.config.name} kept changing; gave up after {MAX_CAS_ATTEMPTS} attempts"
    )


def _promoted(
    run: RunContext, intent: Mapping[str, Any], pointer: AliasPointer, decision: PromotionDecision
) -> PromotionOutcome:
    """Finish a champion move that landed: mirror ``previous`` and record its one ``promoted`` event."""
    registry = run.registry
    registry.mirror_previous(pointer, **_audit(run))
    _record_promoted(registry, intent, pointer.previous_version, pointer.change_id, pointer.updated_at)
    return PromotionOutcome(
        decision, pointer.previous_version, promoted=True, previous_version=pointer.previous_version, recorded=intent
    )


def _record_promoted(
    registry: ModelRegistry, intent: Mapping[str, Any], previous: str | None, change_id: str, at: str
) -> None:
    details = {
        "previous_version": previous,
        "forced": intent["forced"],
        "strategy": intent["strategy"],
        "significance": intent["significance"],
    }
    registry.record_event(
        "promoted",
        intent["version"],
        run_id=intent["run_id"],
        triggered_by=intent.get("triggered_by", ""),
        reason=intent["reason"],
        details=details,
        change_id=change_id,
        at=at,
    )


def _carry_out(run: RunContext, intent: Mapping[str, Any]) -> PromotionOutcome:
    """A later attempt of a run: finish the decision its earlier attempt recorded, never decide again.

    - the champion carries the intent's change id: the swap landed; finish it (``previous``, event);
    - a later write replaced the swap (a rollback, another run): the swap landed and was undone
      since; record its event if it is missing and leave the champion alone;
    - the champion is still the one the decision was made against: do the swap now;
    - otherwise another actor moved the champion before the swap landed: nothing is promoted.
    """
    registry = run.registry
    version = intent["version"]
    decision = PromotionDecision(intent["promote"], intent["reason"])
    expected = intent.get("expected") or {}
    if not intent["promote"]:
        return PromotionOutcome(decision, expected.get("version"), recorded=intent)
    current = registry.get_alias(CHAMPION)
    if current is not None and current.change_id == intent["change_id"]:
        return _promoted(run, intent, current, decision)
    replaced = (current.replaced or {}) if current is not None else {}
    landed_earlier = replaced.get("change_id") == intent["change_id"] or registry.has_event(
        "promoted", version, intent["change_id"]
    )
    if current is not None and landed_earlier:
        if replaced.get("change_id") == intent["change_id"]:
            _record_promoted(registry, intent, expected.get("version"), intent["change_id"], replaced["updated_at"])
        note = (
            f"{version} was promoted by an earlier attempt of this run, then the champion moved to "
            f"{current.version} (run {current.run_id}: {current.reason}); the retry leaves that in place "
            "and does not promote again"
        )
        # Not "promoted": the candidate is not champion as this run ends, and a notification must not say so.
        return PromotionOutcome(
            PromotionDecision(False, note), expected.get("version"), overridden=note, recorded=intent
        )
    unchanged = (current is None and not expected) or (
        current is not None and current.etag == intent.get("expected_etag")
    )
    if unchanged:
        try:
            pointer = registry.set_alias(
                CHAMPION,
                version,
                expected=current,
                reason=intent["reason"],
                change_id=intent["change_id"],
                **_audit(run),
            )
        except ConcurrentUpdate:
            return _carry_out(run, intent)  # the checks above tell whether our write landed first
        return _promoted(run, intent, pointer, decision)
    now = current.version if current is not None else None
    who = f" (run {current.run_id}: {current.reason})" if current is not None else ""
    note = (
        f"not promoted: this run decided to promote {version} over {expected.get('version')}, but before that "
        f"took effect the champion changed to {now}{who}; a retry does not decide again against a champion "
        "another run produced"
    )
    return PromotionOutcome(PromotionDecision(False, note), now, overridden=note, recorded=intent)


def enter_canary(run: RunContext, version: str, scores: HoldoutScores) -> PromotionOutcome:
    """Canary strategy: a candidate that passes the policy becomes the challenger, not the champion.

    One canary at a time: while another challenger is in shadow, the candidate is registered but
    not deployed (a restarted canary would never finish under daily retraining). With no champion
    there is nothing to shadow, and a forced promotion skips the canary: both go straight to
    champion.
    """
    registry = run.registry
    for _ in range(MAX_CAS_ATTEMPTS):
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
        try:
            start_canary(
                registry,
                version,
                expected=slot,
                required=required,
                run_key=run.run_key,
                audit=_audit(run),
                reason=reason,
            )
        except ConcurrentUpdate:
            continue
        return PromotionOutcome(
            PromotionDecision(False, reason, decision.significance), champion.version, challenger=True
        )
    raise ConcurrentUpdate(f"aliases of {run.config.name} kept changing; gave up after {MAX_CAS_ATTEMPTS} attempts")


def advance_canary(run: RunContext, scores: HoldoutScores) -> dict[str, Any] | None:
    """Score the challenger next to the champion on this run's holdout and act on the result.

    A run counts once (a re-run of the same run key adds nothing); ``canary_runs`` wins in a row
    make the challenger champion, one loss removes it with a ``rejected`` event. Returns what
    happened, for the promote manifest, or None without a challenger.
    """
    registry = run.registry
    audit = _audit(run)
    for _ in range(MAX_CAS_ATTEMPTS):
        _, canary = challenger_alias(registry)
        if canary is None:
            return None
        champion = registry.get_alias(CHAMPION)
        champion_version = champion.version if champion else None
        progress = {"version": canary.version, "wins": canary.wins, "required": canary.required}
        try:
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
        except ConcurrentUpdate:
            continue
        registry.mirror_previous(pointer, **audit)
        _record_graduation(registry, pointer)
        _clear_graduated(registry, canary.version, audit)
        return {**progress, "wins": canary.required, "result": "promoted", "reason": reason}
    raise ConcurrentUpdate(f"aliases of {run.config.name} kept changing; gave up after {MAX_CAS_ATTEMPTS} attempts")


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


def _clear_graduated(registry: ModelRegistry, version: str, audit: Mapping[str, str]) -> None:
    """Remove a challenger that just became champion (unless someone replaced it meanwhile)."""
    for _ in range(MAX_CAS_ATTEMPTS):
        _, canary = challenger_alias(registry)
        if canary is None or canary.version != version:
            return
        try:
            end_canary(registry, canary, audit=audit, reason=f"{version} won its canary and is champion")
            return
        except ConcurrentUpdate:
            continue


def _audit(run: RunContext) -> dict[str, str]:
    return {"run_id": run.run_id, "triggered_by": run.triggered_by}
