"""The closed loop under the real scheduler (issue 19), driven only by landing data appearing.

The story of ``tests/e2e/test_closed_loop.py``, with nothing triggered by hand: the ``churn_loop``
variant (tests/acceptance/conftest.py) scores new landing data (``watch_landing`` lists the landing
folder every minute and announces each new partition as an Asset event, which schedules
``score_churn_loop``), measures the deployed model once labels land a day late, and its
``request_retrain`` task's Asset event schedules ``retrain_churn_loop``, which runs the normal
gates and policy. The champion v1 is set up beforehand with the task bodies (tests/step_driver.py):
the state a deployment would be in. Then a browser opens the registry page and the test checks
the charts by their SVG data attributes; the screenshot goes to ``test-artifacts/``.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from dev.local_airflow import ADMIN, wait_until
from include.retrain.config import load_pipeline
from include.retrain.registry import CHAMPION
from tests.acceptance.browser import sign_in
from tests.acceptance.conftest import LOOP, RUN_TIMEOUT, AirflowApi, LocalAirflow, Variant
from tests.concept_shift import BAR, FIRST, FOR_DAYS, LABEL_DELAY, SHIFT, V1_END, day_frame, unlabeled
from tests.e2e.scoring_variant import ScoringHarness
from tests.step_driver import STRONG, StepDriver

pytestmark = pytest.mark.acceptance

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SCORE, RETRAIN, WATCH = f"score_{LOOP}", f"retrain_{LOOP}", "watch_landing"


def runs(api: AirflowApi, dag_id: str) -> list[dict[str, Any]]:
    """The DAG's runs, oldest first."""
    found = api.get(f"/api/v2/dags/{dag_id}/dagRuns", params={"limit": 100})["dag_runs"]
    return sorted(found, key=lambda run: str(run.get("run_after") or run.get("queued_at") or ""))


def finished_runs(api: AirflowApi, dag_id: str) -> list[dict[str, Any]]:
    return [run for run in runs(api, dag_id) if run["state"] in ("success", "failed")]


def wait_for_scored(api: AirflowApi, loop: ScoringHarness, day: date) -> dict[str, Any]:
    """Wait until ``day`` has predictions and every scoring run so far has finished; return the newest run."""
    manifest = f"{loop.base()}/predictions/ds={day.isoformat()}/manifest.json"
    wait_until(lambda: manifest in loop.keys(f"predictions/ds={day.isoformat()}/"), RUN_TIMEOUT, f"{day} scored")
    wait_until(lambda: len(finished_runs(api, SCORE)) == len(runs(api, SCORE)), RUN_TIMEOUT, "the scoring runs")
    done = finished_runs(api, SCORE)
    for run in done:
        assert run["state"] == "success", (run, api.task_states(SCORE, run["dag_run_id"]))
        assert run["run_type"] == "asset_triggered", run
    return done[-1]


