"""Registry changes under faults, through Airflow's own retry: dag.test on the real DAGs.

The variant is churn with a deployment hook (an Airflow HTTP connection to a receiver on
loopback) and a retry delay of a fraction of a second, so dag.test retries a failed task within
seconds, as the scheduler would after its delay. S3 is reached through the fault proxy
(``tests/faults/proxy.py``), which can lose the response to a committed write. Two earlier
versions are promoted by the real task bodies (``tests.step_driver``) straight on the server.

Checked (issue 17, items 1-4): a rollback retried after a failed hook finishes and never undoes
itself; a rollback whose champion write loses its response recognizes the write as its own; a
late implicit rollback refuses to replace a champion promoted after it was requested; a promote
whose champion write loses its response, whose hook fails while ops roll back, and which Airflow
then retries, records each change exactly once and leaves the rollback in place.
"""

from __future__ import annotations

import http.server
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pendulum
import pytest
import yaml

from include.retrain.promotion.deploy import read_deployed
from include.retrain.registry import CHAMPION, ModelRegistry
from tests.asset_events import asset_events
from tests.e2e.conftest import PROJECT_ROOT, task_states
from tests.faults.proxy import FaultProxy
from tests.step_driver import FIRST_DAY, STUMP, StepDriver, churn_config

pytestmark = pytest.mark.e2e

GOOD = {"max_iter": 10, "max_leaf_nodes": 8}
STRONG = {"max_iter": 30, "max_leaf_nodes": 15}


@dataclass
class Hook:
    """A deployment hook receiver: records each POST, answers what ``respond`` returns (default 200)."""

    bodies: list[dict[str, Any]] = field(default_factory=list)
    respond: Callable[[dict[str, Any]], int] = lambda body: 200

    def versions(self) -> list[str]:
        return [body["version"] for body in self.bodies]


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> Iterator[Hook]:
    state = Hook()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            state.bodies.append(body)
            self.send_response(state.respond(body))
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("AIRFLOW_CONN_DEPLOY_HOOK", f"http://127.0.0.1:{server.server_address[1]}/hooks/deployed")
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def fail_first(answers: list[int]) -> Callable[[dict[str, Any]], int]:
    """Answer the POSTs with ``answers`` in turn, then 200."""
    return lambda body: answers.pop(0) if answers else 200


