"""Manual-trigger Params end to end: validated before a run exists, and honoured by the run."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from include.retrain.context import dry_run_key
from include.retrain.registry import CHAMPION
from tests.e2e.conftest import FIRST_DAY, PipelineHarness, assert_failed_once_at_ingest, task_states

pytestmark = pytest.mark.e2e

ROWS = 160  # small days (a half sample of 14 still meets min_rows 1000): these tests are about Params
WINDOW_END = FIRST_DAY + timedelta(days=29)


@pytest.fixture
def churn_with_champion(churn: PipelineHarness) -> PipelineHarness:
    churn.write_days(FIRST_DAY, 31, rows_per_day=ROWS)
    churn.run(WINDOW_END)
    assert churn.registry.get_alias(CHAMPION) is not None
    return churn


def _run_ids(dag_id: str) -> set[str]:
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    with create_session() as session:
        return {run.run_id for run in session.query(DagRun).filter(DagRun.dag_id == dag_id)}


@pytest.mark.parametrize(
    ("conf", "param"),
    [
        ({"window_days": 0}, "window_days"),
        ({"window_end": "last tuesday"}, "window_end"),
        ({"window_end": "0001-01-01"}, "window_end"),
        ({"sample_fraction": 0}, "sample_fraction"),
        ({"dry_run": "please"}, "dry_run"),
        ({"model_params": {"kernel": "rbf"}}, "model_params"),
        ({"model_params": {"max_iter": "many"}}, "model_params"),
    ],
    ids=[
        "window-days-zero",
        "window-end-not-a-date",
        "window-end-year-1",
        "sample-zero",
        "dry-run-not-bool",
        "undeclared-param",
        "bad-type",
    ],
)
def test_invalid_params_are_refused_before_a_run_is_created(churn: PipelineHarness, conf: dict, param: str) -> None:
    from airflow.sdk.exceptions import ParamValidationError

    before = _run_ids("retrain_churn")
    with pytest.raises(ParamValidationError, match=f"param {param}"):
        churn.run(WINDOW_END, conf=conf)
    # No new run exists (dag.test itself may have removed an older run of the same date).
    assert _run_ids("retrain_churn") <= before


def test_dry_run_trains_and_evaluates_but_registers_nothing(churn_with_champion: PipelineHarness) -> None:
    churn = churn_with_champion
    versions, events = churn.registry.list_versions(), churn.registry.events()
    champion = churn.registry.get_alias(CHAMPION)

    run = churn.run(WINDOW_END + timedelta(days=1), conf={"dry_run": True})

    assert set(task_states(run).values()) == {"success"}
    run_key = (WINDOW_END + timedelta(days=1)).isoformat()
    # A dry run writes under its own run key, never into the real run's folder.
    assert churn.store.list_keys(churn.run_folder(run_key) + "/") == []
    promoted = churn.store.read_json(churn.run_folder(dry_run_key(run_key, run.run_id)) + "/promote/manifest.json")
    assert promoted["dry_run"] is True
    assert promoted["registered"] is False
    assert isinstance(promoted["would_promote"], bool)
    assert promoted["reason"].startswith("dry run, nothing registered")
    assert churn.registry.list_versions() == versions
    assert churn.registry.events() == events
    assert churn.registry.get_alias(CHAMPION).etag == champion.etag


def test_force_promote_with_a_reason_promotes_and_records_why(churn_with_champion: PipelineHarness) -> None:
    churn = churn_with_champion
    first = churn.registry.get_alias(CHAMPION).version

    run = churn.run(WINDOW_END + timedelta(days=1), conf={"force_promote": True, "reason": "hotfix INC-42"})

    assert set(task_states(run).values()) == {"success"}
    champion = churn.registry.get_alias(CHAMPION)
    assert champion.version != first
    assert champion.previous_version == first
    assert "hotfix INC-42" in champion.reason
    promoted_events = [e for e in churn.registry.events() if e["event"] == "promoted"]
    assert promoted_events[-1]["details"]["forced"] is True
    assert "hotfix INC-42" in promoted_events[-1]["reason"]
    assert promoted_events[-1]["triggered_by"].startswith("manual")


def test_force_promote_without_a_reason_fails_at_once_and_keeps_the_champion(
    churn_with_champion: PipelineHarness, capfd: pytest.CaptureFixture[str]
) -> None:
    churn = churn_with_champion
    champion = churn.registry.get_alias(CHAMPION)
    capfd.readouterr()

    run = churn.run(WINDOW_END + timedelta(days=1), conf={"force_promote": True, "reason": "  "})

    states = task_states(run)
    assert states["ingest"] == "failed"
    assert states["promote"] != "success"
    logs = capfd.readouterr()
    assert "param reason is required" in logs.out + logs.err
    assert churn.registry.get_alias(CHAMPION).etag == champion.etag


def test_window_sample_and_model_params_shape_the_run(churn_with_champion: PipelineHarness) -> None:
    churn = churn_with_champion
    conf = {
        "window_end": "2026-01-25",
        "window_days": 14,
        "sample_fraction": 0.5,
        "model_params": {"max_iter": 20},
    }

    run = churn.run(WINDOW_END + timedelta(days=1), conf=conf)

    assert set(task_states(run).values()) == {"success"}
    folders = {
        key.split("/runs/")[1].split("/")[0] for key in churn.store.list_keys(churn.store.key("churn", "runs") + "/")
    }
    overridden = [f for f in folders if f.startswith("2026-01-25_")]
    assert len(overridden) == 1, folders
    ingest = churn.store.read_json(churn.run_folder(overridden[0]) + "/ingest/manifest.json")
    assert ingest["window"] == {"start": "2026-01-11", "end": "2026-01-25"}
    assert ingest["partitions"] == 14
    assert abs(ingest["rows"] - 14 * ROWS * 0.5) <= 1
    train = churn.store.read_json(churn.run_folder(overridden[0]) + "/train/manifest.json")
    assert train["params"]["max_iter"] == 20
    promoted = churn.store.read_json(churn.run_folder(overridden[0]) + "/promote/manifest.json")
    assert promoted["version"].startswith(f"v{date(2026, 1, 25):%Y%m%d}-")


def test_model_params_the_estimator_refuses_fail_the_first_task_once(
    churn: PipelineHarness, capfd: pytest.CaptureFixture[str]
) -> None:
    """max_iter=-5 passes the Param schema (an integer); the run refuses it before reading any data."""
    churn.write_days(FIRST_DAY, 31, rows_per_day=ROWS)
    capfd.readouterr()

    run = churn.run(WINDOW_END, conf={"model_params": {"max_iter": -5}})

    assert_failed_once_at_ingest(run)
    logs = capfd.readouterr()
    said = r"param model_params: model\.params are invalid for \S+: The 'max_iter' parameter"
    assert re.search(said, logs.out + logs.err)
    assert churn.registry.get_alias(CHAMPION) is None
