"""Acceptance: a real Airflow 3 (scheduler, dag-processor, API server, triggerer) runs the bundle.

One ``airflow standalone`` per session, driven only through its REST API with token auth, with
``airflow_settings.yaml`` applied by the project's script and a loopback S3 endpoint. Every task
attempt runs in its own empty working and temp directory (a cluster policy) to prove that tasks
share nothing but S3 and XCom.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from dev.local_airflow import AirflowApi, LocalAirflow, wait_until
from dev.local_s3 import LocalS3
from dev.synthetic import GENERATORS
from dev.synthetic.landing import write_days
from include.retrain.config import DEFAULT_PIPELINES_DIR, PipelineConfig, load_pipeline
from include.retrain.registry import ModelRegistry
from include.retrain.storage import ArtifactStore
from tests.acceptance.browser import launch
from tests.acceptance.s3_proxy import S3Proxy

FIRST_DAY = date(2026, 1, 1)
SHIPPED = ("churn", "demand")
RUN_TIMEOUT = 420


@dataclass
class Stack:
    """The running Airflow, and the run the scheduler created when retrain_churn was unpaused."""

    airflow: LocalAirflow
    first_scheduled_run: dict[str, Any]


FAULTS = "churn_faults"


def faults_variant_config() -> dict[str, Any]:
    """churn, reached only through the fault proxy, with a small retry budget and file limit."""
    config = yaml.safe_load((DEFAULT_PIPELINES_DIR / "churn.yaml").read_text())
    config["name"] = FAULTS
    config["description"] = "Acceptance-test copy of churn whose S3 traffic goes through a fault proxy."
    config["tags"] = ["faults"]
    config["dataset"]["max_file_mb"] = 1
    config["schedule"] = {"cron": None}
    config["storage"].update(conn_id="s3_faults", max_attempts=3, connect_timeout_seconds=2, read_timeout_seconds=15)
    config["tasks"] = {"retries": 3, "retry_delay_seconds": 2, "retry_backoff": 2, "max_retry_delay_seconds": 8}
    return config


LOOP = "churn_loop"


def loop_variant_config() -> dict[str, Any]:
    """churn with the closed loop (tests/concept_shift.py): scored on new landing data, measured on labels a
    day late, retrained when the live metric stays below the bar; never on a cron. Its own landing folder."""
    from tests.concept_shift import BAR, FOR_DAYS, LABEL_DELAY, WINDOW_DAYS

    config = yaml.safe_load((DEFAULT_PIPELINES_DIR / "churn.yaml").read_text())
    config["name"] = LOOP
    config["description"] = "Acceptance-test copy of churn that scores new data and retrains when it decays."
    config["tags"] = ["loop"]
    config["dataset"]["prefix"] = "loop"
    config["schedule"] = {"cron": None, "start_date": "2026-01-01"}
    config["window"] = {"days": WINDOW_DAYS}
    config["promotion"] = {"metric": "roc_auc", "threshold": None, "min_improvement": 0.0}
    config["scoring"] = {
        "on_new_data": True,
        "lookback_days": 4,
        "max_partitions_per_run": 5,
        "label_delay_days": LABEL_DELAY,
    }
    config["monitoring"] = {"retrain_when": {"live_metric_below": BAR, "for_days": FOR_DAYS}}
    return config


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A headless Chromium context in a fresh profile, for a module's browser tests."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = launch(playwright, tmp_path_factory.mktemp("chromium-profile"))
        context.set_default_timeout(30_000)
        yield context
        context.close()


@pytest.fixture(scope="session")
def s3_proxy(local_s3: LocalS3) -> Iterator[S3Proxy]:
    proxy = S3Proxy(local_s3.port).up()
    yield proxy
    proxy.down()


@pytest.fixture(scope="session")
def acceptance_pipelines(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped variants plus the fault-injection variant, as the stack's pipelines folder."""
    folder = tmp_path_factory.mktemp("acceptance-pipelines")
    for name in SHIPPED:
        shutil.copy(DEFAULT_PIPELINES_DIR / f"{name}.yaml", folder / f"{name}.yaml")
    (folder / f"{FAULTS}.yaml").write_text(yaml.safe_dump(faults_variant_config(), sort_keys=False))
    (folder / f"{LOOP}.yaml").write_text(yaml.safe_dump(loop_variant_config(), sort_keys=False))
    return folder


#: How many ``airflow standalone`` stacks a session may start: one per acceptance group (tests/conftest.py).
STACKS = 2


