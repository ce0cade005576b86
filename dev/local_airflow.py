"""A real local Airflow 3 (scheduler, dag-processor, API server, triggerer) running this bundle.

``airflow standalone`` from the project's virtualenv, in a throwaway AIRFLOW_HOME, on free
ports, with ``airflow_settings.yaml`` applied (its S3 endpoint pointed at a loopback server),
a generated admin password and an API client with token auth. Used by the acceptance suite
and by ``make airflow``.
"""

from __future__ import annotations

import atexit
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import httpx

from dev.local_s3 import LocalS3, free_port
from dev.processes import ProcessId, alive, process_id, start_watchdog, stop_tree

PROJECT_ROOT = Path(__file__).resolve().parents[1]
ADMIN = "admin"
TERMINAL_RUN_STATES = frozenset({"success", "failed"})


#: How often a request is sent while the API answers that SQLite is locked (see AirflowApi.request).
LOCKED_DATABASE_ATTEMPTS = 6

#: How long a REST call may wait for its answer: several of SQLite's 30 s lock waits.
READ_TIMEOUT_SECONDS = 120

#: ``[database] sql_alchemy_connect_args`` of the local Airflow (an import path).
SQLITE_CONNECT_ARGS = "dev.sqlite_metadata.CONNECT_ARGS"

#: In the Airflow home: who started ``airflow standalone`` and its pid (see reset_home).
PID_FILE = "standalone.pid.json"


class AirflowApi:
    """A small client for Airflow's REST API v2 with bearer-token auth."""

    def __init__(self, base_url: str, username: str, password: str) -> None:
        self.base_url = base_url
        self._username = username
        self._password = password
        # The API server's SQLite writes may each wait up to CONNECT_ARGS["timeout"] (30 s) for the
        # scheduler's lock; a client that gave up at the same 30 s timed out on a trigger that a busy
        # machine was still answering (seen in a fresh-clone make test). Wait well past it.
        self._client = httpx.Client(base_url=base_url, timeout=httpx.Timeout(READ_TIMEOUT_SECONDS, connect=10))
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


#: Every LocalAirflow started by this process and not stopped yet (stopped at exit, see _stop_all).
_RUNNING: set[LocalAirflow] = set()


