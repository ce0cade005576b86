"""``python -m include.retrain.cli``, run as a user runs it: a subprocess, against an S3 endpoint.

``run`` trains a YAML-only variant on landing data this test writes and prints the gates, the
metric and the decision; ``check`` lists every problem of a file at once.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from dev.local_s3 import LOOPBACK_ACCESS_KEY, LOOPBACK_SECRET_KEY, REGION
from include.retrain.config import load_pipeline
from include.retrain.registry import CHAMPION
from tests.e2e.conftest import FIRST_DAY, PROJECT_ROOT, PipelineHarness
from tests.e2e.telco_variant import DAYS, ROWS, write_telco_yaml

pytestmark = pytest.mark.e2e


def cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """The command line, in a clean environment: no Airflow settings or connections of the test process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "RETRAIN_"))}
    env.update(
        PYTHONPATH=str(PROJECT_ROOT),
        AWS_ACCESS_KEY_ID=LOOPBACK_ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=LOOPBACK_SECRET_KEY,
        GX_ANALYTICS_ENABLED="false",
    )
    return subprocess.run(
        [sys.executable, "-m", "include.retrain.cli", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One throwaway Airflow home for the module's commands (migrated by the first, reused after)."""
    return tmp_path_factory.mktemp("cli-airflow")


@pytest.mark.long
def test_run_trains_a_yaml_only_variant_and_prints_gates_metric_and_decision(
    s3, tmp_path: Path, airflow_home: Path
) -> None:
    folder = tmp_path / "pipelines"
    folder.mkdir()
    harness = PipelineHarness(load_pipeline(write_telco_yaml(folder)), s3.client())
    harness.write_days(FIRST_DAY, DAYS, rows_per_day=ROWS)
    window_end = FIRST_DAY + timedelta(days=DAYS)
    common = ["--pipelines-dir", str(folder), "--endpoint-url", s3.endpoint_url, "--region", REGION]
    common += ["--airflow-home", str(airflow_home)]

    done = cli("run", "telco", "--window-end", window_end.isoformat(), *common)

    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    print(out)
    assert f"retrain_telco  run key {window_end.isoformat()}  state: SUCCESS" in out
    assert f"ingest              {DAYS} partitions, {DAYS * ROWS} rows" in out
    assert "validate_raw        passed:" in out
    assert "evaluate            holdout accuracy " in out
    assert "champion MOVED" in out
    assert harness.registry.get_alias(CHAMPION) is not None

    # a window without landing data: the run fails at ingest, the command says so and exits 1
    failed = cli("run", "telco", "--window-end", (window_end + timedelta(days=30)).isoformat(), "--dry-run", *common)

    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "state: FAILED" in failed.stdout
    assert "ingest              FAILED" in failed.stdout


def test_run_refuses_a_missing_bucket_before_running(s3, tmp_path: Path, airflow_home: Path) -> None:
    folder = tmp_path / "pipelines"
    folder.mkdir()
    text = (
        (write_telco_yaml(folder)).read_text().replace("  format: csv\n", "  format: csv\n  bucket: no-such-landing\n")
    )
    (folder / "telco.yaml").write_text(text)

    done = cli(
        "run", "telco", "--window-end", "2026-01-05", "--pipelines-dir", str(folder),
        "--endpoint-url", s3.endpoint_url, "--region", REGION, "--airflow-home", str(airflow_home),
    )  # fmt: skip

    assert done.returncode == 2
    assert "dataset.bucket 'no-such-landing'" in done.stderr


def test_check_lists_every_problem_with_file_and_field(tmp_path: Path) -> None:
    good = write_telco_yaml(tmp_path)
    bad = tmp_path / "broken.yaml"
    bad.write_text(
        good.read_text()
        .replace("name: telco", "name: broken")
        .replace('values: ["Yes", "No"]}', "values: [Yes, No]}", 1)
        .replace("window: {days: 4}", "window: {days: many}")
        .replace("owner: telco-ml", "owner: telco-ml\nowners: [me]")
    )

    done = cli("check", str(good), str(bad))

    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[0] == f"{good}: ok (retrain_telco, classification, 8 columns)"
    assert lines[1] == f"{bad}: 4 problems"
    assert "  - owners: unknown key (not part of the pipeline config schema)" in lines
    assert any(line.startswith("  - window.days: ") for line in lines)
    assert any(
        line.startswith("  - dataset.columns.paperless_billing.values[0]: the boolean True, not text")
        and "write 'Yes' in quotes" in line
        for line in lines
    )
    assert cli("check", str(good)).returncode == 0


def test_run_trains_a_variant_with_a_derived_label_and_date_parts(s3, tmp_path: Path, airflow_home: Path) -> None:
    from tests.e2e.flights_variant import DAYS as FLIGHT_DAYS
    from tests.e2e.flights_variant import ROWS as FLIGHT_ROWS
    from tests.e2e.flights_variant import write_flights_yaml

    folder = tmp_path / "pipelines"
    folder.mkdir()
    harness = PipelineHarness(load_pipeline(write_flights_yaml(folder)), s3.client())
    harness.write_days(FIRST_DAY, FLIGHT_DAYS, rows_per_day=FLIGHT_ROWS)
    window_end = FIRST_DAY + timedelta(days=FLIGHT_DAYS)

    done = cli(
        "run", "flights", "--window-end", window_end.isoformat(), "--pipelines-dir", str(folder),
        "--endpoint-url", s3.endpoint_url, "--region", REGION, "--airflow-home", str(airflow_home),
    )  # fmt: skip

    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    print(out)
    assert f"retrain_flights  run key {window_end.isoformat()}  state: SUCCESS" in out
    assert re.search(r"ingest +\d+ partitions, \d+ rows .*\(\d+ rows without a label dropped\)", out), out
    for gate in ("validate_raw", "validate_features", "check_drift", "validate_model"):
        assert re.search(rf"^ +{gate} +passed", out, flags=re.MULTILINE), gate
    assert "leakage not scored" not in out  # every date part varies, the hour included
    assert "evaluate            holdout roc_auc " in out
    assert "champion MOVED" in out
    assert harness.registry.get_alias(CHAMPION) is not None
