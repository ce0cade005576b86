"""The registry plugin inside the API server's app: login required, the page, and gate reports.

The registry is made by the real task bodies on the loopback S3 (``tests.step_driver``), and the
failed gate by a real ``dag.test`` run, so the plugin reads what a deployment would hold.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

import pytest
import yaml

from include.retrain.config import PipelineConfig
from include.retrain.monitoring.links import GATE_SUMMARY_KEY
from include.retrain.registry import CHAMPION
from tests.e2e.conftest import PipelineHarness, task_states
from tests.html_assets import external_references, links
from tests.plugins.conftest import ApiServer
from tests.step_driver import STRONG, STUMP, StepDriver, churn_config

pytestmark = pytest.mark.e2e

REPORT = "s3://retrain-artifacts/retraining/churn/runs/2026-01-09/gates/validate_raw.json"
ROUTES = [
    "/registry/",
    f"/registry/variants/churn/report?uri={quote(REPORT)}",
    "/registry/runs/retrain_churn/manual__2026-01-09T00%3A00%3A00%2B00%3A00/validate_raw/report",
]


@pytest.fixture
def variant(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, s3: Any, aws_connection: str) -> PipelineConfig:
    """churn with a short window, as the only pipeline YAML the DAG file and the plugin read."""
    config = churn_config(notifications={"webhook_conn_id": "deploy_hook"})
    (tmp_path / "churn.yaml").write_text(yaml.safe_dump(config.model_dump(mode="json")))
    monkeypatch.setenv("RETRAIN_PIPELINES_DIR", str(tmp_path))
    return config


@pytest.mark.parametrize("path", ROUTES, ids=["page", "report-by-uri", "report-of-a-task"])
def test_every_route_refuses_a_request_without_a_login(
    api_server: ApiServer, variant: PipelineConfig, path: str
) -> None:
    api_call = api_server.get(path, login=False)
    browser = api_server.get(path, login=False, headers={"Accept": "text/html"})
    forged = api_server.get(path, login=False, headers={"Authorization": "Bearer not-a-token"})

    assert (api_call.status_code, api_call.json()) == (401, {"detail": "Not authenticated"})
    assert browser.status_code == 303
    login, here = urlsplit(browser.headers["location"]), urlsplit(path)
    back_to = unquote(here.path) + (f"?{here.query}" if here.query else "")
    assert (login.path, parse_qs(login.query)["next"]) == ("/auth/login", [back_to])
    assert forged.status_code == 403
    for response in (api_call, browser, forged):
        assert "churn" not in response.text
        assert "champion" not in response.text.lower()


@pytest.mark.parametrize("path", ["/registry/docs", "/registry/openapi.json", "/registry/redoc"])
def test_no_docs_route_bypasses_the_login(api_server: ApiServer, path: str) -> None:
    assert api_server.get(path, login=False).status_code == 404


def test_the_page_shows_the_champion_its_promotion_decision_the_history_and_the_rollback(
    api_server: ApiServer, variant: PipelineConfig, s3: Any
) -> None:
    driver = StepDriver(variant, s3.client())
    driver.write_landing(10)
    weak = driver.run(8, {"model_params": STUMP})
    strong = driver.run(9, {"model_params": STRONG})
    champion = driver.registry.get_alias(CHAMPION)
    assert champion.version == strong["version"] != weak["version"]

    response = api_server.get("/registry/")

    assert response.status_code == 200
    assert response.headers["content-security-policy"].startswith("default-src 'none'")
    page = response.text
    assert f"<strong>{strong['version']}</strong>" in page
    assert f"champion then {weak['version']}" in page
    # The decision's numbers: both models on the strong run's holdout rows (not the weak run's own).
    auc, previous_auc = strong["evaluated"]["value"], strong["evaluated"]["champion"]["value"]
    assert f"<td><strong>roc_auc</strong> (policy metric)</td><td>{auc:.4f}</td><td>{previous_auc:.4f}</td>" in page
    assert "No bootstrap test ran" in page  # this variant compares point values
    assert page.count("<td>promoted</td>") == 2
    assert "rollback_churn --conf" in page
    assert "<h3>Last run</h3>" in page  # which run depends on what else used the session's database
    metric_chart = page.split('data-chart="chart-metric-churn"')[1].split("</svg>")[0]
    for run in (weak, strong):
        assert f'data-version="{run["version"]}"' in metric_chart
    assert metric_chart.count('data-kind="promoted"') == 2
    assert "No check_drift report in 2" in page  # the step driver runs no gates


def test_the_charts_mark_a_rollback_and_draw_each_runs_drift_read_from_its_report(
    api_server: ApiServer, variant: PipelineConfig, s3: Any
) -> None:
    """The page's charts from a real registry and run folders; an unreadable report is a note, not an error."""
    from include.retrain.promotion.rollback import rollback_champion

    driver = StepDriver(variant, s3.client())
    driver.write_landing(9)
    first, second = driver.run(8, {"model_params": STUMP}), driver.run(9, {"model_params": STRONG})
    audit = {"run_id": "manual__rollback", "triggered_by": "manual:ops"}
    rollback_champion(driver.registry, variant.deployment, to_version="", reason="INC-7 <b>bad</b>", audit=audit)
    store = driver.registry.store
    for run_key, psi in (("2026-01-08", 0.02), ("2026-01-09", 0.31)):
        rows = [{"feature": "tenure_months", "kind": "numeric", "psi": psi, "ks": 0.1}]
        report = {"gate": "check_drift", "success": psi < 0.25, "values": {"drift": rows}}
        store.put_json(f"retraining/churn/runs/{run_key}/gates/check_drift.json", report)
    store.put_bytes("retraining/churn/runs/2026-01-10/gates/check_drift.json", b"\x00 not json")

    page = api_server.get("/registry/").text

    metric_chart = page.split('data-chart="chart-metric-churn"')[1].split("</svg>")[0]
    assert [metric_chart.count(f'data-kind="{kind}"') for kind in ("promoted", "rolled_back")] == [2, 1]
    assert 'data-kind="rolled_back" data-date=' in metric_chart
    assert f"{first['version']} champion again by a rollback" in metric_chart
    assert "INC-7 &lt;b&gt;bad&lt;/b&gt;" in metric_chart
    assert f'data-version="{second["version"]}"' in metric_chart
    drift_chart = page.split('data-chart="chart-drift-churn"')[1].split("</figure>")[0]
    assert 'data-series="tenure_months"' in drift_chart
    assert 'data-value="0.31" data-run-key="2026-01-09"' in drift_chart
    assert "1 reports could not be read: 2026-01-10 (JSONDecodeError" in drift_chart
    assert external_references(page) == []


