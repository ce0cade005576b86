"""The fault catalogue under a real scheduler: nothing lost, nothing wrongly promoted.

Network faults are real: the ``churn_faults`` variant reaches S3 only through a TCP proxy that
the tests take down, bring back, throttle, or watch for a request to kill the task making it.
Bad landing files are real files in the landing zone. Every scenario ends with the champion
either unchanged or moved by a complete, sha256-verified run.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from datetime import date

import pytest

from dev.local_airflow import wait_until
from dev.synthetic import GENERATORS
from dev.synthetic.landing import encode_frame, partition_key
from include.retrain.registry import CHAMPION
from tests.acceptance.conftest import (
    FAULTS,
    AirflowApi,
    LocalAirflow,
    S3Proxy,
    Variant,
    assert_run_folder_intact,
    isolation_records,
    trigger_and_wait,
    window,
)

pytestmark = pytest.mark.acceptance

ROWS = 120  # small windows: these scenarios are about faults, not models


def _trigger(api: AirflowApi, variant: Variant, window_end: date, conf: dict | None = None) -> str:
    response = api.trigger(variant.dag_id, conf={"window_end": window_end.isoformat(), **(conf or {})})
    assert response.status_code == 200, response.text
    return response.json()["dag_run_id"]


def _wait_for_task_state(
    api: AirflowApi, dag_id: str, run_id: str, task_id: str, state: str, timeout: float = 300
) -> None:
    wait_until(lambda: api.task_states(dag_id, run_id).get(task_id) == state, timeout, f"{task_id} to be {state}", 0.5)


def _champion_run(api: AirflowApi, variant: Variant) -> str:
    """Land data and make a first champion; returns its version."""
    variant.land(31, rows_per_day=ROWS)
    assert trigger_and_wait(api, variant.dag_id, window(29))["state"] == "success"
    return variant.registry.get_alias(CHAMPION).version


def test_s3_outage_within_the_retry_budget_is_ridden_out(
    api: AirflowApi, variants: dict[str, Variant], s3_proxy: S3Proxy
) -> None:
    faults = variants[FAULTS]
    faults.land(30, rows_per_day=ROWS)
    run_id = _trigger(api, faults, window(29))
    _wait_for_task_state(api, faults.dag_id, run_id, "train", "running")

    s3_proxy.down()
    time.sleep(8)
    s3_proxy.up()
    run = api.wait_for_run(faults.dag_id, run_id, timeout=420)

    assert run["state"] == "success", api.task_states(faults.dag_id, run_id)
    assert faults.registry.get_alias(CHAMPION) is not None
    assert assert_run_folder_intact(faults, "2026-01-30") >= 10


def test_s3_outage_past_the_retry_budget_fails_the_run_and_keeps_the_champion(
    api: AirflowApi, variants: dict[str, Variant], s3_proxy: S3Proxy
) -> None:
    faults = variants[FAULTS]
    champion = _champion_run(api, faults)
    run_id = _trigger(api, faults, window(30))
    _wait_for_task_state(api, faults.dag_id, run_id, "build_features", "running")

    s3_proxy.down()
    try:
        run = api.wait_for_run(faults.dag_id, run_id, timeout=420)
    finally:
        s3_proxy.up()

    assert run["state"] == "failed"
    instances = api.task_instances(faults.dag_id, run_id)
    assert instances["build_features"]["state"] == "failed"
    assert instances["build_features"]["try_number"] == 4  # the first attempt and 3 retries, then it gave up
    assert instances["promote"]["state"] == "upstream_failed"
    assert faults.registry.get_alias(CHAMPION).version == champion
    assert faults.registry.list_versions() == [champion]


def test_a_task_killed_mid_upload_is_retried_and_no_corrupt_artifact_is_accepted(
    api: AirflowApi, airflow: LocalAirflow, variants: dict[str, Variant], s3_proxy: S3Proxy
) -> None:
    faults = variants[FAULTS]
    faults.land(30, rows_per_day=ROWS)
    killed: list[dict] = []

    def kill_the_uploading_task() -> None:
        attempts = [r for r in isolation_records(airflow) if r["dag_id"] == faults.dag_id and r["task_id"] == "ingest"]
        killed.append(attempts[-1])
        os.kill(attempts[-1]["pid"], signal.SIGKILL)
        s3_proxy.throttle(None)

    s3_proxy.throttle(8_000)  # bytes/s: the raw window takes seconds to upload
    s3_proxy.on_request(
        f"PUT /retrain-artifacts/retraining/{FAULTS}/runs/2026-01-30/ingest/raw.parquet".encode(),
        kill_the_uploading_task,
    )
    try:
        run = trigger_and_wait(api, faults.dag_id, window(29))
    finally:
        s3_proxy.throttle(None)
        s3_proxy.clear_triggers()

    assert killed, "the upload was never seen"
    assert run["state"] == "success"
    ingest = api.task_instances(faults.dag_id, run["dag_run_id"])["ingest"]
    assert ingest["try_number"] == 2
    manifest = faults.store.read_json(faults.store.key(FAULTS, "runs", "2026-01-30", "ingest", "manifest.json"))
    raw = faults.store.ref_for(faults.store.key(FAULTS, "runs", "2026-01-30", "ingest", "raw.parquet"))
    assert raw.sha256 == manifest["artifacts"]["raw"]["sha256"]
    assert assert_run_folder_intact(faults, "2026-01-30") >= 10


def _corrupt_parquet(variant: Variant, day: date) -> None:
    body = encode_frame(GENERATORS["churn"](day, ROWS), "parquet")
    variant.client.put_object(
        Bucket="retrain-landing", Key=partition_key(variant.config.dataset, day), Body=body[: len(body) // 2]
    )


def _truncated_csv(variant: Variant, day: date) -> None:
    body = encode_frame(GENERATORS["demand"](day, ROWS), "csv")
    cut = body.rstrip(b"\n").rfind(b",")  # inside the last line: fewer fields, no final newline
    variant.client.put_object(Bucket="retrain-landing", Key=partition_key(variant.config.dataset, day), Body=body[:cut])


def _latin1_csv(variant: Variant, day: date) -> None:
    text = encode_frame(GENERATORS["demand"](day, ROWS), "csv").decode().replace("S01", "Säo")
    variant.client.put_object(
        Bucket="retrain-landing", Key=partition_key(variant.config.dataset, day), Body=text.encode("latin-1")
    )


def _oversized(variant: Variant, day: date) -> None:
    key = partition_key(variant.config.dataset, day).replace("part-0", "part-1")
    variant.client.put_object(Bucket="retrain-landing", Key=key, Body=os.urandom(3 * 1024 * 1024 // 2))


@pytest.mark.parametrize(
    ("name", "damage", "message"),
    [
        ("churn", _corrupt_parquet, "is not readable Parquet"),
        ("demand", _truncated_csv, "is truncated"),
        ("demand", _latin1_csv, "is not valid UTF-8 CSV"),
        (FAULTS, _oversized, "over the dataset.max_file_mb limit of 1 MiB"),
    ],
    ids=["corrupt-parquet", "truncated-csv", "non-utf8-csv", "file-over-size-limit"],
)
def test_bad_landing_files_fail_at_ingest_with_a_clear_message(
    api: AirflowApi, variants: dict[str, Variant], name: str, damage, message: str
) -> None:
    variant = variants[name]
    variant.land(30, rows_per_day=ROWS)
    damage(variant, window(20))

    run = trigger_and_wait(api, variant.dag_id, window(29))

    assert run["state"] == "failed"
    ingest = api.task_instances(variant.dag_id, run["dag_run_id"])["ingest"]
    assert ingest["state"] == "failed"
    assert ingest["try_number"] == 1  # a data failure is not retried
    assert message in api.task_log(variant.dag_id, run["dag_run_id"], "ingest", 1)
    assert variant.registry.get_alias(CHAMPION) is None


@pytest.mark.parametrize(
    ("dag", "conf", "param"),
    [
        ("rollback_churn", {"to_version": "../../etc/passwd", "reason": "x"}, "to_version"),
        ("rollback_churn", {"to_version": "/registry/versions/v1", "reason": "x"}, "to_version"),
        ("retrain_churn", {"window_end": "../2026-01-30"}, "window_end"),
    ],
    ids=["rollback-traversal", "rollback-absolute", "window-end-path"],
)
def test_path_like_params_are_refused_by_the_api(
    api: AirflowApi, variants: dict[str, Variant], dag: str, conf: dict, param: str
) -> None:
    response = api.trigger(dag, conf=conf)

    assert response.status_code in (400, 422), response.text
    assert f"param {param}" in response.text


def test_two_manual_runs_of_one_variant_take_turns_and_keep_the_registry_consistent(
    api: AirflowApi, variants: dict[str, Variant]
) -> None:
    churn = variants["churn"]
    churn.land(31, rows_per_day=ROWS)
    first = _trigger(api, churn, window(29))
    second = _trigger(api, churn, window(30))
    overlaps: list[dict] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            runs = api.get(f"/api/v2/dags/{churn.dag_id}/dagRuns", params={"state": "running", "limit": 10})["dag_runs"]
            if len(runs) > 1:
                overlaps.append({r["dag_run_id"]: r["state"] for r in runs})
            time.sleep(1)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        results = [api.wait_for_run(churn.dag_id, run_id, timeout=600) for run_id in (first, second)]
    finally:
        stop.set()
        watcher.join(timeout=10)

    assert [r["state"] for r in results] == ["success", "success"]
    assert overlaps == [], "max_active_runs=1 was not respected"
    assert results[0]["end_date"] <= results[1]["start_date"]
    versions = churn.registry.list_versions()
    assert len(versions) == len(set(versions)) == 2
    champion = churn.registry.get_alias(CHAMPION)
    assert champion.version in versions
    events = churn.registry.events()
    assert [e["event"] for e in events].count("registered") == 2
    promoted = [e["version"] for e in events if e["event"] == "promoted"]
    assert promoted[-1] == champion.version
    for run_key in ("2026-01-30", "2026-01-31"):
        assert assert_run_folder_intact(churn, run_key) >= 10
    assert json.dumps(churn.store.read_json(churn.registry.key("deployed.json")))  # a valid pointer was written
