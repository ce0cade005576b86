"""What a newcomer does after ``make airflow``, in a real browser, touching no form field they need not.

The stack is the acceptance session's ``airflow standalone`` (the same LocalAirflow that
``make airflow`` starts), its loopback S3 emptied and seeded by the same ``seed_landing.seed``
that ``make airflow`` calls: synthetic landing data ending today (UTC). A headless Chromium then
signs in on the login page, opens ``retrain_churn``, submits its Trigger form with every default
and waits for the run to succeed; then submits ``rollback_churn``'s form with only a reason and
checks, in the registry on S3, that the champion moved back. ``rollback_churn`` is paused, as
every DAG of a fresh ``make airflow`` is: the run starts only because the form's "Unpause on
trigger" box is ticked by default, as a newcomer leaves it.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from dev.local_airflow import ADMIN, AirflowApi, LocalAirflow, wait_until
from dev.local_s3 import LocalS3
from dev.seed_landing import seed, utc_today
from include.retrain.registry import CHAMPION
from tests.acceptance.browser import sign_in
from tests.acceptance.conftest import RUN_TIMEOUT, Variant

pytestmark = pytest.mark.acceptance

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def manual_runs(api: AirflowApi, dag_id: str) -> set[str]:
    runs = api.get(f"/api/v2/dags/{dag_id}/dagRuns", params={"run_type": "manual", "limit": 100})["dag_runs"]
    return {run["dag_run_id"] for run in runs if run["run_type"] == "manual"}


def submit_trigger_form(page: Any, airflow: LocalAirflow, dag_id: str, fill: dict[str, str], shot: str) -> str:
    """Open the DAG's page, its Trigger form, fill only ``fill``, submit; return the new run's id."""
    from playwright.sync_api import expect

    before = manual_runs(airflow.api, dag_id)
    page.goto(f"{airflow.base_url}/dags/{dag_id}")
    page.get_by_role("button", name="Trigger").first.click()
    form = page.get_by_role("dialog")
    expect(form.get_by_text("Run Parameters")).to_be_visible()
    for name, value in fill.items():
        form.locator(f"[name=element_{name}]").fill(value)
    submit = form.get_by_role("button", name="Trigger", exact=True)
    page.screenshot(path=ARTIFACTS / shot)
    expect(submit, f"{dag_id}'s Trigger form cannot be submitted with {fill or 'its defaults'}").to_be_enabled(
        timeout=5_000
    )
    submit.click()
    # The form stays open with its button disabled until the API answers, and on a busy machine the
    # API server's SQLite write may wait up to 30 s for the scheduler's lock (dev/sqlite_metadata.py):
    # playwright's default 5 s saw a pending trigger as a failed one. The toast's text can be in the
    # page twice for a moment (the toast and its screen-reader announcement): one visible is enough.
    expect(page.get_by_text("Dag run has been successfully triggered").first).to_be_visible(timeout=120_000)
    new: set[str] = set()

    def created() -> bool:
        new.update(manual_runs(airflow.api, dag_id) - before)
        return len(new) == 1

    wait_until(created, 30, f"the run the {dag_id} form triggered")
    return new.pop()


def test_a_newcomer_triggers_with_defaults_then_rolls_back_with_only_a_reason(
    airflow: LocalAirflow, s3: LocalS3, variants: dict[str, Variant], browser: Any
) -> None:
    api, churn = airflow.api, variants["churn"]
    seeded = seed(s3.client())  # what make airflow does: data up to today
    assert {item.last_day for item in seeded} == {utc_today()}
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page()
    sign_in(page, airflow.base_url, ADMIN, airflow.password)

    first = submit_trigger_form(page, airflow, "retrain_churn", {}, "newcomer-retrain-form.png")
    run = api.wait_for_run("retrain_churn", first, timeout=RUN_TIMEOUT)
    assert run["state"] == "success", api.task_states("retrain_churn", first)
    first_champion = churn.registry.get_alias(CHAMPION)
    assert first_champion is not None
    assert first_champion.run_id == first

    # The next day's run, forced so that it certainly promotes: the champion now has a previous one.
    yesterday = (utc_today() - timedelta(days=1)).isoformat()
    later = api.trigger(
        "retrain_churn", conf={"window_end": yesterday, "force_promote": True, "reason": "a later champion"}
    )
    assert later.status_code == 200, later.text
    assert api.wait_for_run("retrain_churn", later.json()["dag_run_id"], timeout=RUN_TIMEOUT)["state"] == "success"
    replaced = churn.registry.get_alias(CHAMPION)
    assert replaced.version != first_champion.version
    assert replaced.previous_version == first_champion.version

    rollback = submit_trigger_form(
        page, airflow, "rollback_churn", {"reason": "newcomer: the new model misbehaves"}, "newcomer-rollback-form.png"
    )
    rolled = api.wait_for_run("rollback_churn", rollback, timeout=RUN_TIMEOUT)
    assert rolled["state"] == "success", api.task_states("rollback_churn", rollback)
    champion = churn.registry.get_alias(CHAMPION)
    assert champion.version == first_champion.version
    assert champion.previous_version == replaced.version
    assert champion.run_id == rollback
    page.close()
