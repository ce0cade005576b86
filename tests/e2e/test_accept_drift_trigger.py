"""The trigger Param ``accept_drift`` through Airflow (dag.test): a drift-locked window runs on (issue 16.8).

churn ships ``on_drift: fail``. After a champion, a window where every customer is 48 months older
fails ``check_drift``; triggered with ``accept_drift`` and a reason, the same window passes
``check_drift`` with its drift as warnings, the run goes on to the other gates, and the registry
holds one ``drift_accepted`` event with the reason. The Param is validated by Airflow's form
schema (nullable boolean) and by the run's first task (the reason).
"""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from tests.e2e.conftest import FIRST_DAY, PipelineHarness, task_states

pytestmark = pytest.mark.e2e

ROWS = 160
CHAMPION_END = FIRST_DAY + timedelta(days=29)
DRIFTED_END = CHAMPION_END + timedelta(days=28)
REASON = "older customers after the migration, confirmed (ticket ML-7)"


def _older(frame: pd.DataFrame, day) -> pd.DataFrame:
    return frame.assign(tenure_months=(frame["tenure_months"] + 48).clip(upper=120))


def test_accept_drift_lets_a_drifted_window_past_check_drift_and_records_an_event(churn: PipelineHarness) -> None:
    churn.write_days(FIRST_DAY, 29, rows_per_day=ROWS)
    first = churn.run(CHAMPION_END)
    assert set(task_states(first).values()) == {"success"}, task_states(first)
    churn.write_days(CHAMPION_END, 28, rows_per_day=ROWS, alter=_older)

    run = churn.run(DRIFTED_END, conf={"accept_drift": True, "reason": REASON})

    states = task_states(run)
    assert states["check_drift"] == "success", states
    assert states["train"] == "success", states
    report = churn.store.read_json(churn.run_folder(DRIFTED_END.isoformat()) + "/gates/check_drift.json")
    assert report["success"] is True
    assert report["context"]["drift_accepted"]["reason"] == REASON
    assert any("tenure_months" in line for line in report["context"]["drift_accepted"]["waived"])
    (event,) = [e for e in churn.registry.events() if e["event"] == "drift_accepted"]
    assert event["reason"] == REASON
    assert event["run_id"] == run.run_id
    assert "tenure_months" in event["details"]["drifted"]
