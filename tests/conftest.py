"""Shared fixtures: a throwaway Airflow home, one loopback S3 server, synthetic landing data.

Airflow reads its configuration when first imported, so the environment is set here, at
collection time, before any test module imports it. No connection or variable comes from
the developer's environment: each test that needs S3 gets it from these fixtures.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="retrain-tests-airflow-"))

for name in [k for k in os.environ if k.startswith(("AIRFLOW_CONN_", "AIRFLOW_VAR_", "AIRFLOW__"))]:
    del os.environ[name]
os.environ.update(
    {
        "AIRFLOW_HOME": str(AIRFLOW_HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "GX_ANALYTICS_ENABLED": "false",
    }
)
os.environ.pop("RETRAIN_PIPELINES_DIR", None)

from include.retrain.devtools.local_s3 import LocalS3  # noqa: E402


@pytest.fixture(scope="session")
def local_s3() -> Iterator[LocalS3]:
    """One real S3 HTTP server (moto server mode) on loopback for the whole session."""
    with LocalS3() as server:
        yield server


def reset_s3(server: LocalS3) -> LocalS3:
    """Empty the loopback S3 server and recreate the shipped variants' buckets."""
    request = urllib.request.Request(server.endpoint_url + "/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=10).close()
    server.create_buckets(["retrain-landing", "retrain-artifacts"])
    return server


@pytest.fixture
def s3(local_s3: LocalS3) -> LocalS3:
    """The loopback S3 server, emptied before the test, with the shipped variants' buckets."""
    return reset_s3(local_s3)


@pytest.fixture
def s3_client(s3: LocalS3):
    return s3.client()


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """A migrated SQLite metadata database in the throwaway AIRFLOW_HOME."""
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True)
    return AIRFLOW_HOME


@pytest.fixture
def aws_connection(s3: LocalS3, monkeypatch: pytest.MonkeyPatch) -> str:
    """The ``aws_default`` Airflow connection, pointing at the loopback endpoint."""
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", s3.airflow_connection())
    return "aws_default"
