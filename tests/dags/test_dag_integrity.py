"""DAG integrity: files import with no connections or variables, and every DAG follows the house rules.

Rules: tags and a real owner on every DAG, docs on every task, retries with backoff on tasks
that can hit infra faults (gates included), the training pool on train, one run at a time,
no heavy imports at parse time, a manual-only rollback DAG per variant, and a broken YAML file
never takes the other variants down.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from include.retrain.config import DEFAULT_PIPELINES_DIR

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DAGS_FOLDER = PROJECT_ROOT / "dags"
GATES = {"validate_raw", "validate_features", "check_drift", "validate_model"}
CHAIN = [
    ("ingest", "validate_raw"),
    ("validate_raw", "build_features"),
    ("build_features", "validate_features"),
    ("validate_features", "check_drift"),
    ("check_drift", "train"),
    ("train", "evaluate"),
    ("evaluate", "validate_model"),
    ("validate_model", "promote"),
]
HEAVY_MODULES = ["pandas", "numpy", "sklearn", "great_expectations", "boto3", "botocore", "skops", "pyarrow"]


def _dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_FOLDER))


@pytest.fixture(scope="module")
def dagbag():
    assert not [k for k in os.environ if k.startswith(("AIRFLOW_CONN_", "AIRFLOW_VAR_"))]
    return _dagbag()


@pytest.fixture(scope="module")
def retrain_dags(dagbag):
    return {dag_id: dag for dag_id, dag in dagbag.dags.items() if dag_id.startswith("retrain_")}


@pytest.fixture(scope="module")
def rollback_dags(dagbag):
    return {dag_id: dag for dag_id, dag in dagbag.dags.items() if dag_id.startswith("rollback_")}


def test_dag_files_import_without_errors_connections_or_variables(dagbag) -> None:
    assert dagbag.import_errors == {}
    assert dagbag.dags


def test_one_retrain_dag_per_shipped_pipeline_yaml(retrain_dags) -> None:
    names = {yaml.safe_load(p.read_text())["name"] for p in DEFAULT_PIPELINES_DIR.glob("*.yaml")}
    assert set(retrain_dags) == {f"retrain_{name}" for name in names}


def test_every_dag_has_tags_owner_docs_and_one_run_at_a_time(dagbag) -> None:
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags, dag_id
        assert dag.doc_md, dag_id
        assert not dag.catchup, dag_id
        for task in dag.tasks:
            assert task.owner not in ("", "airflow"), (dag_id, task.task_id)
            assert task.doc_md, (dag_id, task.task_id)
    for dag_id, dag in dagbag.dags.items():
        if dag_id.startswith(("retrain_", "rollback_")):
            assert dag.max_active_runs == 1, dag_id


def test_every_task_gates_included_retries_infra_faults_with_backoff(retrain_dags) -> None:
    """Gates too: a lost worker or an S3 outage is an infra fault; their data verdicts are
    AirflowFailException, never retried (tests/e2e/test_gate_faults.py proves both)."""
    for dag_id, dag in retrain_dags.items():
        for task in dag.tasks:
            assert task.execution_timeout is not None, (dag_id, task.task_id)
            assert task.retries >= 2, (dag_id, task.task_id)
            assert task.retry_exponential_backoff > 1, (dag_id, task.task_id)
            assert task.max_retry_delay is not None, (dag_id, task.task_id)


def test_train_runs_in_the_training_pool(retrain_dags) -> None:
    for dag in retrain_dags.values():
        assert dag.get_task("train").pool == "training"


def test_stages_and_gates_run_in_order(retrain_dags) -> None:
    for dag_id, dag in retrain_dags.items():
        for upstream, downstream in CHAIN:
            assert downstream in dag.get_task(upstream).downstream_task_ids, (dag_id, upstream, downstream)
        promote_upstream = dag.get_task("promote").upstream_task_ids
        assert promote_upstream >= GATES, dag_id


def test_trigger_params_have_titles_descriptions_and_refuse_bad_values(retrain_dags) -> None:
    from airflow.sdk.definitions.param import ParamsDict
    from airflow.sdk.exceptions import ParamValidationError

    dag = retrain_dags["retrain_churn"]
    for name, param in dag.params.items():
        assert param.schema.get("title"), name
        assert param.description, name
    bad_values = {
        "window_days": 0,
        "sample_fraction": 1.5,
        "window_end": "yesterday",
        "dry_run": "yes",
        "model_params": {"not_a_declared_param": 1},
    }
    for name, value in bad_values.items():
        params = ParamsDict(dict(dag.params.items()))
        with pytest.raises(ParamValidationError, match=f"param {name}"):
            params[name] = value  # ParamsDict validates on assignment
    good = ParamsDict(dict(dag.params.items()))
    good["model_params"] = {"max_iter": 10}
    good["window_end"] = "2026-02-01"
    assert good.validate()["model_params"] == {"max_iter": 10}


def test_one_manual_rollback_dag_per_shipped_pipeline_yaml(retrain_dags, rollback_dags) -> None:
    from airflow.sdk.definitions.timetables.simple import NullTimetable

    assert set(rollback_dags) == {dag_id.replace("retrain_", "rollback_", 1) for dag_id in retrain_dags}
    for dag_id, dag in rollback_dags.items():
        assert isinstance(dag.timetable, NullTimetable), dag_id  # manual only, never scheduled
        assert "rollback" in dag.tags, dag_id
        assert [task.task_id for task in dag.tasks] == ["rollback_champion"], dag_id
        task = dag.get_task("rollback_champion")
        assert task.retries >= 2, dag_id
        assert task.retry_exponential_backoff > 1, dag_id
        assert task.max_retry_delay is not None, dag_id
        assert task.execution_timeout is not None, dag_id


def test_rollback_params_require_a_reason(rollback_dags) -> None:
    from airflow.sdk.definitions.param import ParamsDict
    from airflow.sdk.exceptions import ParamValidationError

    dag = rollback_dags["rollback_churn"]
    assert set(dag.params) == {"to_version", "expected_champion", "reason"}
    for name, param in dag.params.items():
        assert param.schema.get("title"), name
        assert param.description, name
    with pytest.raises(ParamValidationError, match="reason"):
        ParamsDict(dict(dag.params.items())).validate()  # the default reason is empty
    filled = ParamsDict(dict(dag.params.items()))
    filled["reason"] = "incident 42"
    # Only the reason is needed: the optional versions are nullable, so the UI form submits None for them.
    assert filled.validate() == {"to_version": None, "expected_champion": None, "reason": "incident 42"}
    for name in ("to_version", "expected_champion"):
        assert dag.params.get_param(name).schema["type"] == ["null", "string"], name
        explicit = ParamsDict(dict(dag.params.items()))
        explicit.update({"reason": "x", name: "v20260101-0123456789"})
        assert explicit.validate()[name] == "v20260101-0123456789"
        with pytest.raises(ParamValidationError, match=name):
            explicit[name] = "../../etc/passwd"  # validated as it is set


def test_dag_files_do_not_import_heavy_libraries_at_parse_time() -> None:
    """Parsing runs in every scheduler loop: data libraries load only inside tasks."""
    script = (
        "import json, sys\n"
        "from airflow.dag_processing.dagbag import DagBag\n"
        f"bag = DagBag(dag_folder={str(DAGS_FOLDER)!r})\n"
        "assert not bag.import_errors, bag.import_errors\n"
        f"print(json.dumps([m for m in {HEAVY_MODULES!r} if m in sys.modules]))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_a_broken_yaml_is_a_marked_dag_and_the_others_still_load(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "churn.yaml").write_text((DEFAULT_PIPELINES_DIR / "churn.yaml").read_text())
    broken = yaml.safe_load((DEFAULT_PIPELINES_DIR / "churn.yaml").read_text())
    broken["name"] = "churn_eu"
    broken["model"]["estimator"] = "sklearn.svm.SVC"
    (tmp_path / "churn_eu.yaml").write_text(yaml.safe_dump(broken))
    (tmp_path / "garbled.yaml").write_text("name: garbled\nmodel: [unclosed\n")
    monkeypatch.setenv("RETRAIN_PIPELINES_DIR", str(tmp_path))

    bag = _dagbag()

    assert bag.import_errors == {}
    # a broken file gets no rollback DAG: without a valid config there is no registry to roll back
    # (nor a freshness check: churn's monitoring adds the check_model_freshness DAG)
    assert set(bag.dags) == {
        "retrain_churn",
        "rollback_churn",
        "retrain_churn_eu",
        "retrain_garbled",
        "check_model_freshness",
    }
    assert [task.task_id for task in bag.dags["check_model_freshness"].tasks] == ["check_churn"]
    assert "broken-config" not in bag.dags["retrain_churn"].tags
    eu = bag.dags["retrain_churn_eu"]
    assert "broken-config" in eu.tags
    assert eu.schedule is None or str(eu.timetable.summary) in ("None", "")
    assert "churn_eu.yaml" in eu.description
    assert "model.estimator" in eu.description
    assert "sklearn.svm.SVC" in eu.doc_md
    garbled = bag.dags["retrain_garbled"]
    assert "YAML syntax error" in garbled.doc_md
    assert "line 3, column 1" in garbled.doc_md  # the unclosed [ is noticed at end of stream