def test_a_report_uri_outside_the_variant_store_is_refused(
    api_server: ApiServer, variant: PipelineConfig, s3: Any
) -> None:
    s3.client().put_object(Bucket="retrain-artifacts", Key="retraining/churn/registry/deployed.json", Body=b"{}")
    traversal = "s3://retrain-artifacts/retraining/churn/runs/x/gates/../../../registry/deployed.json"

    refused = api_server.get("/registry/variants/churn/report", params={"uri": traversal})
    unknown = api_server.get("/registry/variants/nope/report", params={"uri": REPORT})
    missing = api_server.get("/registry/variants/churn/report", params={"uri": REPORT})

    assert refused.status_code == 400
    assert "is not a gate report of churn" in refused.text
    assert unknown.status_code == 404
    assert missing.status_code == 404


def test_a_failed_gate_keeps_its_summary_sends_one_message_and_its_report_opens_from_the_task_link(
    api_server: ApiServer, variant: PipelineConfig, s3: Any, airflow_db: Path, hook_receiver: Any
) -> None:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    from plugins.model_registry import GateReportLink

    harness = PipelineHarness(variant, s3.client())
    harness.write_days(date(2026, 1, 2), 7, rows_per_day=40)  # 280 rows: below churn's min_rows of 1000

    dag_run = harness.run(date(2026, 1, 9))

    assert task_states(dag_run)["validate_raw"] == "failed"
    with create_session() as session:
        [row] = session.scalars(
            XComModel.get_many(run_id=dag_run.run_id, dag_ids="retrain_churn", key=GATE_SUMMARY_KEY)
        ).all()
        summary = XComModel.deserialize_value(row)
    assert summary["success"] is False
    assert summary["failed"][0].startswith("expect_table_row_count_to_be_between")
    [message] = [json.loads(request["body"]) for request in hook_receiver.requests]
    assert (message["event"], message["task_id"], message["run_id"]) == ("failure", "validate_raw", dag_run.run_id)
    assert "expect_table_row_count_to_be_between" in message["reason"]

    ti = next(ti for ti in dag_run.get_task_instances() if ti.task_id == "validate_raw")
    link = GateReportLink().get_link(None, ti_key=ti.key)
    assert message["link"].endswith(link)
    assert GateReportLink().get_link(None, ti_key=ti.key._replace(task_id="ingest")) == ""
    response = api_server.get(link)

    assert response.status_code == 200
    assert "validate_raw report: churn" in response.text
    failed = response.text.split("Failed expectations (")[1].split("All expectations")[0]
    assert "expect_table_row_count_to_be_between" in failed
    assert summary["report_uri"] in response.text
    data_docs = api_server.get("/registry/variants/churn/report", params={"uri": summary["html_report_uri"]})
    assert data_docs.status_code == 200
    assert data_docs.headers["content-security-policy"].startswith("sandbox; default-src 'none'")
    assert "https:" not in data_docs.headers["content-security-policy"]  # nothing may load from elsewhere
    assert "Great Expectations data docs of validate_raw" in response.text
    # Both reports are self-contained and lead back to the run's grid view and the registry page.
    run_url = f"/dags/retrain_churn/runs/{quote(dag_run.run_id, safe='')}"
    for html in (response.text, data_docs.text):
        assert external_references(html) == []
        assert links(html)[f"Run {dag_run.run_id} in Airflow"] == run_url
        assert links(html)["Model registry (churn)"] == "/registry/#variant-churn"
    page = api_server.get("/registry/").text
    assert f"Run <code>{dag_run.run_id}</code>" in page
    assert f'href="{link}"' in page
