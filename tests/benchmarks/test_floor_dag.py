"""benchmarks.floor_dag: the DAGs that measure the least a run of the bundle's tasks can cost.

A floor is only a fair lower bound if it has the measured DAG's tasks and dependencies, does the
bare script's work and nothing more than it says, and runs through the same child the measured
run does.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from benchmarks.common import PROJECT_ROOT, bench_environment, run_child
from benchmarks.floor_dag import FLOOR_DAG_ID, FLOOR_DUTIES_DAG_ID, FLOOR_GX_DAG_ID, write_floor_dags
from benchmarks.landing import write_window
from include.retrain.config import load_pipeline, pipelines_dir
from include.retrain.monitoring.links import GATES

CHURN = pipelines_dir() / "churn.yaml"


def _shape(dag: Any) -> dict[str, list[str]]:
    return {task.task_id: sorted(task.upstream_task_ids) for task in dag.tasks}


@pytest.fixture(scope="module")
def churn_shape(airflow_db: Path) -> dict[str, list[str]]:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags"))
    return _shape(bag.get_dag("retrain_churn"))


def test_every_floor_has_the_measured_dags_tasks_and_dependencies(
    churn_shape: dict[str, list[str]], tmp_path: Path
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    write_floor_dags(tmp_path, "retrain_churn", churn_shape, GATES, "train", (CHURN, tmp_path / "landing"))

    bag = DagBag(dag_folder=str(tmp_path))
    assert not bag.import_errors
    assert len(churn_shape) > 5  # the real DAG, not an empty map
    assert set(GATES) < set(churn_shape)
    plain, gx, duties = (bag.get_dag(dag_id) for dag_id in (FLOOR_DAG_ID, FLOOR_GX_DAG_ID, FLOOR_DUTIES_DAG_ID))
    assert _shape(plain) == _shape(gx) == _shape(duties) == churn_shape
    assert {task.task_id: task.python_callable.__name__ for task in plain.tasks} == {
        task_id: "bare_work" if task_id == "train" else "noop" for task_id in churn_shape
    }
    assert {task.task_id: task.python_callable.__name__ for task in gx.tasks} == {
        task_id: "bare_work" if task_id == "train" else "import_gx" if task_id in GATES else "noop"
        for task_id in churn_shape
    }
    assert {task.task_id: task.python_callable.__name__ for task in duties.tasks} == {
        task_id: "duties_work" if task_id == "train" else "import_gx" if task_id in GATES else "noop"
        for task_id in churn_shape
    }


def test_the_duties_floor_fits_persists_and_scores_twice_through_the_e2e_child(
    churn_shape: dict[str, list[str]], tmp_path: Path, airflow_db: Path, s3_client: Any
) -> None:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    landing = tmp_path / "landing"
    landing.mkdir()
    window = write_window(
        s3_client, load_pipeline(CHURN).dataset, rows=2800, window_end=date(2026, 2, 1), days=28, local_dir=landing
    )
    folder = write_floor_dags(tmp_path / "dags", "retrain_churn", churn_shape, GATES, "train", (CHURN, landing)).parent
    env = {**bench_environment(airflow_db), "AIRFLOW__CORE__DAGS_FOLDER": str(folder)}

    # The duties floor: the GX floor's gates, and train's bare work plus a skops dump and two scorings.
    child = run_child("benchmarks.e2e_child", [FLOOR_DUTIES_DAG_ID, "2026-02-01", "{}"], env)

    assert child.output["state"] == "success"
    assert {name: task["state"] for name, task in child.output["tasks"].items()} == dict.fromkeys(
        churn_shape, "success"
    )
    assert child.output["upstream"] == churn_shape
    with create_session() as session:
        [row] = session.scalars(
            select(XComModel).where(
                XComModel.dag_id == FLOOR_DUTIES_DAG_ID, XComModel.task_id == "train", XComModel.key == "return_value"
            )
        ).all()
        fitted = XComModel.deserialize_value(row)
    assert fitted["rows"] == window.rows == 2800
    assert 0 < fitted["train_rows"] < 2800  # the hash split kept the training rows only
    assert fitted["model_bytes"] > 10_000  # the fitted pipeline, persisted with skops
    # the holdout scored twice (candidate, champion): the same model on the same rows
    assert 0.5 < fitted["holdout_metric"] == fitted["champion_holdout_metric"] <= 1.0


@pytest.mark.parametrize(
    ("upstream", "gates", "work_task", "unknown"),
    [
        ({"a": [], "b": ["a", "gone"]}, [], "a", "['gone']"),
        ({"a": [], "b": ["a"]}, ["b", "c"], "a", "['c']"),
        ({"a": [], "b": ["a"]}, ["b"], "fit", "['fit']"),
    ],
)
def test_a_task_id_that_is_not_a_task_is_refused(
    tmp_path: Path, upstream: dict[str, list[str]], gates: list[str], work_task: str, unknown: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(f"task ids {unknown} are not tasks of retrain_x")):
        write_floor_dags(tmp_path, "retrain_x", upstream, gates, work_task, (CHURN, tmp_path))
    assert not list(tmp_path.iterdir())