def test_landing_data_alone_scores_measures_retrains_and_serves_the_new_model(
    api: AirflowApi, airflow: LocalAirflow, variants: dict[str, Variant], acceptance_pipelines: Path, browser: Any
) -> None:
    from playwright.sync_api import expect

    config = load_pipeline(acceptance_pipelines / f"{LOOP}.yaml")
    loop = ScoringHarness(StepDriver(config, variants["churn"].client))  # the variants fixture emptied S3
    registry = loop.driver.registry
    frames = {FIRST + timedelta(days=n): day_frame(FIRST + timedelta(days=n)) for n in range(14)}
    for day in (d for d in frames if d < V1_END):
        loop.put_landing(day, frames[day])
    loop.driver.run((V1_END - FIRST).days, {"model_params": STRONG})  # v1, trained before the shift, deployed
    v1 = registry.get_alias(CHAMPION).version
    airflow.wait_for_dags([SCORE, RETRAIN, WATCH])
    try:
        for dag_id in (WATCH, SCORE, RETRAIN):
            api.unpause(dag_id)

        # (1) the watcher announces the days so far; the champion scores them (pre-shift: no request)
        first = wait_for_scored(api, loop, V1_END - timedelta(days=1))
        assert api.task_states(SCORE, first["dag_run_id"])["request_retrain"] == "skipped"

        # (2) four more days land: three labeled (two after the shift), the newest without its label yet
        newest = SHIFT + timedelta(days=2)
        for day in (V1_END, SHIFT, SHIFT + timedelta(days=1)):
            loop.put_landing(day, frames[day])
        loop.put_landing(newest, unlabeled(frames[newest]))
        wait_for_scored(api, loop, newest)
        assert set(loop.predictions(newest)["model_version"]) == {v1}
        wait_until(lambda: registry.recent_events(10, "retrain_requested"), RUN_TIMEOUT, "a retrain request")
        (request,) = registry.recent_events(10, "retrain_requested")
        assert request["version"] == v1
        assert f"live roc_auc of {v1} below {BAR}" in request["reason"]

        # (3) the request's Asset event schedules the retrain: normal gates and policy, and it promotes v2
        wait_until(lambda: finished_runs(api, RETRAIN), RUN_TIMEOUT, "the requested retrain")
        (retrain,) = finished_runs(api, RETRAIN)
        assert retrain["run_type"] == "asset_triggered"
        states = api.task_states(RETRAIN, retrain["dag_run_id"])
        assert set(states.values()) == {"success"}, states
        v2 = registry.get_alias(CHAMPION).version
        assert v2 != v1
        evaluated = registry.get_version(v2).metadata
        assert evaluated.get("value", 0) > BAR, evaluated

        # (4) the next landing day is scored by v2, the version deployed.json now names
        after = newest + timedelta(days=1)
        loop.put_landing(newest, frames[newest])  # its labels land LABEL_DELAY day(s) late
        loop.put_landing(after, unlabeled(frames[after]))
        wait_for_scored(api, loop, after)
        assert set(loop.predictions(after)["model_version"]) == {v2}
    finally:
        for dag_id in (WATCH, SCORE, RETRAIN):
            api.request("PATCH", f"/api/v2/dags/{dag_id}", json={"is_paused": True})

    live = {
        record["partition"]: record["value"]
        for key in loop.keys(f"registry/live/{v1}/")
        if (record := registry.store.read_json(key)) is not None
    }
    assert all(value > 0.7 for day, value in live.items() if date.fromisoformat(day) < SHIFT), live
    assert all(value < BAR for day, value in live.items() if date.fromisoformat(day) >= SHIFT), live
    assert SHIFT.isoformat() in live
    assert (SHIFT + timedelta(days=LABEL_DELAY)).isoformat() in live
    story = [
        (event["event"], event["version"])
        for event in reversed(registry.recent_events(1000))
        if event["event"] in ("promoted", "retrain_requested")
    ]
    assert story == [("promoted", v1), ("retrain_requested", v1), ("promoted", v2)]

    # (5) the registry page's charts, in a real browser, by their data attributes
    page = browser.new_page()
    sign_in(page, airflow.base_url, ADMIN, airflow.password)
    page.get_by_role("button", name="Browse").click()
    page.get_by_role("menuitem", name="Model registry").click()
    section = page.frame_locator("iframe[title='Model registry']").locator(f"#variant-{LOOP}")
    expect(section.get_by_role("heading", name=LOOP, exact=True)).to_be_visible(timeout=60_000)
    metric = section.locator(f"svg[data-chart='chart-metric-{LOOP}']")
    expect(metric.locator("g[data-kind='promoted']")).to_have_count(2)
    expect(metric.locator("g[data-kind='promoted']").last).to_have_attribute("data-version", v2)
    live_chart = section.locator(f"svg[data-chart='chart-live-{LOOP}']")
    expect(live_chart.locator(f"g[data-series='{v1}'] circle")).to_have_count(len(live))
    shifted = live_chart.locator(f"circle[data-date='{SHIFT.isoformat()}T00:00:00+00:00']")
    assert float(shifted.get_attribute("data-value")) < BAR
    expect(live_chart.locator(f"g[data-bar='retrain when worse for {FOR_DAYS} day(s)']")).to_have_count(1)
    serving = section.locator(f"svg[data-chart='chart-serving-drift-{LOOP}']")
    expect(serving.locator(f"circle[data-version='{v2}']").first).to_be_visible()
    expect(serving.locator(f"circle[data-version='{v1}']").first).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1400, "height": 3200})
    section.screenshot(path=ARTIFACTS / "closed-loop-charts.png")
    page.close()
