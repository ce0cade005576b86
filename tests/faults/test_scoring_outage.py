"""An S3 outage while ``score_churn`` writes predictions (issue 19): through the fault proxy, in Airflow.

The model and the input are fine; the predictions store fails. A short outage is retried (the
client's attempts, then Airflow's task retry) and the retry finishes what the first attempt
started without writing a finished day again. A long one fails the run with every day either
complete (predictions, drift and the manifest that names their sha256) or absent, never half.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from include.retrain.storage import sha256_bytes
from tests.e2e.conftest import task_states
from tests.e2e.scoring_variant import SCORED_DAYS, ScoringHarness, scoring_harness, tries
from tests.faults.proxy import FaultProxy

pytestmark = pytest.mark.e2e


@pytest.fixture
def harness(s3, proxied_connection, airflow_db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ScoringHarness:
    """A champion promoted straight on the server; the DAG's tasks reach S3 through the proxy."""
    harness = scoring_harness(s3, tmp_path, monkeypatch)
    harness.promote_champion()
    return harness


def _part(day) -> str:
    return f"predictions/ds={day.isoformat()}/part.parquet"


def _complete_or_absent(harness: ScoringHarness) -> dict[str, str]:
    """Each scored day's state: ``complete`` (all three objects, digests as the manifest says) or ``absent``."""
    states = {}
    for day in SCORED_DAYS:
        folder = f"{harness.base()}/predictions/ds={day.isoformat()}/"
        keys = harness.keys(folder[len(harness.base()) + 1 :])
        manifest_key = folder + "manifest.json"
        if manifest_key not in keys:
            assert keys in ([], [folder + "drift.json", folder + "part.parquet"], [folder + "part.parquet"]), keys
            states[day.isoformat()] = "absent"
            continue
        manifest = json.loads(harness.get(manifest_key))
        for name in ("part.parquet", "drift.json"):
            assert manifest["files"][name]["sha256"] == sha256_bytes(harness.get(folder + name))
        states[day.isoformat()] = "complete"
    return states


def test_a_short_outage_is_retried_and_the_retry_finishes_the_run(
    harness: ScoringHarness, fault_proxy: FaultProxy
) -> None:
    # Two 503s: both of the client's attempts of the first task try; Airflow's retry then gets through.
    fault = fault_proxy.fail("PUT", _part(SCORED_DAYS[1]), status=503, times=2, code="SlowDown")

    run = harness.score()

    assert fault.hits == 2
    assert task_states(run) == {"score_partitions": "success"}
    assert tries(run) == {"score_partitions": 2}
    assert set(_complete_or_absent(harness).values()) == {"complete"}
    # The day the first try finished was not written again by the retry.
    assert fault_proxy.count("PUT", _part(SCORED_DAYS[0])) == 1
    assert fault_proxy.count("PUT", _part(SCORED_DAYS[1])) == 3


def test_a_long_outage_fails_the_run_leaving_no_partial_predictions(
    harness: ScoringHarness, fault_proxy: FaultProxy
) -> None:
    fault_proxy.fail("PUT", _part(SCORED_DAYS[1]), status=503, times=None, code="SlowDown")

    failed = harness.score()

    assert task_states(failed) == {"score_partitions": "failed"}
    assert tries(failed) == {"score_partitions": 2}  # an infra failure: retried before giving up
    days = [day.isoformat() for day in SCORED_DAYS]
    assert _complete_or_absent(harness) == {days[0]: "complete", days[1]: "absent", days[2]: "absent"}
    assert harness.keys(f"predictions/ds={days[1]}/") == []  # a failed PUT leaves nothing behind

    fault_proxy.clear()
    again = harness.score()  # the outage is over: the same run again finishes the rest
    assert task_states(again) == {"score_partitions": "success"}
    assert set(_complete_or_absent(harness).values()) == {"complete"}
    assert fault_proxy.count("PUT", _part(SCORED_DAYS[0])) == 1
