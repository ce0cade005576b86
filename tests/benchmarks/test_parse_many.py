"""benchmarks.bench_parse_many: its 100 variants are valid, distinct variants, and its floor has the bundle's shape."""

from __future__ import annotations

from pathlib import Path

from benchmarks.bench_parse_many import floor_folder, variant_folder
from include.retrain.config import discover_pipelines


def test_the_generated_variants_load_under_their_own_names(tmp_path: Path) -> None:
    folder = variant_folder(tmp_path / "pipelines", 5)
    sources = discover_pipelines(folder)
    assert all(source.error is None for source in sources), [s.error for s in sources]
    names = sorted(source.config.name for source in sources if source.config is not None)
    assert len(names) == len(set(names)) == 5
    assert names[0].endswith("_000")


def test_the_floor_defines_each_dag_with_its_task_count_as_a_chain(tmp_path: Path) -> None:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(floor_folder(tmp_path / "floor", {"retrain_a": 3, "rollback_a": 1})))

    assert bag.import_errors == {}
    assert {dag_id: len(dag.tasks) for dag_id, dag in bag.dags.items()} == {"retrain_a": 3, "rollback_a": 1}
    first = bag.dags["retrain_a"].get_task("t0")
    assert first.downstream_task_ids == {"t1"}


def test_the_params_floor_gives_each_dag_the_same_trigger_form(tmp_path: Path) -> None:
    from airflow.dag_processing.dagbag import DagBag

    schema = {"type": ["null", "integer"], "minimum": 1, "title": "Days"}
    params = {"retrain_a": {"days": [None, "How many days.", schema]}}
    bag = DagBag(dag_folder=str(floor_folder(tmp_path / "floor", {"retrain_a": 2, "rollback_a": 1}, params)))

    assert bag.import_errors == {}
    form = bag.dags["retrain_a"].params.get_param("days")
    assert [form.value, form.description, form.schema] == params["retrain_a"]["days"]
    assert not bag.dags["rollback_a"].params
    # Airflow copies a DAG's Params into each task: the cost the params floor measures.
    assert "days" in bag.dags["retrain_a"].get_task("t1").params