class LocalAirflow:
    """``airflow standalone`` for this bundle, stopped with every process it started.

    ``stop`` sends SIGTERM to the process group and to every process of the tree (recorded from
    /proc, also those that left the group), and SIGKILL to whatever is still there after
    ``stop_grace`` seconds. It runs from the context manager, from a test fixture's teardown
    (also after a failure or a pytest-timeout), and at interpreter exit for any stack left running.
    """

    #: Seconds the processes get to exit on SIGTERM before they are killed.
    stop_grace = 20.0

    def __init__(
        self,
        s3: LocalS3,
        *,
        home: Path | None = None,
        port: int | None = None,
        extra_env: dict[str, str] | None = None,
        isolate_tasks: bool = False,
    ) -> None:
        self.s3 = s3
        self.home = home or Path(tempfile.mkdtemp(prefix="retrain-airflow-"))
        self.port = port or free_port()
        self.password = secrets.token_urlsafe(16)
        self.isolation_log = self.home / "task-isolation.jsonl"
        self._extra_env = extra_env or {}
        self._isolate = isolate_tasks
        self._process: subprocess.Popen | None = None
        self._watchdog: subprocess.Popen | None = None
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
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "passwords.json").write_text(json.dumps({ADMIN: self.password}))
        if self._isolate:
            (self.home / "config").mkdir(exist_ok=True)
            (self.home / "task-scratch").mkdir(exist_ok=True)
            (self.home / "config" / "airflow_local_settings.py").write_text(
                "from dev.task_isolation import task_policy  # noqa: F401\n"
            )
        env = self.environment()
        self._airflow("db", "migrate")
        subprocess.run(
            [
                sys.executable,
                "-m",
                "include.retrain.apply_airflow_settings",
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
        _RUNNING.add(self)
        owner, standalone = process_id(os.getpid()), process_id(self._process.pid)
        if owner and standalone:
            record = {"owner": [owner.pid, owner.started], "standalone": [standalone.pid, standalone.started]}
            (self.home / PID_FILE).write_text(json.dumps(record))
            # Stops the stack if this process dies without stopping it (SIGKILL, os._exit).
            self._watchdog = start_watchdog(owner, standalone, grace=self.stop_grace)
        self.api = AirflowApi(self.base_url, ADMIN, self.password)
        try:
            wait_until(self._healthy, timeout, "the Airflow API server and scheduler to be healthy")
        except TimeoutError:
            self.stop()
            raise RuntimeError(f"Airflow did not start; last log lines:\n{self.tail()}") from None
        except BaseException:  # Ctrl-C or a test timeout while starting: __exit__ will not run
            self.stop()
            raise
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
        """Stop ``airflow standalone`` and every process it started; SIGKILL what ignores SIGTERM."""
        if self.api is not None:
            self.api.close()
        process, self._process = self._process, None
        _RUNNING.discard(self)
        if process is not None:
            stop_tree(process.pid, group=process.pid, popen=process, grace=self.stop_grace)
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is not None:
            stop_tree(watchdog.pid, popen=watchdog, grace=5)

    def __enter__(self) -> LocalAirflow:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@atexit.register
def _stop_all() -> None:
    """A stack still running when the interpreter exits (an interrupted session) is stopped too."""
    for airflow in list(_RUNNING):
        airflow.stop()


#: ``make airflow``'s state: Airflow's home (SQLite database, logs, the generated password).
LOCAL_HOME = PROJECT_ROOT / ".local" / "airflow"
#: The UI port ``make airflow`` prefers (Airflow's usual one); any free port when it is taken.
PREFERRED_PORT = 8080


def port_if_free(port: int) -> int | None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return None
    return port


def reset_home(home: Path, grace: float = 10) -> list[str]:
    """Empty ``home`` for a fresh start; first stop what a previous start left running from it.

    A previous ``make airflow`` that is still running is not touched: RuntimeError. One that was
    killed (SIGKILL, a closed terminal) may have left ``airflow standalone`` behind, recorded in
    the home's pid file: that tree is stopped. Returns what was done, for the user.
    """
    notes = []
    record = home / PID_FILE
    if record.exists():
        pids = json.loads(record.read_text())
        owner, standalone = (ProcessId(*pids[key]) for key in ("owner", "standalone"))
        if alive(owner) and owner.pid != os.getpid():
            raise RuntimeError(
                f"another `make airflow` (pid {owner.pid}) runs from {home}; stop it first (Ctrl-C in its terminal)"
            )
        if alive(standalone):
            killed = stop_tree(standalone.pid, group=standalone.pid, grace=grace)
            notes.append(f"stopped airflow standalone (pid {standalone.pid}) left running by a previous start")
            if killed:
                notes.append(f"  {len(killed)} of its processes ignored SIGTERM and were killed")
    if home.exists():
        shutil.rmtree(home)
        notes.append(f"previous state in {home} removed (every start is a fresh one)")
    home.mkdir(parents=True)
    return notes


def banner(airflow: LocalAirflow, seeded: list[Any]) -> str:
    """What ``make airflow`` prints once the UI answers: where, the login, what to click first."""
    landing = "\n".join(f"    {item}" for item in seeded)
    return f"""
Airflow is up, with this bundle's DAGs and a loopback S3 holding synthetic landing data up to today:
{landing}

  UI        {airflow.base_url}
  Login     username: {ADMIN}   password: {airflow.password}
  S3        {airflow.s3.endpoint_url} (loopback, in memory)

What to click first:
  1. Dags > retrain_churn > Trigger (top right), then Trigger in the form, leaving every field as it is.
     The run trains on the 28 daily partitions before today and registers the first champion;
     watch it in the Grid view. Browse > Model registry shows the champion and why it was chosen.
  2. The form's "Unpause retrain_churn on trigger" (ticked) unpauses the DAG: the scheduler then also
     runs the latest daily interval at once (same window: same version), and every day at 03:00 UTC.
  3. Once a later run has promoted a second champion: rollback_churn > Trigger, with only a Reason,
     puts the previous champion back.

State is reset on every start: `make airflow` begins with a new database, new data and a new password.
Ctrl-C stops everything (nothing is left running).
"""


def main() -> int:
    """``make airflow``: run the bundle on a local Airflow with a loopback S3 until Ctrl-C."""
    from dev.seed_landing import seed

    def leave(signum: int, _frame: Any) -> None:
        print(f"{signal.Signals(signum).name}: stopping Airflow and the loopback S3...", flush=True)
        sys.exit(128 + signum)  # unwinds the with-blocks below: everything is stopped

    signal.signal(signal.SIGTERM, leave)
    signal.signal(signal.SIGHUP, leave)
    # Ctrl-C raises KeyboardInterrupt even when started with SIGINT ignored (a background job).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for note in reset_home(LOCAL_HOME):
        print(note)
    print("Starting a loopback S3 and airflow standalone (about a minute)...", flush=True)
    with LocalS3() as s3:
        seeded = seed(s3.client())
        port = port_if_free(PREFERRED_PORT) or free_port()
        with LocalAirflow(s3, home=LOCAL_HOME, port=port) as airflow:
            airflow.wait_for_dags(["retrain_churn", "rollback_churn"])
            print(banner(airflow, seeded), flush=True)
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                print("Stopping Airflow and the loopback S3...", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
