"""The soak's invariant checker sees each kind of broken registry history, and passes a sound one.

A sound history comes from the soak's own tasks (the registry's real promote and rollback code)
on the loopback endpoint; each broken one adds what a bug would leave behind, written straight
to the bucket: a champion write with no event, a second event for one change, a lost update,
a rolled-back version brought back by a stale decision, a deployment that lags the champion.
"""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest

from benchmarks import bench_soak
from benchmarks.bench_soak import BUCKET, PREFIX, Actor, SoakWorld
from benchmarks.registry_invariants import check_registry
from dev.local_s3 import LocalS3
from include.retrain.config import DEFAULT_PIPELINES_DIR, load_pipeline

ROOT = f"{PREFIX}/churn/registry/"


@pytest.fixture
def world(s3: LocalS3) -> SoakWorld:
    client = s3.client()
    client.create_bucket(Bucket=BUCKET)
    client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    base = load_pipeline(DEFAULT_PIPELINES_DIR / "churn.yaml")
    config = base.model_copy(
        update={
            "storage": base.storage.model_copy(update={"bucket": BUCKET, "prefix": PREFIX}),
            "deployment": base.deployment.model_copy(update={"strategy": "direct", "notify_conn_id": None}),
        }
    )
    return SoakWorld(config=config, endpoint_url=s3.endpoint_url, rng=random.Random(1))


def _promote(world: SoakWorld, run: str, version: str, value: float) -> dict[str, Any]:
    world.values[version] = value
    actor = Actor("promote", run, {"version": version, "window_end": date(2026, 1, 1)})
    return bench_soak.promote_task(world, actor)


def _sound_history(world: SoakWorld) -> dict[str, str]:
    """A promoted, B promoted over A, then an implicit rollback B -> A: all by the real code."""
    a, b = "v20260101-aaaaaaaaaa", "v20260102-bbbbbbbbbb"
    assert _promote(world, "run_a", a, 0.5)["promoted"]
    assert _promote(world, "run_b", b, 0.9)["promoted"]
    rollback = Actor("rollback", "run_rb", {"requested_at": datetime.now(UTC)})
    assert bench_soak.rollback_task(world, rollback)["champion"] == a
    return {"a": a, "b": b}


def _champion(client: Any) -> dict[str, Any]:
    return json.loads(client.get_object(Bucket=BUCKET, Key=ROOT + "aliases/champion.json")["Body"].read())


def _forge_champion(client: Any, version: str, replaced: dict[str, Any], run_id: str) -> dict[str, Any]:
    payload = {**_champion(client), "version": version, "run_id": run_id, "reason": "forged"}
    payload |= {"change_id": uuid.uuid4().hex, "replaced": replaced}
    client.put_object(Bucket=BUCKET, Key=ROOT + "aliases/champion.json", Body=json.dumps(payload).encode())
    return payload


def _violated(client: Any) -> set[str]:
    return {name for name, found in check_registry(client, BUCKET, ROOT).violations.items() if found}


def test_a_sound_history_passes(world: SoakWorld, s3: LocalS3) -> None:
    _sound_history(world)
    report = check_registry(s3.client(), BUCKET, ROOT)
    assert report.ok, report.to_dict()
    assert (report.champion_writes, report.deployed_writes) == (3, 3)
    assert report.events == {"registered": 2, "promoted": 2, "rolled_back": 1, "deployed": 3}


def test_a_champion_write_without_its_event_or_decision_is_found(world: SoakWorld, s3: LocalS3) -> None:
    versions = _sound_history(world)
    client = s3.client()
    current = _champion(client)
    _forge_champion(client, versions["b"], {"change_id": current["change_id"], "version": versions["a"]}, "ghost")
    assert _violated(client) >= {
        "one_event_per_champion_change",
        "decided_against_what_it_replaced",
        "no_return_without_a_new_decision",
        "deployed_follows_champion",
    }


def test_a_second_event_for_one_change_is_found(world: SoakWorld, s3: LocalS3) -> None:
    _sound_history(world)
    client = s3.client()
    key = next(
        k["Key"]
        for k in client.list_objects_v2(Bucket=BUCKET, Prefix=ROOT + "events/")["Contents"]
        if "-rolled_back-" in k["Key"]
    )
    event = client.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    client.put_object(Bucket=BUCKET, Key=key.replace(".json", "-again.json"), Body=event)
    assert _violated(client) == {"one_event_per_champion_change"}


def test_a_lost_update_is_found(world: SoakWorld, s3: LocalS3) -> None:
    """Two writes that replaced the same champion write: one of them never saw the other."""
    versions = _sound_history(world)
    client = s3.client()
    current = _champion(client)
    _forge_champion(client, versions["b"], dict(current["replaced"]), "racer")  # replaces what the rollback replaced
    assert "champion_history_is_one_chain" in _violated(client)


def test_deployed_lagging_the_champion_is_found(world: SoakWorld, s3: LocalS3) -> None:
    _sound_history(world)
    client = s3.client()
    deployed = json.loads(client.get_object(Bucket=BUCKET, Key=ROOT + "deployed.json")["Body"].read())
    client.put_object(
        Bucket=BUCKET,
        Key=ROOT + "deployed.json",
        Body=json.dumps({**deployed, "version": "v20260102-bbbbbbbbbb", "change_id": "x"}).encode(),
    )
    assert _violated(client) == {"one_event_per_deployment", "deployed_follows_champion"}


def test_a_short_soak_runs_clean() -> None:
    """The harness end to end (its own server, proxy and faults), a few rounds."""
    result = bench_soak.soak(rounds=4, seed=5)
    assert result["violations"] == {}, result["violation_examples"]
    assert result["actors"] >= 8


def test_make_bench_shows_the_soak_as_a_headline_row() -> None:
    from benchmarks.run import BENCHMARKS, headline_rows

    assert BENCHMARKS["soak"] is bench_soak.run
    results = {
        "soak_violations": 0,
        "soak": {"rounds": 200, "actors": 585, "faults_injected": 422, "task_retries": 73},
    }
    (row,) = headline_rows(results)
    assert row == (
        "soak_violations",
        "0 in 200 rounds (585 promote/rollback tasks, 422 faults injected, 73 task retries)",
        "<= 0",
        "yes",
    )
    assert headline_rows({**results, "soak_violations": 2})[0][3] == "NO"
