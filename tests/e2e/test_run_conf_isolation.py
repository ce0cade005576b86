"""Each run through dag.test() starts from its own conf, also on a DAG object that ran before.

Airflow 3.3's dag.test() resolves a run's conf into the DAG's own Param objects, so on one DAG
object (as the demo and ``include.retrain.cli`` use it) a dry run made the next run a dry run too:
it registered nothing. ``demo.run_dag`` (used by the demo, the CLI and the e2e harness) puts the
Params back after each run.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from include.retrain.registry import CHAMPION
from tests.asset_events import asset_events
from tests.e2e.conftest import FIRST_DAY, task_states

pytestmark = pytest.mark.e2e

DAYS = 8


def test_a_dry_run_then_a_normal_run_on_one_dag_object_registers_a_version(churn) -> None:
    churn.write_days(FIRST_DAY, DAYS + 1, rows_per_day=200)
    dag = churn.dag()
    first_end = FIRST_DAY + timedelta(days=DAYS)

    model_events = len(asset_events("model/churn"))
    dry = churn.run(first_end, {"dry_run": True, "window_days": 7}, dag=dag)
    assert set(task_states(dry).values()) == {"success"}, task_states(dry)
    assert churn.registry.list_versions() == []
    assert len(asset_events("model/churn")) == model_events, "a dry run announced a model change"

    normal = churn.run(first_end + timedelta(days=1), {"window_days": 7}, dag=dag)

    assert set(task_states(normal).values()) == {"success"}, task_states(normal)
    assert normal.conf == {"window_days": 7}
    versions = churn.registry.list_versions()
    assert len(versions) == 1, "the run after a dry run was a dry run too"
    assert churn.registry.get_alias(CHAMPION).version == versions[0]
    (announced,) = asset_events("model/churn")[model_events:]
    assert {k: announced[k] for k in ("champion", "replaced", "change")} == {
        "champion": versions[0],
        "replaced": None,
        "change": "promoted",
    }
    assert announced["run_id"] == normal.run_id
    # and the run after it is an ordinary run again: its Params are the defaults
    assert dag.params["dry_run"] is False