@pytest.fixture
def variant(
    s3: Any, proxied_connection: str, airflow_db: Path, hook: Hook, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[StepDriver, str, str]:
    """churn (the YAML the DAG file reads) with a hook and fast retries; versions P then X promoted."""
    from airflow.sdk import BaseHook

    config = churn_config(
        deployment={"notify_conn_id": "deploy_hook", "notify_timeout_seconds": 60},
        tasks={"retries": 2, "retry_delay_seconds": 0.1, "retry_backoff": 1.0},
    )
    (tmp_path / "churn.yaml").write_text(yaml.safe_dump(config.model_dump(mode="json")))
    monkeypatch.setenv("RETRAIN_PIPELINES_DIR", str(tmp_path))
    driver = StepDriver(config, s3.client(), get_connection=BaseHook.get_connection)  # straight to the server
    driver.write_landing(12)
    previous = driver.run(8, {"model_params": STUMP})["version"]
    current = driver.run(9, {"model_params": GOOD})["version"]
    assert driver.registry.get_alias(CHAMPION).version == current
    hook.bodies.clear()  # what the DAG runs post
    return driver, previous, current


def dag(dag_id: str) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags"))
    assert not bag.import_errors, bag.import_errors
    return bag.get_dag(dag_id)


def tries(run: Any) -> dict[str, int]:
    return {ti.task_id: ti.try_number for ti in run.get_task_instances()}


def events_of(registry: ModelRegistry, kind: str) -> list[dict[str, Any]]:
    return [e for e in registry.events() if e["event"] == kind]


def rollback_result(run: Any) -> dict[str, Any]:
    (ti,) = run.get_task_instances()
    return ti.xcom_pull(task_ids="rollback_champion")


# -- rollback_<name> -------------------------------------------------------------------------------


def test_a_rollback_retried_after_its_hook_failed_is_finished_not_undone(
    variant: tuple[StepDriver, str, str], hook: Hook
) -> None:
    driver, previous, current = variant
    hook.respond = fail_first([503])
    model_events = len(asset_events("model/churn"))

    run = dag("rollback_churn").test(run_conf={"reason": "incident 7"})

    assert task_states(run) == {"rollback_champion": "success"}
    assert tries(run) == {"rollback_champion": 2}  # Airflow retried it after the hook's 503
    registry = driver.registry
    assert registry.get_alias(CHAMPION).version == previous  # not moved back to the bad model
    assert [e["version"] for e in events_of(registry, "rolled_back")] == [previous]
    assert read_deployed(registry).version == previous
    assert hook.versions() == [previous, previous]  # the retry sent the pointer again
    assert rollback_result(run)["replaces_champion"] == current
    # the failed first attempt emitted nothing; the retry that finished it announces the change once
    assert [(e["champion"], e["replaced"], e["change"]) for e in asset_events("model/churn")[model_events:]] == [
        (previous, current, "rolled back")
    ]


def test_a_rollback_whose_champion_write_lost_its_response_is_recorded_once(
    variant: tuple[StepDriver, str, str], fault_proxy: FaultProxy
) -> None:
    driver, previous, current = variant
    lost = fault_proxy.lose_response("PUT", "aliases/champion.json")

    run = dag("rollback_churn").test(run_conf={"reason": "incident 8"})

    assert lost.hits == 1
    assert task_states(run) == {"rollback_champion": "success"}
    registry = driver.registry
    assert registry.get_alias(CHAMPION).version == previous
    assert registry.get_alias("previous").version == current
    assert [(e["version"], e["details"]["from_version"]) for e in events_of(registry, "rolled_back")] == [
        (previous, current)
    ]
    assert read_deployed(registry).version == previous


def test_a_late_implicit_rollback_refuses_to_replace_a_champion_promoted_after_it_was_requested(
    variant: tuple[StepDriver, str, str], hook: Hook
) -> None:
    driver = variant[0]
    requested = pendulum.instance(datetime.now(UTC) - timedelta(seconds=1))  # the operator asks to undo X
    late = driver.run(10, {"model_params": STRONG, "force_promote": True, "reason": "D"})  # then D lands
    assert late["promoted"] is True
    registry = driver.registry
    champion, events, posts = registry.get_alias(CHAMPION), registry.events(), len(hook.bodies)

    run = dag("rollback_churn").test(run_after=requested, run_conf={"reason": "undo X"})

    assert task_states(run) == {"rollback_champion": "failed"}
    assert tries(run) == {"rollback_champion": 1}  # a refusal: no retry
    assert registry.get_alias(CHAMPION) == champion  # D stays: X is not reinstated
    assert registry.events() == events
    assert len(hook.bodies) == posts


# -- retrain_<name>: promote ------------------------------------------------------------------------


def test_a_promote_retried_after_a_lost_response_a_failed_hook_and_a_rollback_changes_nothing_twice(
    variant: tuple[StepDriver, str, str], fault_proxy: FaultProxy, hook: Hook
) -> None:
    """The champion write commits but its response is lost (boto resends, gets 412); the hook then
    fails while ops roll back to the champion it replaced; Airflow retries promote."""
    driver, _, current = variant
    registry = driver.registry
    ops = {"run_id": "manual__ops_rollback", "triggered_by": "manual:ops"}

    def ops_roll_back(body: dict[str, Any]) -> int:
        from include.retrain.config import DeploymentConfig
        from include.retrain.promotion.rollback import rollback_champion

        if len(hook.bodies) > 1:
            return 200
        rollback_champion(registry, DeploymentConfig(), to_version="", reason="bad model", audit=ops)
        return 503

    hook.respond = ops_roll_back
    lost = fault_proxy.lose_response("PUT", "aliases/champion.json")
    window_end = FIRST_DAY + timedelta(days=10)

    run = dag("retrain_churn").test(
        logical_date=pendulum.datetime(window_end.year, window_end.month, window_end.day, tz="UTC"),
        run_conf={"model_params": STRONG, "force_promote": True, "reason": "hotfix"},
    )

    assert lost.hits == 1
    assert task_states(run)["promote"] == "success"
    assert tries(run)["promote"] == 2  # the hook's 503 failed the first attempt
    assert registry.get_alias(CHAMPION).version == current  # the rollback stands
    assert read_deployed(registry).version == current
    manifest = next(ti for ti in run.get_task_instances() if ti.task_id == "promote").xcom_pull(task_ids="promote")
    version = manifest["version"]
    assert manifest["promoted"] is False  # its first attempt did, but it is not champion as the run ends
    assert "does not promote again" in manifest["overridden"]
    assert manifest["reason"] == manifest["overridden"]
    ours = Counter(e["event"] for e in registry.events() if e["version"] == version)
    assert ours == Counter(registered=1, promoted=1, deployed=1)  # no "rejected", nothing twice
    assert [e["version"] for e in events_of(registry, "rolled_back")] == [current]
    assert hook.versions() == [version]  # the retry did not deploy it again
