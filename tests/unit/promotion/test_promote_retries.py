"""The promote task under faults and retries: every change happens once and is recorded once.

Real task bodies (``tests.step_driver``) on the real loopback S3. A fault is injected into one
request of the promote task (``tests.unit.fault_client``), then the task body runs again with the
same run, as Airflow's retry does. The same cases run through Airflow's own retry in
``tests/faults``.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError

from include.retrain.promotion.canary import CHALLENGER
from include.retrain.promotion.deploy import read_deployed
from include.retrain.promotion.rollback import rollback_champion
from include.retrain.registry import CHAMPION
from include.retrain.webhook import WebhookFailed
from tests.step_driver import STUMP, StepDriver, churn_config
from tests.unit.fault_client import FaultyClient

GOOD = {"max_iter": 10, "max_leaf_nodes": 8}


def kinds(driver: StepDriver, version: str) -> Counter[str]:
    return Counter(e["event"] for e in driver.registry.events() if e["version"] == version)


@pytest.fixture
def driver(s3: Any) -> StepDriver:
    """Churn with ten landing days and a first champion P (a stump) from window day 8."""
    driver = StepDriver(churn_config(), s3.client())
    driver.write_landing(10)
    driver.run(8, {"model_params": STUMP})
    return driver


def faulty(driver: StepDriver, suffix: str, fault: str) -> StepDriver:
    return StepDriver(driver.config, FaultyClient(driver.client, suffix, fault), driver.get_connection)


def promote_with_fault(driver: StepDriver, suffix: str, fault: str, params: dict[str, Any]) -> tuple[Any, Any]:
    """Run day 9 up to evaluate, then promote with one injected fault; returns (run, manifests)."""
    run, manifests = driver.evaluate(9, params)
    broken = faulty(driver, suffix, fault)
    with pytest.raises(EndpointConnectionError):
        broken.promote(broken.context(run.window.end, params), manifests)
    return run, manifests


def test_a_lost_response_on_the_champion_write_is_a_promotion(driver: StepDriver) -> None:
    previous = driver.registry.get_alias(CHAMPION).version
    run, manifests = driver.evaluate(9, {"model_params": GOOD})
    lossy = faulty(driver, "/aliases/champion.json", "lose_response")

    result = lossy.promote(lossy.context(run.window.end, {"model_params": GOOD}), manifests)

    assert lossy.client.injected == 1
    version = result["version"]
    assert (result["promoted"], result["champion"]) == (True, version)
    assert kinds(driver, version) == Counter(registered=1, promoted=1, deployed=1)  # no "rejected"
    assert driver.registry.get_alias("previous").version == previous
    assert read_deployed(driver.registry).version == version


@pytest.mark.parametrize(
    ("suffix", "lost"),
    [
        ("/manifest.json", "registered"),  # the first one promote writes is the version's commit marker
        ("/aliases/champion.json", "promoted"),
        ("/registry/deployed.json", "deployed"),
    ],
    ids=["after-version-commit", "after-champion-write", "after-deployed-switch"],
)
def test_a_retry_after_a_fault_between_a_change_and_its_event_records_it_once(
    driver: StepDriver, suffix: str, lost: str
) -> None:
    params = {"model_params": GOOD}
    run, manifests = promote_with_fault(driver, suffix, "fail_after", params)

    result = driver.promote(driver.context(run.window.end, params), manifests)  # Airflow's retry

    version = result["version"]
    assert (result["promoted"], result["champion"]) == (True, version)
    assert kinds(driver, version) == Counter(registered=1, promoted=1, deployed=1)
    assert read_deployed(driver.registry).version == version


def test_a_retry_after_the_challenger_write_records_canary_started_once(s3: Any) -> None:
    driver = StepDriver(churn_config(deployment={"strategy": "canary", "canary_runs": 2}), s3.client())
    driver.write_landing(10)
    driver.run(8, {"model_params": STUMP})
    params = {"model_params": GOOD}
    run, manifests = promote_with_fault(driver, "/aliases/challenger.json", "fail_after", params)

    result = driver.promote(driver.context(run.window.end, params), manifests)

    assert result["challenger"] is True
    assert driver.registry.get_alias(CHALLENGER).version == result["version"]
    assert kinds(driver, result["version"]) == Counter(registered=1, canary_started=1)


def test_a_promote_retry_after_a_rollback_does_not_promote_again(s3: Any, hook_receiver: Any) -> None:
    """Run X promotes, its hook fails, ops roll back to P, Airflow retries X's promote."""
    from airflow.sdk import BaseHook

    hooked = churn_config(deployment={"notify_conn_id": "deploy_hook", "notify_timeout_seconds": 2})
    driver = StepDriver(hooked, s3.client(), get_connection=BaseHook.get_connection)
    driver.write_landing(10)
    previous = driver.run(8, {"model_params": STUMP})["version"]
    params = {"model_params": GOOD}
    run, manifests = driver.evaluate(9, params)
    hook_receiver.status = 503
    with pytest.raises(WebhookFailed):
        driver.promote(run, manifests)
    version = driver.registry.get_alias(CHAMPION).version
    assert version != previous
    hook_receiver.status = 200
    ops = {"run_id": "manual__rollback", "triggered_by": "manual:ops"}
    rollback_champion(
        driver.registry,
        hooked.deployment,
        to_version="",
        reason="bad",
        audit=ops,
        get_connection=BaseHook.get_connection,
    )
    assert driver.registry.get_alias(CHAMPION).version == previous

    result = driver.promote(driver.context(run.window.end, params), manifests)  # the retry

    assert driver.registry.get_alias(CHAMPION).version == previous
    assert read_deployed(driver.registry).version == previous
    assert result["champion"] == previous
    assert result["promoted"] is False  # not champion as the run ends: no "new champion" notification
    assert result["overridden"]
    assert "does not promote again" in result["reason"]
    assert kinds(driver, version) == Counter(registered=1, promoted=1, deployed=1)
    assert [e["event"] for e in driver.registry.events()][-2:] == ["rolled_back", "deployed"]
    assert [json.loads(r["body"])["version"] for r in hook_receiver.requests][-2:] == [version, previous]


