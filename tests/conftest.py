"""Shared fixtures: a throwaway Airflow home, one loopback S3 server, synthetic landing data.

Airflow reads its configuration when first imported, so the environment is set here, at
collection time, before any test module imports it. No connection or variable comes from
the developer's environment: each test that needs S3 gets it from these fixtures.
"""

from __future__ import annotations

import http.server
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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

from dev.local_s3 import LocalS3  # noqa: E402

#: The xdist groups of the acceptance tests, one ``airflow standalone`` each (session-scoped, so one
#: per worker): a module's tests share its stack. Two stacks run the chain of real-scheduler runs in
#: two halves side by side; each group's tests always run in the same stack, in file order.
ACCEPTANCE_STACKS = {
    "test_closed_loop.py": "airflow-standalone-2",
    "test_faults.py": "airflow-standalone-2",
}
DEFAULT_ACCEPTANCE_STACK = "airflow-standalone-1"


def acceptance_group(item: pytest.Item) -> str:
    """The xdist group (stack) of an acceptance test, by its module."""
    return ACCEPTANCE_STACKS.get(item.path.name, DEFAULT_ACCEPTANCE_STACK)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep each acceptance stack's tests on one xdist worker (``--dist loadgroup``); start long tests first.

    First: xdist's own hook turns the group marker into the node id's ``@group`` suffix that its
    scheduler reads, and this conftest is registered before xdist's worker plugin, so it would
    otherwise run after it and mark too late.
    """
    for item in items:
        if item.get_closest_marker("acceptance"):
            item.add_marker(pytest.mark.xdist_group(acceptance_group(item)))
    # Longest first: xdist hands out tests in this order (after the acceptance groups, its largest
    # units), so a test that takes minutes starts early instead of being the run's tail.
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


def pytest_unconfigure(config: pytest.Config) -> None:
    """The throwaway Airflow home goes with the session (each run would otherwise leave one in /tmp)."""
    shutil.rmtree(AIRFLOW_HOME, ignore_errors=True)


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


class HookReceiver(http.server.ThreadingHTTPServer):
    """A real HTTP endpoint on loopback that records every request and answers ``status``."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _HookHandler)
        self.requests: list[dict[str, Any]] = []
        self.status = 200
        self.delay_seconds = 0.0

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class _HookHandler(http.server.BaseHTTPRequestHandler):
    server: HookReceiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
        time.sleep(self.server.delay_seconds)
        self.send_response(self.server.status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:  # keep test output quiet
        pass


@pytest.fixture
def hook_receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[HookReceiver]:
    """A deployment hook endpoint, reachable through the Airflow connection ``deploy_hook``.

    The connection comes from an ``AIRFLOW_CONN_DEPLOY_HOOK`` URI, as a deployment would set it;
    its path and basic-auth credentials are part of what the tests check.
    """
    server = HookReceiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv(
        "AIRFLOW_CONN_DEPLOY_HOOK", f"http://serving:loopback-hook-token@127.0.0.1:{server.port}/hooks/deployed"
    )
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Each worker loads the heavy libraries once and freezes them out of the collector's view.

    As a deployed worker does (``include/retrain/preload.py``): otherwise every full garbage
    collection in an in-process run (dag.test, a task body) rescans Airflow's, GX's and
    scikit-learn's objects, which made a clean window's task bodies about a tenth slower.
    Import-behaviour tests run in fresh interpreters, so they are unaffected.
    """
    if session.items:  # xdist's controller collects nothing and runs no test
        import include.retrain.preload  # noqa: F401
