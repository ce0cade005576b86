"""A window that ends before ``schedule.start_date`` is refused, naming both dates (issue 16.4).

Airflow creates no task instance for a run whose logical date is before the DAG's start date, so
before this such a run succeeded having done nothing, and a ``window_end`` Param before the start
date trained on data the variant does not cover. The Param case runs through Airflow (dag.test)
against the loopback S3 endpoint: the run's first task fails at once (a data failure, no retry)
with a message naming the window end and the start date, and nothing is registered.
"""

from __future__ import annotations

from datetime import date

import pytest

from dev.local_s3 import REGION
from tests.e2e.conftest import PipelineHarness, assert_failed_once_at_ingest

pytestmark = pytest.mark.e2e

BEFORE_START = date(2025, 12, 1)  # churn's schedule.start_date is 2026-01-01


def test_window_end_param_before_start_date_fails_the_first_task_naming_both_dates(
    churn: PipelineHarness, capfd: pytest.CaptureFixture[str]
) -> None:
    # Landing data exists for the window, so only the start date can stop the run.
    churn.write_days(date(2025, 11, 1), 30, rows_per_day=60)

    run = churn.run(date(2026, 1, 20), conf={"window_end": BEFORE_START.isoformat(), "window_days": 30})

    assert_failed_once_at_ingest(run)
    logs = capfd.readouterr()
    text = logs.out + logs.err
    assert (
        "window end 2025-12-01 (the Param window_end) is before schedule.start_date 2026-01-01 of variant 'churn'"
        in text
    )
    assert "AirflowFailException" in text
    assert churn.registry.list_versions() == []
    assert churn.registry.events() == []


def test_a_dag_test_run_before_start_date_is_refused_instead_of_an_empty_success(churn: PipelineHarness) -> None:
    """dag.test() (the demo, the CLI, these tests) refuses before Airflow makes an empty run of it."""
    from include.retrain.errors import InvalidRunOptions

    with pytest.raises(InvalidRunOptions) as info:
        churn.run(BEFORE_START)

    assert str(info.value).startswith(
        "window end 2025-12-01 is before schedule.start_date 2026-01-01 of retrain_churn: Airflow creates no task "
        "instance for a logical date before the DAG's start date"
    )


def test_the_cli_refuses_a_window_end_before_start_date(s3, tmp_path) -> None:
    from tests.e2e.test_cli import cli

    done = cli(
        "run", "churn", "--window-end", BEFORE_START.isoformat(), "--endpoint-url", s3.endpoint_url,
        "--region", REGION, "--airflow-home", str(tmp_path / "airflow"),
    )  # fmt: skip

    assert done.returncode == 2, done.stdout + done.stderr
    assert "window end 2025-12-01 is before schedule.start_date 2026-01-01 of retrain_churn" in done.stderr
