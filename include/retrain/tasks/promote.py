"""``promote``: register the candidate, apply the promotion policy, deploy the champion."""

from __future__ import annotations

from include.retrain import model_card
from include.retrain.context import RunContext
from include.retrain.manifests import (
    EvaluateManifest,
    FeaturesManifest,
    GateSummary,
    IngestManifest,
    PromoteManifest,
    TrainManifest,
)
from include.retrain.promotion.canary import advance_canary, enter_canary
from include.retrain.promotion.deploy import publish
from include.retrain.promotion.moves import run_audit
from include.retrain.promotion.promote import promote_to_champion
from include.retrain.promotion.register import candidate_version, record_rejection, register_candidate, version_files
from include.retrain.promotion.scores import HoldoutScores
from include.retrain.registry import CHAMPION
from include.retrain.tasks.record import record


def promote(
    run: RunContext,
    ingested: IngestManifest,
    features: FeaturesManifest,
    trained: TrainManifest,
    evaluated: EvaluateManifest,
    gates: list[GateSummary],
) -> PromoteManifest:
    """Register the candidate as an immutable version, apply the promotion policy, deploy the champion.

    The strategy (``deployment.strategy``) decides what passing the policy means: ``direct`` and
    ``blue_green`` move the champion alias by compare-and-swap (re-deciding if another run moved
    it first); ``canary`` first scores a running challenger, then makes the candidate the
    challenger. Finally ``deployed.json`` is made to serve whatever the champion is now. A dry
    run decides but writes nothing to the registry.
    """
    deployment = run.config.deployment
    version = candidate_version(run, ingested)
    scores = HoldoutScores(run, features, evaluated)
    if run.options.dry_run:
        return _decide_only(run, version, scores, evaluated)
    card = model_card.build_card(run, version, ingested, features, trained, evaluated, gates)
    files = version_files(run, card, features, trained, evaluated)
    created, ours = register_candidate(run, version, files, ingested, evaluated)
    # A canary first scores the running challenger, then makes the candidate the challenger.
    canary = advance_canary(run, scores) if deployment.strategy == "canary" else None
    move = enter_canary if deployment.strategy == "canary" else promote_to_champion
    outcome = move(run, version, scores)
    record_rejection(run, version, outcome, registered_here=ours)
    deployed = publish(run.registry, deployment, audit=run_audit(run), get_connection=run.get_connection)
    final = run.registry.get_alias(CHAMPION)
    manifest = PromoteManifest(
        run=run.describe(),
        version=version,
        registered=created,
        promoted=outcome.promoted,
        challenger=outcome.challenger,
        overridden=outcome.overridden,
        reason=outcome.decision.reason,
        compared_with=outcome.compared_with,
        significance=outcome.significance,
        champion=final.version if final else None,
        strategy=deployment.strategy,
        canary=canary,
        deployed={"version": deployed.version, "slot": deployed.slot} if deployed else None,
    )
    return record(run, manifest)


def _decide_only(run: RunContext, version: str, scores: HoldoutScores, evaluated: EvaluateManifest) -> PromoteManifest:
    """A dry run: the policy's decision against the champion at evaluation, nothing registered."""
    decision = scores.decide(evaluated.champion_version)
    manifest = PromoteManifest(
        run=run.describe(),
        version=version,
        dry_run=True,
        would_promote=decision.promote,
        reason=f"dry run, nothing registered: {decision.reason}",
        significance=decision.significance.to_dict() if decision.significance else None,
        champion=evaluated.champion_version,
    )
    return record(run, manifest)
