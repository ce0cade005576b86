"""A broken variant YAML never takes the other variants down, and says what is wrong in the UI.

Each case adds one broken file next to the shipped variants and parses the DAG folder the way
the dag-processor does. The shipped variants still load as normal retraining DAGs; the broken
file becomes a paused ``BROKEN CONFIG`` DAG whose description names the file and the field,
and whose docs and task error carry the full reason.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from include.retrain.config import DEFAULT_PIPELINES_DIR

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SHIPPED = {f"retrain_{path.stem}" for path in DEFAULT_PIPELINES_DIR.glob("*.yaml")}


def churn() -> dict[str, Any]:
    return yaml.safe_load((DEFAULT_PIPELINES_DIR / "churn.yaml").read_text())


def broken(change: Callable[[dict[str, Any]], None], name: str = "churn_eu") -> str:
    """A copy of churn.yaml renamed to ``name`` with one change applied."""
    config = churn()
    config["name"] = name
    change(config)
    return yaml.safe_dump(config, sort_keys=False)


CASES = {
    "unknown-key": (
        "churn_eu.yaml",
        broken(lambda c: c.update(colour="blue")),
        "colour",
        "unknown key",
    ),
    "wrong-type": (
        "churn_eu.yaml",
        broken(lambda c: c["window"].update(days="many")),
        "window.days",
        "valid integer",
    ),
    "unknown-estimator": (
        "churn_eu.yaml",
        broken(lambda c: c["model"].update(estimator="sklearn.svm.SVC")),
        "model.estimator",
        "not an allowed estimator",
    ),
    "target-not-in-schema": (
        "churn_eu.yaml",
        broken(lambda c: c["dataset"].update(target="cancelled")),
        "dataset",
        "target 'cancelled' is not a column",
    ),
    "bad-cron": (
        "churn_eu.yaml",
        broken(lambda c: c["schedule"].update(cron="61 25 * * *")),
        "schedule.cron",
        "not a valid cron expression",
    ),
    "empty-features": (
        "churn_eu.yaml",
        broken(lambda c: c.update(features={"numeric": [], "categorical": []})),
        "features",
        "at least one feature is required",
    ),
    "alias-bomb": (
        "churn_eu.yaml",
        "name: churn_eu\nl0: &l0 {"
        + ", ".join(f"k{i}: lol" for i in range(10))
        + "}\n"
        + "".join(
            f"l{level}: &l{level} {{" + ", ".join(f"k{i}: *l{level - 1}" for i in range(10)) + "}\n"
            for level in range(1, 9)
        ),
        "line 2",
        "anchors and aliases",
    ),
    "yaml-syntax-error": (
        "churn_eu.yaml",
        "name: churn_eu\nmodel: {estimator: [unclosed\n",
        "YAML syntax error",
        "line",
    ),
    "unknown-timezone": (
        "churn_eu.yaml",
        broken(lambda c: c["schedule"].update(timezone="Mars/Olympus")),
        "schedule.timezone",
        "unknown timezone",
    ),
    "path-traversal-prefix": (
        "churn_eu.yaml",
        broken(lambda c: c["storage"].update(prefix="../other-team")),
        "storage.prefix",
        "unsafe path segment",
    ),
}


def _parse():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(PROJECT_ROOT / "dags"))


@pytest.mark.parametrize(("filename", "text", "field", "reason"), CASES.values(), ids=CASES.keys())
def test_broken_file_is_isolated_and_explained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, filename: str, text: str, field: str, reason: str
) -> None:
    for path in DEFAULT_PIPELINES_DIR.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    (tmp_path / filename).write_text(text)
    monkeypatch.setenv("RETRAIN_PIPELINES_DIR", str(tmp_path))

    bag = _parse()

    assert bag.import_errors == {}
    for dag_id in SHIPPED:
        assert "broken-config" not in bag.dags[dag_id].tags, dag_id
        assert bag.dags[dag_id].get_task("promote") is not None
    broken_ids = [dag_id for dag_id, dag in bag.dags.items() if "broken-config" in dag.tags]
    assert len(broken_ids) == 1
    dag = bag.dags[broken_ids[0]]
    assert dag.description.startswith(f"BROKEN CONFIG {filename}: {field}")
    assert reason in dag.doc_md
    assert dag.dag_display_name.startswith("BROKEN CONFIG")
    assert dag.schedule is None or dag.timetable.summary in ("None", "")
    assert [task.task_id for task in dag.tasks] == ["config_error"]


def test_the_broken_config_task_fails_with_the_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    filename, text, field, reason = CASES["unknown-estimator"]
    (tmp_path / filename).write_text(text)
    monkeypatch.setenv("RETRAIN_PIPELINES_DIR", str(tmp_path))

    dag = _parse().dags["retrain_churn_eu"]

    with pytest.raises(AirflowFailException, match=reason) as raised:
        dag.get_task("config_error").python_callable()
    assert filename in str(raised.value)
    assert field in str(raised.value)


def _copy_shipped(folder: Path) -> None:
    for path in DEFAULT_PIPELINES_DIR.glob("*.yaml"):
        shutil.copy(path, folder / path.name)


def _broken(bag) -> dict[str, Any]:
    return {dag_id: dag for dag_id, dag in bag.dags.items() if "broken-config" in dag.tags}


def test_a_copied_file_keeping_the_name_breaks_both_dags_instead_of_taking_one_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``churn-experiment.yaml`` still saying ``name: churn`` sorts first; it must not own retrain_churn."""
    _copy_shipped(tmp_path)
    (tmp_path / "churn-experiment.yaml").write_text(broken(lambda c: None, name="churn"))
    monkeypatch.setenv("RETRAIN_PIPELINES_DIR", str(tmp_path))

    bag = _parse()

    assert bag.import_errors == {}
    broken_dags = _broken(bag)
    assert set(broken_dags) == {"retrain_churn", "retrain_churn_experiment"}
    for dag_id, own, other in (
        ("retrain_churn", "churn.yaml", "churn-experiment.yaml"),
        ("retrain_churn_experiment", "churn-experiment.yaml", "churn.yaml"),
    ):
        dag = broken_dags[dag_id]
        assert dag.description.startswith(f"BROKEN CONFIG {own}: name"), dag.description
        assert other in dag.doc_md
        assert "also claimed by" in dag.doc_md
    assert "rollback_churn" not in bag.dags
    assert "broken-config" not in bag.dags["retrain_demand"].tags


def test_overlapping_storage_prefixes_break_both_dags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _copy_shipped(tmp_path)
    text = broken(lambda c: c["storage"].update(prefix="retraining/churn/registry"))
    (tmp_path / "churn_eu.yaml").write_text(text)
    monkeypatch.setenv("RETRAIN_PIPELINES_DIR", str(tmp_path))

    bag = _parse()

    assert bag.import_errors == {}
    broken_dags = _broken(bag)
    assert set(broken_dags) == {"retrain_churn", "retrain_churn_eu"}
    for dag in broken_dags.values():
        assert "storage.prefix" in dag.description
        assert "s3://retrain-artifacts/retraining/churn/registry/churn_eu/" in dag.doc_md
        assert "s3://retrain-artifacts/retraining/churn/" in dag.doc_md
    assert "churn_eu.yaml" in broken_dags["retrain_churn"].doc_md
    assert "churn.yaml" in broken_dags["retrain_churn_eu"].doc_md
    assert "broken-config" not in bag.dags["retrain_demand"].tags
