"""The bundle on a production-shaped deployment: PostgreSQL, Redis, CeleryExecutor, two workers.

Driven only over the REST API, as a platform team would. The tests run in this order on one
stack (tests/cluster/stack.py): both shipped variants run to success with tasks on both workers;
a worker's whole process tree is killed while it trains and the run still succeeds, retried on
the other worker, with the registry's invariants intact; a rollback moves the champion and
``deployed.json`` with one event. Task logs go to the artifact store's S3 (remote logging).
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from include.retrain.config import DEFAULT_PIPELINES_DIR, load_pipeline
from include.retrain.registry import CHAMPION, ModelRegistry
from include.retrain.storage import ArtifactStore
from tests.cluster.conftest import SHIPPED

pytestmark = pytest.mark.cluster

RUN_TIMEOUT = 900


def registry_of(cluster: Any, name: str) -> tuple[ModelRegistry, str]:
    config = load_pipeline(DEFAULT_PIPELINES_DIR / f"{name}.yaml")
    store = ArtifactStore(cluster.s3.client(), config.storage.bucket, config.storage.prefix)
    return ModelRegistry(store, config.name), store.key(config.name, "registry") + "/"


def trigger(cluster: Any, dag_id: str, conf: dict[str, Any] | None = None) -> str:
    response = cluster.api.trigger(dag_id, conf=conf or {})
    assert response.status_code == 200, response.text
    return response.json()["dag_run_id"]


def wait(cluster: Any, dag_id: str, run_id: str) -> dict[str, Any]:
    try:
        return cluster.api.wait_for_run(dag_id, run_id, timeout=RUN_TIMEOUT)
    except TimeoutError as exc:
        raise AssertionError(f"{exc}\n{cluster.logs()}") from None


def instances(cluster: Any, dag_id: str, run_id: str) -> dict[str, dict[str, Any]]:
    return cluster.api.task_instances(dag_id, run_id)


@pytest.fixture
def report(capsys: pytest.CaptureFixture[str]) -> Any:
    """Print a measurement to the terminal, past pytest's capture."""

    def say(line: str) -> None:
        with capsys.disabled():
            print(f"\n[cluster] {line}", flush=True)

    return say


def check_invariants(cluster: Any, name: str) -> Any:
    from benchmarks.registry_invariants import check_registry

    _, prefix = registry_of(cluster, name)
    found = check_registry(cluster.s3.client(), "retrain-artifacts", prefix)
    assert found.ok, found.to_dict()
    assert found.champion is not None
    assert found.deployed == found.champion
    return found


def log_keys(cluster: Any) -> list[str]:
    """Every task log remote logging wrote to S3."""
    from tests.cluster.stack import LOG_BUCKET, LOG_PREFIX

    pages = cluster.s3.client().get_paginator("list_objects_v2").paginate(Bucket=LOG_BUCKET, Prefix=LOG_PREFIX + "/")
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def test_the_cluster_extras_are_installed() -> None:
    """`uv sync --locked --extra cluster`: the Celery executor, a Celery that works with it, the drivers."""
    from importlib.metadata import version

    import asyncpg  # noqa: F401  (Airflow derives postgresql+asyncpg from the sync URL)
    import psycopg2  # noqa: F401
    import redis  # noqa: F401
    from airflow.providers.celery.executors.celery_executor import CeleryExecutor  # noqa: F401

    major, minor = (int(part) for part in version("celery").split(".")[:2])
    assert (major, minor) < (5, 7), "celery 5.7.0 breaks the provider: cannot import name 'retry'"


def test_both_variants_run_to_success_with_tasks_on_both_workers(cluster: Any, report: Any) -> None:
    started = time.monotonic()
    runs = {f"retrain_{name}": trigger(cluster, f"retrain_{name}") for name in SHIPPED}
    for dag_id, run_id in runs.items():
        finished = wait(cluster, dag_id, run_id)
        assert finished["state"] == "success", (dag_id, cluster.api.task_states(dag_id, run_id), cluster.logs())
    report(f"churn and demand ran concurrently to success in {time.monotonic() - started:.0f} s")

    hosts = {
        (dag_id, task): ti["hostname"]
        for dag_id, run_id in runs.items()
        for task, ti in instances(cluster, dag_id, run_id).items()
    }
    assert set(hosts.values()) == {"worker-a", "worker-b"}, hosts
    report(f"task instances per worker: {dict(Counter(hosts.values()))}")
    for name in SHIPPED:
        registry, _ = registry_of(cluster, name)
        assert registry.get_alias(CHAMPION) is not None, name
        check_invariants(cluster, name)

    # Remote logging: every task's log is in S3 under the log folder, and the API serves it from there.
    keys = log_keys(cluster)
    for dag_id, run_id in runs.items():
        logged = {task for task in instances(cluster, dag_id, run_id) if any(f"task_id={task}/" in k for k in keys)}
        assert logged == set(instances(cluster, dag_id, run_id)), (dag_id, keys[:20])
    text = cluster.api.task_log("retrain_churn", runs["retrain_churn"], "train", 1)
    assert "s3://" in text or "Found logs" in text or len(text) > 100, text[:2000]


