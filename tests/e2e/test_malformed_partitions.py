"""Folders under the landing prefix that are no ``ds=YYYY-MM-DD`` day are skipped, and said to be.

Before, ``ds=2026-13-40/`` or ``ds=yesterday/`` were ignored without a word in any report: data
someone meant to land was silently left out. The run goes through Airflow (dag.test) against the
loopback S3 endpoint: it still succeeds on the good partitions, and both the ingest manifest and
validate_raw's reports (JSON and HTML) name every skipped folder.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from dev.synthetic import GENERATORS
from dev.synthetic.landing import encode_frame
from tests.e2e.conftest import FIRST_DAY, PipelineHarness, task_states

pytestmark = pytest.mark.e2e

MALFORMED = ["ds=2026-13-40/", "ds=yesterday/"]


def test_malformed_partition_folders_are_listed_not_read(churn: PipelineHarness) -> None:
    window_end = FIRST_DAY + timedelta(days=29)
    churn.write_days(FIRST_DAY, 29, rows_per_day=160)
    dataset = churn.config.dataset
    body = encode_frame(GENERATORS[dataset.name](FIRST_DAY, 50), dataset.format)
    for folder in MALFORMED:
        churn.client.put_object(Bucket=dataset.bucket, Key=f"{dataset.landing_prefix}{folder}part-0.parquet", Body=body)

    run = churn.run(window_end)

    assert set(task_states(run).values()) == {"success"}, task_states(run)
    folder = churn.run_folder(window_end.isoformat())
    skipped = [f"s3://{dataset.bucket}/{dataset.landing_prefix}{name}" for name in MALFORMED]
    ingest = churn.store.read_json(f"{folder}/ingest/manifest.json")
    assert ingest["skipped_folders"] == skipped
    assert ingest["partitions"] == 28
    assert ingest["rows"] == 28 * 160  # the skipped folders' rows were not read
    report = churn.store.read_json(f"{folder}/gates/validate_raw.json")
    assert report["success"] is True
    assert report["notes"] == [
        f"skipped {uri}: not a ds=YYYY-MM-DD partition folder, its files were not read" for uri in skipped
    ]
    page = churn.client.get_object(Bucket=churn.config.storage.bucket, Key=f"{folder}/gates/validate_raw.html")
    html = page["Body"].read().decode()
    assert all(uri in html for uri in skipped)
