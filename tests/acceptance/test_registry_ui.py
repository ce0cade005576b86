"""The model-registry page and gate reports in the real Airflow UI, in a real browser.

Runs are triggered through the REST API; a headless Chromium (Debian's package, driven by
Playwright) signs in on Airflow's login form as a person would, opens Browse > Model registry
(its charts are server-rendered SVG, checked by their data attributes) and follows a failed
gate's report link. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from dev.local_airflow import ADMIN
from include.retrain.registry import CHAMPION
from tests.acceptance.browser import sign_in
from tests.acceptance.conftest import AirflowApi, LocalAirflow, Variant, trigger_and_wait, window

pytestmark = pytest.mark.acceptance

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
REPORT = "s3://retrain-artifacts/retraining/churn/runs/2026-01-31/gates/validate_raw.json"
PLUGIN_ROUTES = [
    "/registry/",
    f"/registry/variants/churn/report?uri={quote(REPORT)}",
    "/registry/runs/retrain_churn/manual__2026-01-31T00%3A00%3A00%2B00%3A00/validate_raw/report",
]


@pytest.mark.parametrize("path", PLUGIN_ROUTES, ids=["page", "report-by-uri", "report-of-a-task"])
def test_every_plugin_route_refuses_a_request_without_a_login(airflow: LocalAirflow, path: str) -> None:
    with httpx.Client(base_url=airflow.base_url, timeout=30) as client:
        api_call = client.get(path)
        browser_visit = client.get(path, headers={"Accept": "text/html"})
        forged = client.get(path, headers={"Authorization": "Bearer forged"}, cookies={"_token": "forged"})

    assert api_call.status_code == 401
    assert browser_visit.status_code == 303
    assert browser_visit.headers["location"].startswith("/auth/login?next=")
    assert forged.status_code in (401, 403)
    for response in (api_call, browser_visit, forged):
        assert "champion" not in response.text.lower()
        assert "retrain-artifacts" not in response.text


def test_the_registry_page_and_a_failed_gate_report_in_a_real_browser(
    api: AirflowApi, airflow: LocalAirflow, variants: dict[str, Variant], browser: Any
) -> None:
    from playwright.sync_api import expect

    # churn gets good data and a champion; demand, at the same time, prices below zero.
    churn, demand = variants["churn"], variants["demand"]
    churn.land(29)
    demand.land(29, alter=lambda frame: frame.assign(price=-1.0))
    with ThreadPoolExecutor(max_workers=2) as pool:
        good, bad = pool.map(lambda variant: trigger_and_wait(api, variant.dag_id, window(29)), (churn, demand))
    assert (good["state"], bad["state"]) == ("success", "failed")
    assert api.task_states(demand.dag_id, bad["dag_run_id"])["validate_raw"] == "failed"
    champion = churn.registry.get_alias(CHAMPION)
    metrics = json.loads(churn.registry.read_file(champion.version, "metrics.json"))
    ARTIFACTS.mkdir(exist_ok=True)

    page = browser.new_page()
    sign_in(page, airflow.base_url, ADMIN, airflow.password)
    page_requests: list[str] = []
    page.on("request", lambda request: page_requests.append(request.url))
    page.get_by_role("button", name="Browse").click()
    page.get_by_role("menuitem", name="Model registry").click()
    registry = page.frame_locator("iframe[title='Model registry']")
    churn_section, demand_section = registry.locator("#variant-churn"), registry.locator("#variant-demand")

    # The plugin's app is built on its first request (pandas, the registry, the templates): on a
    # loaded machine that took longer than playwright's default 5 s.
    expect(churn_section.get_by_role("heading", name="churn", exact=True)).to_be_visible(timeout=60_000)
    expect(churn_section.locator("dd strong").first).to_have_text(champion.version)
    expect(churn_section.locator("table").first).to_contain_text(f"{metrics['value']:.4f}")
    expect(demand_section).to_contain_text(f"Run {bad['dag_run_id']}")
    page.set_viewport_size({"width": 1400, "height": 2400})  # the frame shows a whole variant
    page.screenshot(path=ARTIFACTS / "registry-page.png")

    # The metric chart: the champion's own holdout value, registered and promoted (a marker), and
    # the policy's threshold; no drift chart yet (the first run had no champion to compare with).
    chart = churn_section.locator("svg[data-chart='chart-metric-churn']")
    expect(chart).to_be_visible()
    series = chart.locator("g[data-series]")
    expect(series).to_have_count(1)
    expect(series).to_have_attribute("data-series", "roc_auc")
    point = series.locator("circle")
    expect(point).to_have_count(1)
    expect(point).to_have_attribute("data-version", champion.version)
    assert float(point.get_attribute("data-value")) == pytest.approx(metrics["value"])
    expect(chart.locator("g[data-kind='promoted']")).to_have_attribute("data-version", champion.version)
    expect(chart.locator("g[data-bar='promotion threshold']")).to_have_attribute("data-value", "0.6500")
    expect(churn_section.locator("#chart-drift-churn")).to_contain_text("Nothing compared in 1")
    churn_section.locator("#chart-metric-churn").screenshot(path=ARTIFACTS / "registry-charts.png")
    # blob: URLs of the Airflow origin are objects the UI made in the page, not requests leaving it
    local = (airflow.base_url, "data:", f"blob:{airflow.base_url.rstrip('/')}/")
    assert [url for url in page_requests if not url.startswith(local)] == []

    demand_section.get_by_role("link", name="validate_raw report", exact=True).click()
    report = registry.locator("main")
    expect(report.get_by_role("heading", level=1)).to_have_text("validate_raw report: demand")
    failed = report.locator("table", has_text="Failed expectations")
    expect(failed).to_contain_text("expect_column_values_to_be_between")
    expect(failed).to_contain_text("column='price'")
    page.screenshot(path=ARTIFACTS / "gate-report.png")

    # Its GX data docs are self-contained: opening them sends no request off the Airflow host, and
    # they lead back to the run's grid view and to the registry page.
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    report.get_by_role("link", name="Great Expectations data docs of validate_raw").click()
    data_docs = registry.locator("body")
    expect(data_docs).to_contain_text("Gate validate_raw: FAILED")
    run_link = data_docs.get_by_role("link", name=f"Run {bad['dag_run_id']} in Airflow")
    expect(run_link).to_have_attribute("href", f"/dags/{demand.dag_id}/runs/{quote(bad['dag_run_id'], safe='')}")
    expect(data_docs.get_by_role("link", name="Model registry (demand)")).to_have_attribute(
        "href", "/registry/#variant-demand"
    )
    page.screenshot(path=ARTIFACTS / "gate-data-docs.png")
    assert requests, "the data docs were not requested"
    assert [url for url in requests if not url.startswith((airflow.base_url, "data:"))] == []

    # The same report from the task itself: its "Gate report" extra link, opened as a new tab would.
    links = api.get(f"/api/v2/dags/{demand.dag_id}/dagRuns/{bad['dag_run_id']}/taskInstances/validate_raw/links")
    tab = browser.new_page()
    tab.goto(airflow.base_url + links["extra_links"]["Gate report"])
    expect(tab.locator("table", has_text="Failed expectations")).to_contain_text("column='price'")
    tab.close()
    page.close()
