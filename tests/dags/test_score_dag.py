"""``score_<name>``: only for variants with ``scoring``, scheduled as configured (cron, the landing
Asset, or either), one retried task that emits the ``predictions/<name>`` Asset, and the landing
watcher watches its dataset when it scores on new data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from include.retrain.config import DEFAULT_PIPELINES_DIR

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _bag(folder: Path, monkeypatch: pytest.MonkeyPatch, scoring: dict[str, Any] | None) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    raw = yaml.safe_load((DEFAULT_PIPELINES_DIR / "churn.yaml").read_text())
    if scoring is not None:
        raw["scoring"] = scoring
    (folder / "churn.yaml").write_text(yaml.safe_dump(raw))
    monkeypatch.setenv("RETRAIN_PIPELINES_DIR", str(folder))
    bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags"))
    assert bag.import_errors == {}
    return bag


def test_no_scoring_section_no_scoring_dag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bag = _bag(tmp_path, monkeypatch, None)
    assert not [dag_id for dag_id in bag.dags if dag_id.startswith("score_")]
    assert "watch_landing" not in bag.dags  # churn retrains on a cron only


def test_the_scoring_dag_follows_the_house_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bag = _bag(tmp_path, monkeypatch, {"cron": "0 6 * * *"})

    dag = bag.dags["score_churn"]
    assert {"scoring", "churn"} <= set(dag.tags)
    assert dag.doc_md
    assert "predictions/ds=<date>/" in dag.doc_md
    assert not dag.catchup
    assert dag.max_active_runs == 1
    (task,) = dag.tasks
    assert task.task_id == "score_partitions"
    assert task.owner == "ml-platform"
    assert task.doc_md
    assert "no retry" in task.doc_md
    assert task.retries >= 2
    assert task.retry_exponential_backoff
    assert task.execution_timeout is not None
    assert [(asset.name, asset.uri) for asset in task.outlets] == [("predictions/churn", "predictions/churn")]
    assert task.outlets[0].extra["s3_uri"] == "s3://retrain-artifacts/retraining/churn/predictions/"


def test_measure_live_follows_scoring_only_with_a_label_delay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bag = _bag(tmp_path, monkeypatch, {"cron": "0 6 * * *", "label_delay_days": 2})

    dag = bag.dags["score_churn"]
    assert sorted(task.task_id for task in dag.tasks) == ["measure_live", "score_partitions"]
    live = dag.get_task("measure_live")
    assert live.upstream_task_ids == {"score_partitions"}
    assert live.trigger_rule == "none_failed"  # a run with nothing new to score (skipped) still measures
    assert live.retries >= 2
    assert not live.outlets
    assert "registry/live/<version>/ds=<D>.json" in live.doc_md


def test_request_retrain_follows_measure_live_with_retrain_when(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    raw = yaml.safe_load((DEFAULT_PIPELINES_DIR / "churn.yaml").read_text())
    raw["scoring"] = {"cron": "0 6 * * *", "label_delay_days": 2}
    raw["monitoring"] = {"retrain_when": {"live_metric_below": 0.7, "serving_psi_above": 0.3, "for_days": 2}}
    (tmp_path / "churn.yaml").write_text(yaml.safe_dump(raw))
    monkeypatch.setenv("RETRAIN_PIPELINES_DIR", str(tmp_path))
    bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags"))
    assert bag.import_errors == {}

    dag = bag.dags["score_churn"]
    request = dag.get_task("request_retrain")
    assert request.upstream_task_ids == {"measure_live"}
    assert request.trigger_rule == "none_failed"
    assert [asset.name for asset in request.outlets] == ["retrain-request/churn"]
    assert "retrain-request/churn" in repr(bag.dags["retrain_churn"].timetable)


@pytest.mark.parametrize(
    ("scoring", "kind"),
    [
        ({"cron": "0 6 * * *", "on_new_data": False}, "CronTriggerTimetable"),
        ({"on_new_data": True}, "AssetTriggeredTimetable"),
        ({"cron": "0 6 * * *", "on_new_data": True}, "AssetOrTimeSchedule"),
    ],
)
def test_the_schedule_is_the_cron_the_landing_asset_or_either(
    scoring: dict[str, Any], kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bag = _bag(tmp_path, monkeypatch, scoring)

    dag = bag.dags["score_churn"]
    assert type(dag.timetable).__name__ == kind
    if scoring["on_new_data"]:
        (watch,) = bag.dags["watch_landing"].tasks
        assert watch.task_id == "watch_retrain_landing_churn"
        assert [asset.name for asset in watch.outlets] == ["landing/retrain-landing/churn"]
        assert "landing/retrain-landing/churn" in repr(dag.timetable)
    else:
        assert "watch_landing" not in bag.dags
    assert type(bag.dags["retrain_churn"].timetable).__name__ == "CronTriggerTimetable"  # retrain keeps its cron


def test_the_scoring_dag_imports_no_heavy_library_at_parse_time(tmp_path: Path) -> None:
    """Parsing a variant with scoring loads no data library: the task body imports them when it runs."""
    import json
    import os
    import subprocess
    import sys

    raw = yaml.safe_load((DEFAULT_PIPELINES_DIR / "churn.yaml").read_text())
    raw["scoring"] = {"cron": "@daily"}
    (tmp_path / "churn.yaml").write_text(yaml.safe_dump(raw))
    heavy = ["pandas", "numpy", "sklearn", "great_expectations", "boto3", "botocore", "skops", "pyarrow"]
    script = (
        "import json, sys\n"
        "from airflow.dag_processing.dagbag import DagBag\n"
        f"bag = DagBag(dag_folder={str(PROJECT_ROOT / 'dags')!r})\n"
        "assert not bag.import_errors, bag.import_errors\n"
        "assert 'score_churn' in bag.dags\n"
        f"print(json.dumps([m for m in {heavy!r} if m in sys.modules]))\n"
    )
    env = {**os.environ, "RETRAIN_PIPELINES_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env)
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