def claim_the_stack(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Under xdist, let at most :data:`STACKS` workers start a stack; fail clearly on any other.

    tests/conftest.py puts each acceptance module in one of the stack groups, each group on one
    worker. If that grouping stops working (pytest-xdist#1386: pytest 9.2 ignores the node ids
    xdist's ``loadgroup`` rewrites), every worker would start its own ``airflow standalone`` and
    the suite would crawl on all of them.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker is None:
        return
    claims = [tmp_path_factory.getbasetemp().parent / f"airflow-standalone.{n}" for n in range(STACKS)]
    for claim in claims:  # the folder is shared by the workers
        try:
            with claim.open("x") as file:
                file.write(worker)
            return
        except FileExistsError:
            continue
    holders = ", ".join(claim.read_text() for claim in claims)
    raise RuntimeError(
        f"the acceptance tests reached xdist workers {holders} and {worker}: each would start its own airflow "
        f"standalone, more than the {STACKS} groups of tests/conftest.py. `--dist loadgroup` did not keep each group "
        "on one worker (see tests/conftest.py and pytest-xdist#1386); run them with `-n 0`."
    )


@pytest.fixture(scope="session")
def stack(
    local_s3: LocalS3, s3_proxy: S3Proxy, acceptance_pipelines: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    claim_the_stack(tmp_path_factory)
    local_s3.create_buckets(["retrain-landing", "retrain-artifacts"])
    faults_connection = json.loads(local_s3.airflow_connection())
    faults_connection["extra"]["endpoint_url"] = s3_proxy.endpoint_url
    extra_env = {
        "RETRAIN_PIPELINES_DIR": str(acceptance_pipelines),
        "AIRFLOW_CONN_S3_FAULTS": json.dumps(faults_connection),
        # The closed-loop story waits for landing data to be noticed: list it every minute.
        "RETRAIN_LANDING_WATCH_SCHEDULE": "* * * * *",
        # No variant file changes while the stack runs (they are written before it starts), so the
        # DAG file is re-parsed every 2 minutes instead of make airflow's 10 s: two stacks re-parsing
        # every 10 s cost CPU the rest of the suite waits for.
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "120",
    }
    # Under pytest's temp folder, so the Airflow home and every task's scratch folder are cleaned up.
    home = tmp_path_factory.mktemp("airflow-home")
    with LocalAirflow(local_s3, home=home, isolate_tasks=True, extra_env=extra_env) as airflow:
        airflow.wait_for_dags([f"retrain_{name}" for name in (*SHIPPED, FAULTS)])
        for name in (*SHIPPED, FAULTS):
            airflow.api.unpause(f"retrain_{name}")
        # Unpausing a cron variant schedules its latest interval at once (catchup only skips
        # older ones). Let that run finish before the scenarios share the DAG.
        wait_until(lambda: _scheduled_runs(airflow.api), 120, "the scheduler to create retrain_churn's first run")
        first = _scheduled_runs(airflow.api)[0]
        finished = airflow.api.wait_for_run("retrain_churn", first["dag_run_id"], timeout=RUN_TIMEOUT)
        yield Stack(airflow=airflow, first_scheduled_run=finished)


def _scheduled_runs(api: AirflowApi) -> list[dict[str, Any]]:
    runs = api.get("/api/v2/dags/retrain_churn/dagRuns", params={"run_type": "scheduled", "limit": 10})["dag_runs"]
    return [run for run in runs if run["run_type"] == "scheduled"]


@pytest.fixture(scope="session")
def airflow(stack: Stack) -> LocalAirflow:
    return stack.airflow


@pytest.fixture
def api(airflow: LocalAirflow) -> AirflowApi:
    return airflow.api


@dataclass
class Variant:
    """One shipped variant as seen from outside Airflow: its landing data and its registry."""

    config: PipelineConfig
    client: Any

    @property
    def dag_id(self) -> str:
        return self.config.dag_id

    @property
    def store(self) -> ArtifactStore:
        return ArtifactStore(self.client, self.config.storage.bucket, self.config.storage.prefix)

    @property
    def registry(self) -> ModelRegistry:
        return ModelRegistry(self.store, self.config.name)

    def land(
        self,
        days: int,
        rows_per_day: int = 150,
        first_day: date = FIRST_DAY,
        alter: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    ) -> None:
        """Write ``days`` daily partitions of synthetic data, each passed through ``alter`` if given."""
        generator = GENERATORS[self.config.dataset.name]
        write_days(
            self.client,
            self.config.dataset,
            generator if alter is None else lambda day, rows: alter(generator(day, rows)),
            first_day=first_day,
            days=days,
            rows_per_day=rows_per_day,
        )

    def run_keys(self) -> set[str]:
        prefix = self.store.key(self.config.name, "runs") + "/"
        return {key[len(prefix) :].split("/")[0] for key in self.store.list_keys(prefix)}


@pytest.fixture
def variants(s3: LocalS3, airflow: LocalAirflow, acceptance_pipelines: Path) -> dict[str, Variant]:
    """The variants, on a loopback S3 emptied before the test (the stack's connections point there)."""
    client = s3.client()
    return {name: Variant(load_pipeline(acceptance_pipelines / f"{name}.yaml"), client) for name in (*SHIPPED, FAULTS)}


def trigger_and_wait(api: AirflowApi, dag_id: str, window_end: date, conf: dict | None = None) -> dict[str, Any]:
    """Trigger a manual run (no logical date, as the UI does) training up to ``window_end``."""
    response = api.trigger(dag_id, conf={"window_end": window_end.isoformat(), **(conf or {})})
    assert response.status_code == 200, response.text
    return api.wait_for_run(dag_id, response.json()["dag_run_id"], timeout=RUN_TIMEOUT)


def assert_run_folder_intact(variant: Variant, run_key: str) -> int:
    """Every object of the run folder holds exactly the bytes its recorded sha256 says; returns the count."""
    keys = variant.store.list_keys(variant.store.key(variant.config.name, "runs", run_key) + "/")
    for key in keys:
        ref = variant.store.ref_for(key)
        variant.store.get_bytes(ref)  # raises IntegrityError on any mismatch
    return len(keys)


def isolation_records(airflow: LocalAirflow) -> list[dict[str, Any]]:
    path = Path(airflow.isolation_log)
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def window(days_after_first: int) -> date:
    return FIRST_DAY + timedelta(days=days_after_first)
