"""The notifier callbacks: attached per the variant's YAML, and what each one sends to a real receiver.

A stand-in task instance carries what Airflow's callback context gives (ids, log URL, XCom);
the message goes through the Airflow connection to the loopback HTTP receiver.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from dags.retrain_factory import build_retrain_dag
from dags.retrain_factory.notifications import RetrainNotifier, notifier_callbacks
from tests.step_driver import churn_config

RUN_ID = "manual__2026-03-02T10:00:00+00:00"
NOTIFIED = churn_config(notifications={"webhook_conn_id": "deploy_hook"})


@dataclass
class StandInTaskInstance:
    dag_id: str
    task_id: str
    run_id: str = RUN_ID
    xcom: dict[str, Any] = field(default_factory=dict)

    @property
    def log_url(self) -> str:
        return f"http://airflow.example.com/dags/{self.dag_id}/runs/{self.run_id}/tasks/{self.task_id}"

    def xcom_pull(self, task_ids: str) -> Any:
        return self.xcom.get(task_ids)


def posted(hook_receiver: Any) -> list[dict[str, Any]]:
    return [json.loads(request["body"]) for request in hook_receiver.requests]


def test_callbacks_are_attached_only_for_the_events_the_yaml_asks_for() -> None:
    quiet = build_retrain_dag(churn_config())
    loud = build_retrain_dag(NOTIFIED)
    promotions_only = churn_config(notifications={"webhook_conn_id": "deploy_hook", "events": ["promotion"]})

    assert all(not task.on_failure_callback for task in quiet.tasks)
    assert not quiet.get_task("promote").on_success_callback
    for task in loud.tasks:
        assert [(type(c), c.event) for c in task.on_failure_callback] == [(RetrainNotifier, "failure")]
    assert [c.event for c in loud.get_task("promote").on_success_callback] == ["promotion"]
    assert notifier_callbacks(promotions_only, "failure") == []


def test_a_failed_gate_sends_its_report_link(hook_receiver: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "https://airflow.example.com/")
    ti = StandInTaskInstance("retrain_churn", "validate_raw")
    error = "Gate validate_raw failed: 1 of 34 expectations failed\n  - expect_table_row_count_to_be_between(...)"

    RetrainNotifier(NOTIFIED, "failure")({"ti": ti, "exception": Exception(error)})

    [message] = posted(hook_receiver)
    assert (message["event"], message["variant"], message["run_id"], message["task_id"]) == (
        "failure",
        "churn",
        RUN_ID,
        "validate_raw",
    )
    assert message["reason"] == error
    assert message["link"] == (
        "https://airflow.example.com/registry/runs/retrain_churn/manual__2026-03-02T10%3A00%3A00%2B00%3A00"
        "/validate_raw/report"
    )


def test_another_failed_task_links_its_log(hook_receiver: Any) -> None:
    ti = StandInTaskInstance("retrain_churn", "train")

    RetrainNotifier(NOTIFIED, "failure")({"ti": ti, "exception": TimeoutError("S3 did not answer")})

    [message] = posted(hook_receiver)
    assert message["link"] == ti.log_url
    assert message["reason"] == "S3 did not answer"


def test_promote_sends_a_message_only_when_the_champion_changed(hook_receiver: Any) -> None:
    manifest = {
        "version": "v20260302-bbbbbbbbbb",
        "promoted": True,
        "reason": "roc_auc 0.7500 beats champion 0.7300 by 0.0200",
        "compared_with": "v20260301-aaaaaaaaaa",
        "strategy": "direct",
    }
    notifier = RetrainNotifier(NOTIFIED, "promotion")

    notifier({"ti": StandInTaskInstance("retrain_churn", "promote", xcom={"promote": manifest})})
    notifier({"ti": StandInTaskInstance("retrain_churn", "promote", xcom={"promote": {**manifest, "promoted": False}})})

    [message] = posted(hook_receiver)
    assert message["event"] == "promotion"
    assert message["details"]["version"] == "v20260302-bbbbbbbbbb"
    assert message["link"].endswith("/registry/#variant-churn")
    assert message["text"].startswith(f"[retrain churn] New champion for churn (run {RUN_ID}): v20260302-bbbbbbbbbb")


def test_a_receiver_that_is_down_is_an_error_airflow_logs(hook_receiver: Any) -> None:
    """Airflow runs callbacks after the task's state is set and logs their errors: the run is unaffected."""
    from include.retrain.webhook import WebhookFailed

    hook_receiver.status = 503
    ti = StandInTaskInstance("retrain_churn", "train")

    with pytest.raises(WebhookFailed, match=r"notification webhook 'deploy_hook' .* 503"):
        RetrainNotifier(NOTIFIED, "failure")({"ti": ti, "exception": None})
    assert len(hook_receiver.requests) == 1
