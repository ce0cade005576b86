"""A gate's two reports, written as the gate task writes them, fetch nothing from outside the Airflow host.

A real gate (Great Expectations validating a table) is published by ``gates.publish.publish_gate`` into
the loopback S3 store, passed and failed; then its GX data docs (the stored HTML) and the report
page the registry plugin renders from its JSON are checked: no URL in src/href-like attributes,
``@import`` or ``url()`` leaves the host, and both link back to the run's grid view in the Airflow
UI and to the variant on the registry page, under ``[api] base_url``'s path.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import pytest

from include.retrain.context import RunContext
from include.retrain.errors import GateFailure
from include.retrain.gates.expectations import ExpectationSpec
from include.retrain.gates.publish import publish_gate
from include.retrain.gates.validation import run_gate
from include.retrain.monitoring.pages import gate_report_page
from include.retrain.monitoring.reports import read_report
from tests.html_assets import external_references, links
from tests.step_driver import churn_config

RUN_ID = "manual__2026-01-09T03:00:00+00:00"
#: The UI's run route is ``dags/:dagId/runs/:runId`` (Airflow 3.3's router); ':' and '+' are quoted.
RUN_URL = "/airflow/dags/retrain_churn/runs/manual__2026-01-09T03%3A00%3A00%2B00%3A00"
REGISTRY_URL = "/airflow/registry/#variant-churn"


@pytest.fixture
def run(s3: Any, monkeypatch: pytest.MonkeyPatch) -> RunContext:
    """A churn run on the loopback S3, in an Airflow served under ``/airflow``."""
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "https://airflow.example.com/airflow/")
    return RunContext.create(
        churn_config(),
        params={},
        data_interval_end=date(2026, 1, 9),
        run_id=RUN_ID,
        triggered_by="test",
        client=s3.client(),
    )


def _publish(run: RunContext, *, fail: bool) -> dict[str, Any]:
    table = pd.DataFrame({"plan": ["basic", "premium", "standard" if not fail else "gold"], "calls": [1, 2, 3]})
    plans = ["basic", "standard", "premium"]
    specs = [
        ExpectationSpec("ExpectColumnValuesToBeInSet", {"column": "plan", "value_set": plans}),
        ExpectationSpec("ExpectColumnMaxToBeBetween", {"column": "calls", "max_value": 2}, "warn"),
    ]
    result = run_gate("validate_raw", {"data": table}, specs, ["a note"])
    if not fail:
        return publish_gate(run, result).to_xcom()
    with pytest.raises(GateFailure) as failure:
        publish_gate(run, result)
    return failure.value.summary


@pytest.mark.parametrize("fail", [False, True], ids=["passed", "failed"])
def test_the_reports_fetch_nothing_and_link_back_to_the_run_and_the_registry(run: RunContext, fail: bool) -> None:
    summary = _publish(run, fail=fail)
    assert summary["success"] is not fail

    data_docs = read_report(run.config, run.store, summary["html_report_uri"])
    page = data_docs.html.decode()
    report = read_report(run.config, run.store, summary["report_uri"])
    report_page = gate_report_page(report, "churn", root="/airflow")

    assert ("FAILED" if fail else "PASSED WITH WARNINGS") in page
    for html in (page, report_page):
        assert external_references(html) == []
        found = links(html)
        assert found[f"Run {RUN_ID} in Airflow"] == RUN_URL
        assert found["Model registry (churn)"] == REGISTRY_URL
    # What the data docs need to look right travels with them: a stylesheet, and no script to run.
    assert ".table th" in page.split("</style>")[0]
    assert "<script" not in page
