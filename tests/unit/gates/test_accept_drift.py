"""A way out of a drift lock that leaves a trace: the trigger Param ``accept_drift`` (issue 16.8).

Before, with ``on_drift: fail`` a lasting shift (a season, a new market) failed ``check_drift``
in every later window against the stale champion's profile; ``force_promote`` does not get past
a gate, so only a YAML edit got out. Now ``accept_drift`` with a reason turns that run's drift
verdict into a warning: the reports are written and say it was accepted, by whom and why, and the
registry records one ``drift_accepted`` event, which the registry page lists. Real task bodies,
GX and registry against the loopback S3 endpoint.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd
import pytest

from dags.retrain_factory.params import build_params
from dev.synthetic.churn import churn_day
from dev.synthetic.landing import write_days
from include.retrain.errors import GateFailure, InvalidRunOptions
from include.retrain.monitoring.overview import read_overview
from include.retrain.monitoring.pages import VariantSection, registry_page
from include.retrain.registry import CHAMPION
from include.retrain.runs import RunOptions
from include.retrain.tasks.drift import check_drift
from include.retrain.tasks.ingest import ingest
from tests.step_driver import FIRST_DAY, StepDriver, churn_config

REASON = "winter customers are older: confirmed with the data team, ticket ML-42"
DRIFTED_END = FIRST_DAY + timedelta(days=14)


class TestParam:
    def test_the_form_offers_accept_drift_off_and_nullable(self) -> None:
        param = build_params(churn_config())["accept_drift"]

        assert param.value is False
        assert set(param.schema["type"]) == {"null", "boolean"}

    def test_accept_drift_needs_a_reason(self) -> None:
        with pytest.raises(
            InvalidRunOptions, match=r"param reason is required \(non-empty\) when accept_drift is true"
        ):
            RunOptions.from_params({"accept_drift": True, "reason": "  "}, churn_config())

    def test_accept_drift_with_a_reason_and_empty_values(self) -> None:
        config = churn_config()

        assert RunOptions.from_params({"accept_drift": True, "reason": REASON}, config).accept_drift is True
        assert RunOptions.from_params({"accept_drift": None}, config).accept_drift is False
        # Not a data override: the run key (and so a re-run's folder) does not change.
        assert RunOptions.from_params({"accept_drift": True, "reason": REASON}, config).data_overrides(config) == {}


def _older(day: date, rows: int) -> pd.DataFrame:
    frame = churn_day(day, rows)
    frame["tenure_months"] = (frame["tenure_months"] + 48).clip(upper=120)  # the gate fault table's covariate drift
    return frame


@pytest.fixture
def drifted(s3: Any) -> StepDriver:
    driver = StepDriver(churn_config(), s3.client())
    assert driver.config.expectations.drift.on_drift == "fail"  # churn ships fail: the lock
    driver.write_landing(7, rows_per_day=300)
    driver.run(7)  # the champion, trained on 2026-01-01..07
    write_days(
        driver.client, driver.config.dataset, _older, first_day=FIRST_DAY + timedelta(days=7), days=7, rows_per_day=300
    )
    return driver


def _events(driver: StepDriver, kind: str) -> list[dict[str, Any]]:
    return [event for event in driver.registry.events() if event["event"] == kind]


def test_drift_fails_without_and_is_a_recorded_warning_with_accept_drift(drifted: StepDriver) -> None:
    champion = drifted.registry.get_alias(CHAMPION)
    locked = drifted.context(DRIFTED_END)
    with pytest.raises(GateFailure, match="'feature': 'tenure_months'"):
        check_drift(locked, ingest(locked))

    params = {"accept_drift": True, "reason": REASON}
    run = drifted.context(DRIFTED_END, params)
    ingested = ingest(run)
    summary = check_drift(run, ingested)

    assert summary.success is True
    assert any("tenure_months" in warning for warning in summary.warnings)
    assert any(note.startswith("accept_drift is set by test (reason: winter customers") for note in summary.notes)
    report = run.store.read_json(run.stage_key("gates", "check_drift.json"))
    accepted = report["context"]["drift_accepted"]
    assert accepted["reason"] == REASON
    assert accepted["triggered_by"] == "test"
    assert any("column='psi', max_value=0.25" in line for line in accepted["waived"])
    html = run.store.read_object(run.stage_key("gates", "check_drift.html")).data.decode()
    assert "drift_accepted" in html
    (event,) = _events(drifted, "drift_accepted")
    assert event["version"] == champion.version
    assert event["reason"] == REASON
    assert event["run_id"] == run.run_id
    assert "tenure_months" in event["details"]["drifted"]
    assert event["details"]["report_uri"] == summary.report_uri

    # A retry of the task (same run id) records no second event.
    check_drift(run, ingested)
    assert len(_events(drifted, "drift_accepted")) == 1
    # The champion is where it was: accepting drift moves nothing by itself.
    assert drifted.registry.get_alias(CHAMPION).version == champion.version

    page = registry_page(
        [VariantSection("churn", read_overview(drifted.config, drifted.registry, now=datetime.now(UTC)))]
    )
    assert "drift_accepted" in page
    assert "drift waived as a warning for run 2026-01-15 only: tenure_months" in page
    assert "ticket ML-42" in page


def test_a_dry_run_that_accepts_drift_records_no_event(drifted: StepDriver) -> None:
    run = drifted.context(DRIFTED_END, {"accept_drift": True, "reason": REASON, "dry_run": True})

    summary = check_drift(run, ingest(run))

    assert summary.success is True
    assert _events(drifted, "drift_accepted") == []


def test_without_drift_nothing_is_waived_and_no_event_is_recorded(s3: Any) -> None:
    driver = StepDriver(churn_config(), s3.client())
    driver.write_landing(14, rows_per_day=300)
    driver.run(7)
    run = driver.context(DRIFTED_END, {"accept_drift": True, "reason": REASON})

    summary = check_drift(run, ingest(run))

    assert summary.success is True
    assert _events(driver, "drift_accepted") == []
    report = run.store.read_json(run.stage_key("gates", "check_drift.json"))
    assert report["context"]["drift_accepted"]["waived"] == []
