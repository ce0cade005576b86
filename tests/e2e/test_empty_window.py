"""A training window without landing data fails at ``ingest``, once, with one message that says why.

Before, ingest wrote an empty frame and reported success with 0 partitions; ``validate_raw`` then
failed with four expectations, three of them side effects of having no rows, and nothing said
where the data was or which days it covered. The run goes through Airflow (dag.test) against the
loopback S3 endpoint, with a champion in place that must stay.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from include.retrain.registry import CHAMPION
from tests.e2e.conftest import FIRST_DAY, PipelineHarness, assert_failed_once_at_ingest, task_states

pytestmark = pytest.mark.e2e

LANDED_DAYS = 29  # 2026-01-01 .. 2026-01-29
LATE_END = date(2026, 3, 1)  # window 2026-02-01 .. 2026-02-28: after the last landed day


def test_empty_window_fails_ingest_once_naming_window_landing_and_partitions(
    churn: PipelineHarness, capfd: pytest.CaptureFixture[str]
) -> None:
    churn.write_days(FIRST_DAY, LANDED_DAYS, rows_per_day=160)
    first = churn.run(FIRST_DAY + timedelta(days=LANDED_DAYS))
    assert set(task_states(first).values()) == {"success"}, task_states(first)
    champion = churn.registry.get_alias(CHAMPION)
    versions, events = churn.registry.list_versions(), churn.registry.events()
    capfd.readouterr()

    run = churn.run(LATE_END)

    assert_failed_once_at_ingest(run)

    logs = capfd.readouterr()
    text = logs.out + logs.err
    expected = (
        "no landing data in the training window 2026-02-01..2026-02-28 (28 days) under "
        "s3://retrain-landing/churn/: its partitions run from ds=2026-01-01 (oldest) to ds=2026-01-29 (newest)"
    )
    assert expected in text
    assert "AirflowFailException" in text
    # No downstream gate noise: no gate ran, so no gate wrote a report or failed.
    assert "Gate validate_raw failed" not in text
    folder = churn.run_folder(LATE_END.isoformat())
    assert not churn.store.list_keys(folder + "/gates/")

    after = churn.registry.get_alias(CHAMPION)
    assert (after.version, after.etag) == (champion.version, champion.etag)
    assert churn.registry.list_versions() == versions
    assert churn.registry.events() == events
