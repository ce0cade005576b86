"""Each task's manifest goes through XCom as one value, its one-line ``summary`` first.

With ``multiple_outputs`` left to inference, a task annotated ``-> dict`` also pushed every key of
its manifest as its own XCom row (20 for promote), and the grid view's XCom tab listed them
alphabetically, ``summary`` among them. The run goes through Airflow (dag.test), and the rows are
read back from Airflow's XCom table as the UI reads them.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.e2e.conftest import FIRST_DAY, PipelineHarness, task_states

pytestmark = pytest.mark.e2e


def _xcom_rows(dag_id: str, run_id: str) -> list[tuple[str, str, object]]:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.scalars(select(XComModel).where(XComModel.dag_id == dag_id, XComModel.run_id == run_id))
        return [(row.task_id, row.key, XComModel.deserialize_value(row)) for row in rows]


def test_every_task_returns_one_xcom_value_with_summary_first(churn: PipelineHarness) -> None:
    window_end = FIRST_DAY + timedelta(days=29)
    churn.write_days(FIRST_DAY, 29, rows_per_day=160)

    run = churn.run(window_end)

    states = task_states(run)
    assert set(states.values()) == {"success"}, states
    rows = _xcom_rows(run.dag_id, run.run_id)
    by_task: dict[str, list[tuple[str, object]]] = {}
    for task_id, key, value in rows:
        by_task.setdefault(task_id, []).append((key, value))
    assert set(by_task) == set(states)
    for task_id, pushed in by_task.items():
        assert [key for key, _ in pushed] == ["return_value"], (task_id, [key for key, _ in pushed])
        (_, manifest) = pushed[0]
        assert isinstance(manifest, dict), task_id
        assert next(iter(manifest)) == "summary", (task_id, list(manifest)[:3])
        assert isinstance(manifest["summary"], str), task_id
        assert manifest["summary"], task_id
