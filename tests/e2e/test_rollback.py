"""rollback_<name> end to end through Airflow (dag.test) on the loopback S3, with a real HTTP hook.

Two versions are promoted first by the real task bodies (``tests.step_driver``: a weak model,
then a better one), on a blue/green variant whose deployment hook is an Airflow connection.
Then the rollback DAG runs as an operator would trigger it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from include.retrain.promotion.deploy import BLUE, GREEN, read_deployed
from include.retrain.registry import CHAMPION
from tests.asset_events import asset_events
from tests.e2e.conftest import PROJECT_ROOT, task_states
from tests.step_driver import STUMP, StepDriver, churn_config

pytestmark = pytest.mark.e2e

GOOD = {"max_iter": 10, "max_leaf_nodes": 8}


@pytest.fixture
def promoted_twice(
    s3: Any, aws_connection: str, airflow_db: Path, hook_receiver: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[StepDriver, str, str]:
    """A blue/green churn variant (its YAML is what the DAG file reads) with two promoted versions."""
    from airflow.sdk import BaseHook

    config = churn_config(deployment={"strategy": "blue_green", "notify_conn_id": "deploy_hook"})
    (tmp_path / "churn.yaml").write_text(yaml.safe_dump(config.model_dump(mode="json")))
    monkeypatch.setenv("RETRAIN_PIPELINES_DIR", str(tmp_path))
    driver = StepDriver(config, s3.client(), get_connection=BaseHook.get_connection)
    driver.write_landing(10)
    first = driver.run(8, {"model_params": STUMP})["version"]
    second = driver.run(9, {"model_params": GOOD})["version"]
    assert driver.registry.get_alias(CHAMPION).version == second
    assert [json.loads(r["body"])["version"] for r in hook_receiver.requests] == [first, second]
    return driver, first, second


def run_rollback(conf: dict[str, Any]) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags"))
    assert not bag.import_errors, bag.import_errors
    return bag.get_dag("rollback_churn").test(run_conf=conf)


def test_rollback_restores_the_previous_champion_and_records_both_events(
    promoted_twice: tuple[StepDriver, str, str], hook_receiver: Any
) -> None:
    driver, first, second = promoted_twice
    registry = driver.registry
    blue_slot = registry.get_alias(BLUE)
    assert (blue_slot.version, registry.get_alias(GREEN).version, read_deployed(registry).slot) == (
        first,
        second,
        GREEN,
    )

    model_events = len(asset_events("model/churn"))

    run = run_rollback({"reason": "incident 42: the new model mis-scores new customers"})

    assert str(run.state).endswith("success")
    champion = registry.get_alias(CHAMPION)
    assert (champion.version, champion.previous_version) == (first, second)
    assert champion.reason == "rollback: incident 42: the new model mis-scores new customers"
    assert registry.get_alias("previous").version == second
    deployed = read_deployed(registry)
    assert (deployed.version, deployed.slot, deployed.previous_version) == (first, BLUE, second)
    assert registry.get_alias(BLUE) == blue_slot  # blue still held the model: switched back, nothing loaded
    history = [(e["event"], e["version"]) for e in registry.events()]
    assert history[-5:] == [
        ("registered", second),
        ("promoted", second),
        ("deployed", second),
        ("rolled_back", first),
        ("deployed", first),
    ]
    rolled_back = registry.events()[-2]
    assert rolled_back["details"]["from_version"] == second
    assert rolled_back["details"]["requested_version"] is None
    assert rolled_back["details"]["requested_at"]  # when the run was asked for: the champion it replaces then
    assert rolled_back["triggered_by"].startswith("manual")
    assert json.loads(hook_receiver.requests[-1]["body"]) == deployed.to_json()
    # downstream DAGs scheduled on model/churn hear of it
    (announced,) = asset_events("model/churn")[model_events:]
    assert (announced["champion"], announced["replaced"], announced["change"]) == (first, second, "rolled back")


def test_rollback_to_an_unknown_version_fails_clearly_and_changes_nothing(
    promoted_twice: tuple[StepDriver, str, str], hook_receiver: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    driver, first, second = promoted_twice
    registry = driver.registry
    champion, deployed = registry.get_alias(CHAMPION), read_deployed(registry)
    events, posts = registry.events(), len(hook_receiver.requests)
    model_events = asset_events("model/churn")
    capfd.readouterr()

    run = run_rollback({"to_version": "v20990101-0000000000", "reason": "typo test"})

    assert str(run.state).endswith("failed")
    assert task_states(run) == {"rollback_champion": "failed"}  # failed at once, not up for retry
    logs = capfd.readouterr()
    message = (
        f"version 'v20990101-0000000000' is not registered for churn; recent versions (newest first): {second}, {first}"
    )
    assert message in logs.out + logs.err
    assert registry.get_alias(CHAMPION) == champion
    assert read_deployed(registry) == deployed
    assert registry.events() == events
    assert len(hook_receiver.requests) == posts
    assert asset_events("model/churn") == model_events  # a refused rollback announces nothing