def test_a_dry_run_never_touches_the_real_runs_folder(driver: StepDriver, s3: Any) -> None:
    real = driver.run(9, {"model_params": GOOD})
    folder = driver.registry.store.key("churn", "runs") + "/"
    listed = s3.client().list_objects_v2(Bucket="retrain-artifacts", Prefix=folder)["Contents"]
    before = {item["Key"]: item["ETag"] for item in listed}
    real_keys = {key.split("/runs/")[1].split("/")[0] for key in before}

    dry = driver.run(9, {"model_params": GOOD, "dry_run": True})

    listed = s3.client().list_objects_v2(Bucket="retrain-artifacts", Prefix=folder)["Contents"]
    after = {item["Key"]: item["ETag"] for item in listed}
    assert {key: after[key] for key in before} == before  # nothing of the real runs changed
    assert dry["run_key"] not in real_keys
    assert dry["run_key"].startswith(real["run_key"] + "-dry-run-")
    assert any(f"/runs/{dry['run_key']}/promote/manifest.json" in key for key in after)


def test_a_champion_rewritten_together_with_its_manifest_is_refused_on_load(driver: StepDriver, s3: Any) -> None:
    """A bucket writer swaps the champion's model for another valid one and rewrites its manifest to match."""
    from include.retrain.errors import IntegrityError
    from include.retrain.storage import SHA256_METADATA_KEY, sha256_bytes

    registry = driver.registry
    champion = registry.get_alias(CHAMPION).version
    other = driver.run(9, {"model_params": GOOD, "dry_run": True})  # a valid model that is not the champion
    client = s3.client()
    trained = registry.store.key("churn", "runs", other["run_key"], "train", "model.skops")
    forged = client.get_object(Bucket="retrain-artifacts", Key=trained)["Body"].read()
    manifest_key = registry.key("versions", champion, "manifest.json")
    manifest = json.loads(client.get_object(Bucket="retrain-artifacts", Key=manifest_key)["Body"].read())
    manifest["files"]["model.skops"].update(sha256=sha256_bytes(forged), size=len(forged))
    client.put_object(
        Bucket="retrain-artifacts",
        Key=registry.key("versions", champion, "model.skops"),
        Body=forged,
        Metadata={SHA256_METADATA_KEY: sha256_bytes(forged)},
    )
    client.put_object(Bucket="retrain-artifacts", Key=manifest_key, Body=json.dumps(manifest).encode())
    registry.read_file(champion, "model.skops")  # consistent in itself

    with pytest.raises(IntegrityError, match=f"version {champion} of churn was rewritten"):
        driver.evaluate(10, {"model_params": GOOD})

    assert registry.get_alias(CHAMPION).version == champion
