"""The docs site's task and Params tables come from what the DAGs use: the grid docs and the trigger forms."""

from __future__ import annotations

from dags.retrain_factory.docs import TASK_DOCS, params_table_markdown, task_table_markdown
from dags.retrain_factory.params import build_params, build_rollback_params
from include.retrain.config import load_pipeline, pipelines_dir


def test_the_task_table_lists_every_task_doc_in_run_order() -> None:
    rows = [line for line in task_table_markdown().splitlines()[2:]]
    assert [row.split("`")[1] for row in rows] == list(TASK_DOCS)
    assert list(TASK_DOCS) == [
        "ingest",
        "validate_raw",
        "build_features",
        "validate_features",
        "check_drift",
        "train",
        "evaluate",
        "validate_model",
        "promote",
    ]
    for name, doc in TASK_DOCS.items():
        assert f"| `{name}` | {doc} |" in rows


def test_the_params_table_lists_every_param_with_its_bounds_and_default() -> None:
    params = build_params(load_pipeline(pipelines_dir() / "churn.yaml"))
    rows = {line.split("`")[1]: line for line in params_table_markdown(params).splitlines()[2:]}
    assert list(rows) == list(params)
    assert "| integer 1 to 3650, or empty | empty |" in rows["window_days"]
    assert "| number in (0, 1], or empty | `1` |" in rows["sample_fraction"]
    assert "| boolean, or empty | off |" in rows["dry_run"]


def test_the_rollback_reason_is_required_and_version_ids_are_escaped() -> None:
    rows = {line.split("`")[1]: line for line in params_table_markdown(build_rollback_params()).splitlines()[2:]}
    assert "| **required** |" in rows["reason"]
    assert "v&lt;YYYYMMDD&gt;-&lt;hash&gt;" in rows["to_version"]
