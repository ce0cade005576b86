"""Randomized soak of the registry: concurrent promoters and rollbacks under injected faults.

``python -m benchmarks.run soak`` (part of ``make bench``) or ``python -m benchmarks.bench_soak
--rounds 500 --seed 3`` runs it alone. Against the loopback S3 endpoint (which decides
conditional writes atomically, as S3 does) through the fault proxy, each round:

1. arms a few random faults on the proxy (answers lost after the write committed, 500s and
   503s the client retries, 403s it does not, a champion write held for a moment then delivered
   late, deployed.json failing for longer than the client's retries);
2. starts 2 to 4 actors at once, each a thread with its own client built as the tasks build
   theirs (the shipped StorageConfig: attempts and timeouts): a new run promoting a new version,
   an explicit rollback (to a random version, naming the champion it saw when asked), an
   implicit one (no target, asked for at the round's start), or a late retry of an earlier
   promote or rollback run (an Airflow retry or a cleared run: same run id);
3. runs each actor as Airflow runs a task: an infra failure is retried (up to 3 retries, same
   run id), a refused rollback or other data failure is not;
4. once every actor has finished, checks that ``deployed.json`` serves the champion (unless a
   task failed for good that round: more faults hit it than it has retries, and its run fails
   visibly; then the next publish catches up, and the final state is checked with the rest).

Then :mod:`benchmarks.registry_invariants` checks the whole registry's history, and every
promote run's final outcome is checked against it: a run that says it promoted did move the
champion, one that says it did not never did.

A promote actor does what the ``promote`` task does with the registry, in the same order and
through the same functions (``register``, the ``registered`` event, ``promote_to_champion``,
the ``rejected`` event, ``publish``); only the scoring is replaced: each version has a random
metric value, and a candidate is promoted when its value beats the champion's (training and
scoring real models would make a round take seconds and add nothing the registry sees).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from benchmarks.registry_invariants import INVARIANTS, check_registry

BUCKET = "retrain-soak"
PREFIX = "soak"
MAX_TRIES = 4  # a task's first attempt and Airflow's 3 retries
ROUND_TIMEOUT = 600.0


@dataclass
class SoakScores:
    """Stands in for HoldoutScores: a fixed metric value per version, higher is better."""

    values: dict[str, float]
    candidate: str

    def decide(self, champion_version: str | None) -> Any:
        from include.retrain.promotion.policy import PromotionDecision

        ours = self.values[self.candidate]
        if champion_version is None:
            return PromotionDecision(True, f"first champion ({ours:.3f})")
        theirs = self.values.get(champion_version)
        if theirs is None or ours > theirs:
            return PromotionDecision(True, f"{ours:.3f} beats {champion_version} ({theirs})")
        return PromotionDecision(False, f"{ours:.3f} does not beat {champion_version} ({theirs:.3f})")


@dataclass
class Actor:
    kind: str  # promote | rollback_explicit | rollback_implicit (a retry keeps its first kind)
    run_id: str
    params: dict[str, Any]
    retry_of: str | None = None
    tries: int = 0
    outcome: dict[str, Any] | None = None
    error: str | None = None
    data_failure: bool = False


@dataclass
class SoakWorld:
    config: Any
    endpoint_url: str
    rng: random.Random
    values: dict[str, float] = field(default_factory=dict)
    versions: list[str] = field(default_factory=list)
    finished: list[Actor] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def client(self) -> Any:
        """A client as ``runner.s3_client`` builds it from the shipped StorageConfig (no Airflow here)."""
        from dev.local_s3 import loopback_client
        from include.retrain.storage import client_config

        return loopback_client(self.endpoint_url, client_config(self.config.storage))

    def registry(self) -> Any:
        from include.retrain.registry import ModelRegistry
        from include.retrain.storage import ArtifactStore

        return ModelRegistry(ArtifactStore(self.client(), BUCKET, PREFIX), self.config.name)


# -- the tasks -----------------------------------------------------------------------------------

_MODEL: bytes | None = None


def _model_bytes() -> bytes:
    """One small allowlisted model (rollback loads the target's model before moving anything)."""
    global _MODEL
    if _MODEL is None:
        import numpy as np
        from sklearn.linear_model import LogisticRegression

        from include.retrain.modelio import dump_model

        x = np.array([[0.0], [1.0], [2.0], [3.0]])
        _MODEL = dump_model(LogisticRegression().fit(x, [0, 0, 1, 1]))
    return _MODEL


def promote_task(world: SoakWorld, actor: Actor) -> dict[str, Any]:
    """The registry part of the ``promote`` task (``include.retrain.tasks.promote``), in its order."""
    from include.retrain.context import RunContext
    from include.retrain.promotion.deploy import publish
    from include.retrain.promotion.promote import promote_to_champion

    version = actor.params["version"]
    run = RunContext.create(
        world.config,
        params={},
        data_interval_end=actor.params["window_end"],
        run_id=actor.run_id,
        triggered_by="soak",
        client=world.client(),
    )
    registry = run.registry
    value = world.values[version]
    files = {"model.skops": _model_bytes(), "metrics.json": json.dumps({"value": value}).encode()}
    record, _ = registry.register(version, files, {"inputs_sha256": version, "value": value, "run_id": run.run_id})
    audit = {"run_id": run.run_id, "triggered_by": run.triggered_by}
    ours = registry.record_registered(record, reason=f"value={value:.4f}", **audit)
    outcome = promote_to_champion(run, version, SoakScores(world.values, version))
    already_champion = outcome.compared_with == version
    if ours and not (outcome.promoted or outcome.challenger or outcome.overridden or already_champion):
        at = (outcome.recorded or {}).get("recorded_at")
        details = {"compared_with": outcome.compared_with}
        registry.record_rejected(version, reason=outcome.decision.reason, details=details, at=at, **audit)
    deployed = publish(registry, world.config.deployment, audit=audit, get_connection=None)
    return {
        "version": version,
        "promoted": outcome.promoted,
        "overridden": outcome.overridden,
        "reason": outcome.decision.reason,
        "deployed": deployed.version if deployed else None,
    }


def rollback_task(world: SoakWorld, actor: Actor) -> dict[str, Any]:
    from include.retrain.promotion.rollback import rollback_champion

    return rollback_champion(
        world.registry(),
        world.config.deployment,
        to_version=actor.params.get("to_version", ""),
        reason="soak rollback",
        audit={"run_id": actor.run_id, "triggered_by": "soak"},
        expected_champion=actor.params.get("expected_champion", ""),
        requested_at=actor.params.get("requested_at"),
    )


def run_actor(world: SoakWorld, actor: Actor) -> None:
    """Run one task as Airflow would: infra failures retried with the same run id, data failures not."""
    from include.retrain.errors import PipelineFailure

    task = promote_task if actor.kind == "promote" else rollback_task
    for _ in range(MAX_TRIES):
        actor.tries += 1
        try:
            actor.outcome = task(world, actor)
            actor.error = None
            return
        except PipelineFailure as exc:  # AirflowFailException in the task: no retry
            actor.error, actor.data_failure = f"{type(exc).__name__}: {exc}"[:300], True
            return
        except Exception as exc:  # infra: Airflow retries the task
            actor.error = f"{type(exc).__name__}: {exc}"[:300]
            time.sleep(world.rng.uniform(0.0, 0.2))


# -- rounds --------------------------------------------------------------------------------------


def arm_faults(proxy: Any, rng: random.Random) -> list[str]:
    """0 to 3 faults from the catalogue, each for one or a few matching requests."""
    catalogue = [
        lambda: proxy.lose_response("PUT", "aliases/champion.json"),
        lambda: proxy.lose_response("PUT", "registry/deployed.json"),
        lambda: proxy.lose_response("PUT", "registry/events/"),
        lambda: proxy.lose_response("PUT", "registry/intents/"),
        lambda: proxy.lose_response("PUT", "manifest.json"),
        lambda: proxy.lose_response("PUT", "aliases/previous.json"),
        lambda: proxy.fail("PUT", "registry/events/", status=500, times=rng.randint(1, 3)),
        lambda: proxy.fail("PUT", "aliases/champion.json", status=503, times=rng.randint(1, 2)),
        lambda: proxy.fail("GET", "aliases/champion.json", status=500, times=rng.randint(1, 3)),
        # Errors the client does not retry (or more 500s than it has attempts): the task fails
        # part way and Airflow retries it.
        lambda: proxy.fail("PUT", "registry/deployed.json", status=403, times=rng.randint(1, 2)),
        lambda: proxy.fail("PUT", "aliases/champion.json", status=403),
        lambda: proxy.fail("PUT", "registry/events/", status=403),
        lambda: proxy.fail("PUT", "registry/intents/", status=403),
        lambda: proxy.fail("PUT", "registry/deployed.json", status=500, times=10),
        lambda: proxy.hang("PUT", "aliases/champion.json", seconds=rng.uniform(0.2, 1.0), then="forward"),
    ]
    picked = rng.sample(range(len(catalogue)), rng.randint(0, 3))
    for index in picked:
        catalogue[index]()
    return [str(i) for i in picked]


def plan_round(world: SoakWorld, number: int) -> list[Actor]:
    rng, registry = world.rng, world.registry()
    champion = registry.get_alias("champion")
    now = datetime.now(UTC)
    actors: list[Actor] = []
    for slot in range(rng.randint(2, 4)):
        run_id = f"soak__r{number:04d}_{slot}"
        roll = rng.random()
        earlier = [a for a in world.finished if a.retry_of is None]
        if champion is None or roll < 0.45 or not world.versions:
            window_end = date(2026, 1, 1) + timedelta(days=number)
            version = f"v{window_end:%Y%m%d}-{rng.getrandbits(40):010x}"
            with world.lock:
                world.values[version] = rng.random()
                world.versions.append(version)
            actors.append(Actor("promote", run_id, {"version": version, "window_end": window_end}))
        elif roll < 0.60:
            target = rng.choice(world.versions)
            actors.append(
                Actor("rollback", run_id, {"to_version": target, "expected_champion": champion.version or ""})
            )
        elif roll < 0.75:
            actors.append(Actor("rollback", run_id, {"requested_at": now}))
        elif earlier:
            first = rng.choice(earlier)
            actors.append(Actor(first.kind, first.run_id, first.params, retry_of=first.run_id))
    return actors


def run_round(world: SoakWorld, proxy: Any, number: int) -> dict[str, Any]:
    actors = plan_round(world, number)
    faults = arm_faults(proxy, world.rng)
    threads = [threading.Thread(target=run_actor, args=(world, a), daemon=True) for a in actors]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + ROUND_TIMEOUT
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    stuck = sum(t.is_alive() for t in threads)
    proxy.clear()
    world.finished.extend(a for a in actors if a.outcome is not None or a.data_failure)

    from include.retrain.promotion.deploy import read_deployed

    registry = world.registry()
    champion, deployed = registry.get_alias("champion"), read_deployed(registry)
    at_rest = {
        "champion": champion.version if champion else None,
        "deployed": deployed.version if deployed else None,
    }
    return {
        "round": number,
        "faults": faults,
        "actors": [
            {
                "kind": a.kind,
                "run_id": a.run_id,
                "retry_of": a.retry_of,
                "tries": a.tries,
                "ok": a.outcome is not None,
                "data_failure": a.data_failure,
                "error": a.error if a.outcome is None else None,
                "promoted": (a.outcome or {}).get("promoted"),
                "overridden": bool((a.outcome or {}).get("overridden")),
            }
            for a in actors
        ],
        "stuck": stuck,
        **at_rest,
    }


def check_outcomes(world: SoakWorld, client: Any) -> list[str]:
    """Each promote run's final manifest against the history.

    ``promoted: true``: its run moved the champion. ``promoted: false`` without ``overridden``:
    it never did. ``overridden`` (a retry that found the champion moved by another actor) may go
    either way, but if its run did move the champion, a later write has replaced that move.
    """
    from benchmarks.registry_invariants import _history

    registry_root = f"{PREFIX}/{world.config.name}/registry/"
    writes = [w.payload for w in _history(client, BUCKET, registry_root + "aliases/champion.json")]
    moved = {(w["run_id"], w["version"]) for w in writes}
    current = writes[0] if writes else None  # S3 lists a key's versions newest first
    wrong = []
    last: dict[str, Actor] = {}
    for actor in world.finished:
        if actor.kind == "promote" and actor.outcome is not None:
            last[actor.run_id] = actor
    for run_id, actor in last.items():
        outcome = actor.outcome or {}
        version = actor.params["version"]
        did = (run_id, version) in moved
        if outcome.get("overridden"):
            if did and current is not None and (current["run_id"], current["version"]) == (run_id, version):
                wrong.append(f"{run_id}: says another actor overrode it, but its move is the current champion")
            continue
        if bool(outcome.get("promoted")) != did:
            wrong.append(
                f"{run_id}: its manifest says promoted={bool(outcome.get('promoted'))}, the history says {did}"
            )
    return wrong


def soak(rounds: int = 200, seed: int = 17, verbose: bool = False) -> dict[str, Any]:
    from dev.local_s3 import LocalS3
    from include.retrain.config import DEFAULT_PIPELINES_DIR, load_pipeline
    from tests.faults.proxy import fault_proxy_for

    base = load_pipeline(DEFAULT_PIPELINES_DIR / "churn.yaml")
    config = base.model_copy(
        update={
            "storage": base.storage.model_copy(update={"bucket": BUCKET, "prefix": PREFIX}),
            "deployment": base.deployment.model_copy(update={"strategy": "direct", "notify_conn_id": None}),
        }
    )
    started = time.perf_counter()
    with LocalS3() as s3, fault_proxy_for(s3.endpoint_url) as proxy:
        direct = s3.client()
        direct.create_bucket(Bucket=BUCKET)
        direct.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        world = SoakWorld(config=config, endpoint_url=proxy.endpoint_url, rng=random.Random(seed))
        log = []
        for number in range(rounds):
            entry = run_round(world, proxy, number)
            log.append(entry)
            if verbose:
                print(json.dumps(entry), flush=True)
        report = check_registry(direct, BUCKET, f"{PREFIX}/{config.name}/registry")
        wrong_manifests = check_outcomes(world, direct)
        faults_fired = sum(1 for seen in proxy.requests if seen.fault)
        requests = len(proxy.requests)

    actors = [a for entry in log for a in entry["actors"]]
    registered_by_finished_runs = {
        a.params["version"] for a in world.finished if a.kind == "promote" and a.outcome is not None
    }
    missing_registered = sorted(set(report.versions_without_registered_event) & registered_by_finished_runs)
    # After a round in which a task failed for good (more faults than its retries), the champion
    # may have moved without deployed.json following: that run failed, visibly, and the next
    # publish (any promote or rollback) catches up; the final state is checked with the registry.
    failed_for_good = {e["round"] for e in log if any(not a["ok"] and not a["data_failure"] for a in e["actors"])}
    lagging = [e for e in log if e["deployed"] != e["champion"]]
    at_rest = [
        f"round {e['round']}: deployed {e['deployed']}, champion {e['champion']}"
        for e in lagging
        if e["round"] not in failed_for_good
    ]
    violations = {**report.to_dict()["violation_counts"]}
    extra = {
        "deployed_follows_champion_after_each_round": at_rest,
        "manifest_tells_the_truth": wrong_manifests,
        "registered_event_of_finished_runs": missing_registered,
        "actors_stuck": [f"round {e['round']}" for e in log if e["stuck"]],
    }
    for name, found in extra.items():
        if found:
            violations[name] = len(found)
    return {
        "rounds": rounds,
        "seed": seed,
        "seconds": round(time.perf_counter() - started, 1),
        "actors": len(actors),
        "actors_by_kind": _count(f"{a['kind']}{' retry' if a['retry_of'] else ''}" for a in actors),
        "promotions": sum(1 for a in actors if a["promoted"] and not a["overridden"]),
        "overridden_promotions": sum(1 for a in actors if a["overridden"]),
        "rollbacks_done": sum(1 for a in actors if a["kind"] == "rollback" and a["ok"]),
        "rollbacks_refused": sum(1 for a in actors if a["kind"] == "rollback" and a["data_failure"]),
        "task_retries": sum(max(0, a["tries"] - 1) for a in actors),
        "tasks_failed_after_retries": sum(1 for a in actors if not a["ok"] and not a["data_failure"]),
        "requests": requests,
        "faults_injected": faults_fired,
        "registry": report.to_dict(),
        "invariants_checked": [*INVARIANTS, *extra],
        "violations": violations,
        "violation_examples": {**report.to_dict()["violations"], **{k: v[:10] for k, v in extra.items() if v}},
        "failed_task_errors": sorted({a["error"] for a in actors if a["error"] and not a["ok"]})[:20],
        "rounds_with_a_task_failed_for_good": sorted(failed_for_good),
        "deployed_lagging_after_a_task_failed_for_good": [
            f"round {e['round']}: deployed {e['deployed']}, champion {e['champion']}"
            for e in lagging
            if e["round"] in failed_for_good
        ],
    }


def _count(items: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    return counts


def run() -> dict[str, Any]:
    """For ``benchmarks.run``: 200 rounds; the headline is the number of invariant violations."""
    result = soak()
    return {"soak": result, "soak_violations": sum(result["violations"].values()), "soak_rounds": result["rounds"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--verbose", action="store_true", help="print each round as a JSON line")
    args = parser.parse_args(argv)
    result = soak(args.rounds, args.seed, args.verbose)
    print(json.dumps(result, indent=2, default=str))
    return 0 if not result["violations"] else 1


if __name__ == "__main__":
    sys.exit(main())
