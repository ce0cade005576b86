"""A real local Airflow 3 (scheduler, dag-processor, API server, triggerer) running this bundle.

``airflow standalone`` from the project's virtualenv, in a throwaway AIRFLOW_HOME, on free
ports, with ``airflow_settings.yaml`` applied (its S3 endpoint pointed at a loopback server),
a generated admin password and an API client with token auth. Used by the acceptance suite
and by ``make airflow``.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import httpx

from include.retrain.devtools.local_s3 import LocalS3, free_port

PROJECT_ROOT = Path(__file__).resolve().parents[3]
ADMIN = "admin"
TERMINAL_RUN_STATES = frozenset({"success", "failed"})


#: How often a request is sent while the API answers that SQLite is locked (see AirflowApi.request).
LOCKED_DATABASE_ATTEMPTS = 6

#: ``[database] sql_alchemy_connect_args`` of the local Airflow (an import path).
SQLITE_CONNECT_ARGS = "include.retrain.devtools.sqlite_metadata.CONNECT_ARGS"


class AirflowApi:
    """A small client for Airflow's REST API v2 with bearer-token auth."""

    def __init__(self, base_url: str, username: str, password: str) -> None:
        self.base_url = base_url
        self._username = username
        self._password = password
        self._client = httpx.Client(base_url=base_url, timeout=30)
        self._token: str | None = None

    def token(self) -> str:
        if self._token is None:
            response = self._client.post("/auth/token", json={"username": self._username, "password": self._password})
            response.raise_for_status()
            self._token = response.json()["access_token"]
        return self._token

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send a request; sent again, after a pause, while the API answers "database is locked".

        The local Airflow keeps its metadata in SQLite, which the scheduler locks while it writes.
        Some endpoints (creating a backfill) then refuse with 503; the others fail with a 500
        "Database error" whose exposed ``orig_error`` says the database is locked. Either way the
        request's transaction was rolled back and nothing changed, so sending it again is safe.
        Any other answer is returned as is.
        """
        headers = {"Authorization": f"Bearer {self.token()}", **kwargs.pop("headers", {})}
        response = self._client.request(method, path, headers=headers, **kwargs)
        for attempt in range(1, LOCKED_DATABASE_ATTEMPTS):
            if not (response.status_code in (500, 503) and "database is locked" in response.text.lower()):
                break
            time.sleep(0.5 * attempt)
            response = self._client.request(method, path, headers=headers, **kwargs)
        return response

    def get(self, path: str, **kwargs: Any) -> Any:
        response = self.request("GET", path, **kwargs)
        response.raise_for_status()
        return response.json()

    def unpause(self, dag_id: str) -> None:
        self.request("PATCH", f"/api/v2/dags/{dag_id}", json={"is_paused": False}).raise_for_status()

    def trigger(
        self, dag_id: str, conf: dict[str, Any] | None = None, logical_date: str | None = None
    ) -> httpx.Response:
        """POST a DAG run; the response is returned as is (tests check refusals too)."""
        body = {"conf": conf or {}, "logical_date": logical_date}
        return self.request("POST", f"/api/v2/dags/{dag_id}/dagRuns", json=body)

    def run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return self.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str]:
        instances = self.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 100})
        return {ti["task_id"]: ti["state"] for ti in instances["task_instances"]}

    def task_instances(self, dag_id: str, run_id: str) -> dict[str, dict[str, Any]]:
        instances = self.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 100})
        return {ti["task_id"]: ti for ti in instances["task_instances"]}

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int) -> str:
        """A task attempt's log as text (the structured lines joined), as the UI shows it."""
        path = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}"
        content = self.get(path, headers={"Accept": "application/json"}).get("content", [])
        return "\n".join(json.dumps(line) if isinstance(line, dict) else str(line) for line in content)

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 300) -> dict[str, Any]:
        """Poll until the run succeeds or fails; raise TimeoutError with its task states otherwise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = self.run(dag_id, run_id)
            if run["state"] in TERMINAL_RUN_STATES:
                return run
            time.sleep(2)
        raise TimeoutError(
            f"{dag_id} run {run_id} did not finish in {timeout:.0f}s: {self.task_states(dag_id, run_id)}"
        )

    def close(self) -> None:
        self._client.close()


def wait_until(condition: Callable[[], bool], timeout: float, what: str, interval: float = 1.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


class LocalAirflow:
    """``airflow standalone`` for this bundle, stopped with its whole process group."""

    def __init__(
        self,
        s3: LocalS3,
        *,
        home: Path | None = None,
        extra_env: dict[str, str] | None = None,
        isolate_tasks: bool = False,
    ) -> None:
        self.s3 = s3
        self.home = home or Path(tempfile.mkdtemp(prefix="retrain-airflow-"))
        self.port = free_port()
        self.password = secrets.token_urlsafe(16)
        self.isolation_log = self.home / "task-isolation.jsonl"
        self._extra_env = extra_env or {}
        self._isolate = isolate_tasks
        self._process: subprocess.Popen | None = None
        self.log_path = self.home / "standalone.log"
        self.api: AirflowApi | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_CONN_", "AIRFLOW_VAR_", "AIRFLOW__"))}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.update(
            {
                "AIRFLOW_HOME": str(self.home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
                "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN}:admin",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.home / "passwords.json"),
                "AIRFLOW__API__PORT": str(self.port),
                # Links in task logs, gate-report links and notifications point here.
                "AIRFLOW__API__BASE_URL": self.base_url,
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.port}/execution/",
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
                "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
                "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "10",
                "AIRFLOW__CORE__PARALLELISM": "4",
                # SQLite: writers wait for each other's lock instead of failing after 5 s
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS": SQLITE_CONNECT_ARGS,
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS_ASYNC": SQLITE_CONNECT_ARGS,
                # A loopback Airflow: a database error's answer names the error (the client retries
                # "database is locked"), and a failing test shows what went wrong.
                "AIRFLOW__API__EXPOSE_STACKTRACE": "True",
                "GX_ANALYTICS_ENABLED": "false",
                "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
                "PYTHONPATH": str(PROJECT_ROOT),
            }
        )
        if self._isolate:
            env["RETRAIN_ISOLATION_LOG"] = str(self.isolation_log)
            # Each task attempt's scratch folder lives in the Airflow home, not loose in /tmp.
            env["RETRAIN_ISOLATION_ROOT"] = str(self.home / "task-scratch")
        env.update(self._extra_env)
        return env

    def _airflow(self, *args: str) -> None:
        subprocess.run(
            [sys.executable, "-m", "airflow", *args], env=self.environment(), check=True, capture_output=True
        )

    def start(self, timeout: float = 180) -> LocalAirflow:
        (self.home / "passwords.json").write_text(json.dumps({ADMIN: self.password}))
        if self._isolate:
            (self.home / "config").mkdir(exist_ok=True)
            (self.home / "task-scratch").mkdir(exist_ok=True)
            (self.home / "config" / "airflow_local_settings.py").write_text(
                "from include.retrain.devtools.task_isolation import task_policy  # noqa: F401\n"
            )
        env = self.environment()
        self._airflow("db", "migrate")
        subprocess.run(
            [
                sys.executable,
                "-m",
                "include.retrain.devtools.apply_airflow_settings",
                str(PROJECT_ROOT / "airflow_settings.yaml"),
                "--extra",
                f"aws_default.endpoint_url={self.s3.endpoint_url}",
            ],
            env=env,
            check=True,
            capture_output=True,
        )
        with open(self.log_path, "wb") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "airflow", "standalone"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.api = AirflowApi(self.base_url, ADMIN, self.password)
        try:
            wait_until(self._healthy, timeout, "the Airflow API server and scheduler to be healthy")
        except TimeoutError:
            self.stop()
            raise RuntimeError(f"Airflow did not start; last log lines:\n{self.tail()}") from None
        return self

    def _healthy(self) -> bool:
        if self._process is not None and self._process.poll() is not None:
            raise RuntimeError(f"airflow standalone exited:\n{self.tail()}")
        health = httpx.get(f"{self.base_url}/api/v2/monitor/health", timeout=5).json()
        return (
            health.get("scheduler", {}).get("status") == "healthy"
            and health.get("metadatabase", {}).get("status") == "healthy"
        )

    def wait_for_dags(self, dag_ids: Iterable[str], timeout: float = 120) -> None:
        wanted = set(dag_ids)

        def parsed() -> bool:
            dags = self.api.get("/api/v2/dags", params={"limit": 200})["dags"]
            return wanted <= {dag["dag_id"] for dag in dags}

        wait_until(parsed, timeout, f"DAGs {sorted(wanted)} to be parsed")

    def tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.api is not None:
            self.api.close()
        if self._process is None:
            return
        try:
            os.killpg(self._process.pid, signal.SIGTERM)
            self._process.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait(timeout=10)
        self._process = None

    def __enter__(self) -> LocalAirflow:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> int:
    """``make airflow``: run the bundle on a local Airflow with a loopback S3 until Ctrl-C."""
    from include.retrain.devtools.seed_landing import main as seed

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with LocalS3() as s3:
        s3.create_buckets(["retrain-landing", "retrain-artifacts"])
        seed(["--endpoint-url", s3.endpoint_url, "--access-key", "x", "--secret-key", "x"])
        with LocalAirflow(s3, home=PROJECT_ROOT / ".local" / "airflow") as airflow:
            print(f"\nAirflow UI: {airflow.base_url}  user: {ADMIN}  password: {airflow.password}")
            print(f"Local S3 endpoint: {s3.endpoint_url}   (Ctrl-C stops everything)\n", flush=True)
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
