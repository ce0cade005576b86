"""Data-aware scheduling: watch_landing announces new partitions as Asset events.

The watcher runs through Airflow (dag.test) against the loopback S3 endpoint: the first check
announces the newest partition, a check with nothing new is skipped and emits no event, and a
newly landed day is announced with the previous one recorded.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.asset_events import asset_events
from tests.e2e.conftest import FIRST_DAY, PipelineHarness, task_states

pytestmark = pytest.mark.e2e


def _run_watcher(day) -> dict[str, str]:
    import pendulum
    from airflow.dag_processing.dagbag import DagBag

    from tests.e2e.conftest import PROJECT_ROOT

    dag = DagBag(dag_folder=str(PROJECT_ROOT / "dags")).get_dag("watch_landing")
    run = dag.test(logical_date=pendulum.datetime(day.year, day.month, day.day, 12, tz="UTC"))
    return task_states(run)


def test_new_partitions_are_announced_once(harness_for) -> None:
    demand: PipelineHarness = harness_for("demand")
    asset = f"landing/{demand.config.dataset.bucket}/demand"
    before = asset_events(asset)
    demand.write_days(FIRST_DAY, 3, rows_per_day=20)

    first = _run_watcher(FIRST_DAY + timedelta(days=3))
    again = _run_watcher(FIRST_DAY + timedelta(days=3))
    demand.write_days(FIRST_DAY + timedelta(days=3), 1, rows_per_day=20)
    later = _run_watcher(FIRST_DAY + timedelta(days=4))

    assert list(first.values()) == ["success"]
    assert list(again.values()) == ["skipped"]
    assert list(later.values()) == ["success"]
    new_events = asset_events(asset)[len(before) :]
    assert [e["newest_partition"] for e in new_events] == ["2026-01-03", "2026-01-04"]
    assert new_events[1]["previous_partition"] == "2026-01-03"