def test_a_worker_lost_mid_train_is_survived(cluster: Any, report: Any) -> None:
    """SIGKILL to the whole tree of the worker running ``train`` (a lost node): the scheduler
    fails the attempt after the heartbeat timeout, Airflow retries it on the other worker."""
    name, dag_id = "churn", "retrain_churn"
    registry, _ = registry_of(cluster, name)
    before = registry.get_alias(CHAMPION)
    window_end = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    run_id = trigger(cluster, dag_id, {"window_end": window_end, "force_promote": True, "reason": "cluster suite"})

    lost, killed_at = kill_the_worker_running(cluster, dag_id, run_id, "train", report)

    finished = wait(cluster, dag_id, run_id)
    assert finished["state"] == "success", (cluster.api.task_states(dag_id, run_id), cluster.logs())
    train = instances(cluster, dag_id, run_id)["train"]
    assert train["try_number"] >= 2, train
    survivor = next(worker for worker in ("worker-a", "worker-b") if worker != lost)
    assert train["hostname"] == survivor, train
    recovered = datetime.fromisoformat(train["start_date"].replace("Z", "+00:00"))
    report(
        f"lost worker recovery: train try {train['try_number']} started on {survivor} "
        f"{(recovered - killed_at).total_seconds():.0f} s after the kill; run finished at {finished['end_date']}"
    )

    # The registry: the forced promotion happened once, champion registered, deployed follows it.
    found = check_invariants(cluster, name)
    after = registry.get_alias(CHAMPION)
    assert after.version != before.version
    assert found.champion == after.version
    promoted = [e for e in registry.events() if e["event"] == "promoted" and e["version"] == after.version]
    assert len(promoted) == 1, promoted

    # The retried attempt's log is in S3; the killed attempt never uploaded its own (docs/deployment.md).
    text = cluster.api.task_log(dag_id, run_id, "train", train["try_number"])
    assert len(text) > 100, text[:2000]
    logs = [key for key in log_keys(cluster) if f"run_id={run_id}/task_id=train/" in key]
    assert [key.rsplit("/", 1)[1] for key in logs] == [f"attempt={train['try_number']}.log"], logs

    cluster.restart_worker(lost)  # the node comes back for the next test


def test_a_worker_lost_during_a_gate_is_survived(cluster: Any, report: Any) -> None:
    """A lost worker is an infra fault for a gate too: ``validate_raw`` is retried on the other worker
    (gates used to have no retries, so this failed the run)."""
    dag_id = "retrain_demand"
    window_end = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    run_id = trigger(cluster, dag_id, {"window_end": window_end})
    lost, killed_at = kill_the_worker_running(cluster, dag_id, run_id, "validate_raw", report)

    finished = wait(cluster, dag_id, run_id)
    assert finished["state"] == "success", (cluster.api.task_states(dag_id, run_id), cluster.logs())
    gate = instances(cluster, dag_id, run_id)["validate_raw"]
    assert gate["try_number"] >= 2, gate
    assert gate["hostname"] != lost, gate
    recovered = datetime.fromisoformat(gate["start_date"].replace("Z", "+00:00"))
    after = (recovered - killed_at).total_seconds()
    report(f"lost worker recovery: validate_raw try {gate['try_number']} started {after:.0f} s after the kill")

    check_invariants(cluster, "demand")
    cluster.restart_worker(lost)


def kill_the_worker_running(cluster: Any, dag_id: str, run_id: str, task: str, report: Any) -> tuple[str, datetime]:
    """SIGKILL the whole tree of the worker that runs ``task`` as soon as it runs; (worker, when)."""

    def running() -> dict[str, Any] | None:
        ti = instances(cluster, dag_id, run_id).get(task) or {}
        if ti.get("state") in ("success", "failed"):
            raise AssertionError(f"{task} ended before the worker could be killed: {ti}")
        return ti if ti.get("state") == "running" and ti.get("hostname") else None

    found = _poll(running, 600, f"{task} to run on a worker", interval=0.2)
    lost = found["hostname"]
    killed = cluster.kill_worker(lost)
    report(f"killed {lost} ({killed} processes) while it ran {task} try {found['try_number']}")
    return lost, datetime.now(UTC)


def test_a_rollback_moves_champion_and_deployed_with_one_event(cluster: Any) -> None:
    from include.retrain.promotion.deploy import read_deployed

    registry, _ = registry_of(cluster, "churn")
    champion, previous = registry.get_alias(CHAMPION), registry.get_alias("previous")
    assert previous is not None
    assert previous.version != champion.version
    events = len(registry.events())

    run_id = trigger(cluster, "rollback_churn", {"reason": "cluster suite rollback"})
    finished = wait(cluster, "rollback_churn", run_id)

    assert finished["state"] == "success", (cluster.api.task_states("rollback_churn", run_id), cluster.logs())
    assert registry.get_alias(CHAMPION).version == previous.version
    assert read_deployed(registry).version == previous.version
    new = registry.events()[events:]
    assert [e["event"] for e in new if e["event"] == "rolled_back"] == ["rolled_back"], new
    check_invariants(cluster, "churn")


def _poll(condition: Any, timeout: float, what: str, interval: float = 0.25) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
