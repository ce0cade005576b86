"""Notification messages, and sending them to a real HTTP receiver through an Airflow connection."""

from __future__ import annotations

import base64
import json
from typing import Any

from include.retrain.config import load_pipeline, pipelines_dir
from include.retrain.monitoring.notifications import (
    MAX_REASON,
    failure_notification,
    promotion_notification,
    send,
)

CHURN = load_pipeline(pipelines_dir() / "churn.yaml")
RUN_ID = "scheduled__2026-03-02T03:00:00+00:00"
PROMOTED = {
    "version": "v20260302-bbbbbbbbbb",
    "promoted": True,
    "reason": "roc_auc 0.7500 beats champion 0.7300 by 0.0200",
    "compared_with": "v20260301-aaaaaaaaaa",
    "strategy": "direct",
    "canary": None,
}


def test_a_failure_names_variant_run_task_reason_and_link() -> None:
    message = failure_notification(
        CHURN,
        dag_id="retrain_churn",
        run_id=RUN_ID,
        task_id="validate_raw",
        error="Gate validate_raw failed: 1 of 34 expectations failed\n  - expect_table_row_count_to_be_between",
        link="http://airflow.example.com/registry/runs/retrain_churn/x/validate_raw/report",
    )

    payload = message.payload()

    assert payload["event"] == "failure"
    assert (payload["variant"], payload["dag_id"], payload["run_id"], payload["task_id"]) == (
        "churn",
        "retrain_churn",
        RUN_ID,
        "validate_raw",
    )
    assert payload["text"] == (
        f"[retrain churn] FAILED: retrain_churn at validate_raw (run {RUN_ID}): Gate validate_raw failed: 1 of 34 "
        "expectations failed\n  - expect_table_row_count_to_be_between "
        "http://airflow.example.com/registry/runs/retrain_churn/x/validate_raw/report"
    )
    assert json.loads(json.dumps(payload)) == payload


def test_a_long_reason_is_cut_and_an_empty_one_is_said() -> None:
    long = failure_notification(CHURN, dag_id="d", run_id="r", task_id="t", error="x" * 5000, link=None)
    empty = failure_notification(CHURN, dag_id="d", run_id="r", task_id="t", error="  ", link=None)

    assert len(long.reason) == MAX_REASON
    assert long.reason.endswith("...")
    assert empty.reason == "no error message"


def test_a_promotion_says_which_version_replaced_which() -> None:
    message = promotion_notification(CHURN, PROMOTED, run_id=RUN_ID, link="http://a/registry/#variant-churn")

    assert message is not None
    assert message.reason == (
        "v20260302-bbbbbbbbbb is champion now (was v20260301-aaaaaaaaaa): "
        "roc_auc 0.7500 beats champion 0.7300 by 0.0200"
    )
    assert message.details == {
        "version": "v20260302-bbbbbbbbbb",
        "previous_version": "v20260301-aaaaaaaaaa",
        "strategy": "direct",
    }


def test_a_canary_that_graduates_is_a_promotion_and_a_rejection_is_not() -> None:
    graduated = {
        **PROMOTED,
        "promoted": False,
        "canary": {"version": "v20260228-cccccccccc", "result": "promoted", "reason": "won the canary 3/3"},
    }

    message = promotion_notification(CHURN, graduated, run_id=RUN_ID, link=None)

    assert message is not None
    assert message.reason == "v20260228-cccccccccc won its canary and is champion now: won the canary 3/3"
    assert promotion_notification(CHURN, {**PROMOTED, "promoted": False}, run_id=RUN_ID, link=None) is None


def test_send_posts_the_json_to_the_connection_url(hook_receiver: Any) -> None:
    from airflow.sdk import BaseHook

    message = failure_notification(
        CHURN, dag_id="retrain_churn", run_id=RUN_ID, task_id="train", error="boom", link=None
    )

    status = send(CHURN, BaseHook.get_connection("deploy_hook"), message)

    assert status == 200
    [request] = hook_receiver.requests
    assert request["path"] == "/hooks/deployed"
    assert request["headers"]["Authorization"] == "Basic " + base64.b64encode(b"serving:loopback-hook-token").decode()
    assert json.loads(request["body"]) == json.loads(json.dumps(message.payload()))
