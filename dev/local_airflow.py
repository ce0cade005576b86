"""A real local Airflow 3 (scheduler, dag-processor, API server, triggerer) running this bundle.

``airflow standalone`` from the project's virtualenv, in a throwaway AIRFLOW_HOME, on free
ports, with ``airflow_settings.yaml`` applied (its S3 endpoint pointed at a loopback server),
a generated admin password and an API client with token auth (``dev.airflow_api``). Used by the
acceptance suite and by ``make airflow`` (``dev.make_airflow``).
"""

from __future__ import annotations

import atexit
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

import httpx

from dev.airflow_api import ADMIN, AirflowApi, wait_until
from dev.local_s3 import LocalS3, free_port
from dev.processes import process_id, start_watchdog, stop_tree

PROJECT_ROOT = Path(__file__).resolve().parents[1]
#: ``[database] sql_alchemy_connect_args`` of the local Airflow (an import path).
SQLITE_CONNECT_ARGS = "dev.sqlite_metadata.CONNECT_ARGS"

#: In the Airflow home: who started ``airflow standalone`` and its pid (see reset_home).
PID_FILE = "standalone.pid.json"


#: Every LocalAirflow started by this process and not stopped yet (stopped at exit, see _stop_all).
_RUNNING: set[LocalAirflow] = set()


class LocalAirflow:
    """``airflow standalone`` for this bundle, stopped with every process it started.

    ``stop`` sends SIGTERM to the process group and to every process of the tree (recorded from
    /proc, also those that left the group), and SIGKILL to whatever is still there after
    ``stop_grace`` seconds. It runs from the context manager, from a test fixture's teardown
    (also after a failure or a pytest-timeout), and at interpreter exit for any stack left running.
    Without ``home`` it makes a temporary Airflow home, and removes it on ``stop``; a given home
    (``make airflow``'s ``.local/airflow``, a test's temporary folder) is left as it is.
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
        self._made_home = home is None  # then stop() removes it: nobody else knows where it is
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
                # Tasks inherit the heavy libraries from their worker instead of importing them
                # each time (include/retrain/preload.py; the Dockerfile sets the same).
                "AIRFLOW__SCHEDULER__MP_START_METHOD": "forkserver",
                "AIRFLOW__SCHEDULER__MP_FORKSERVER_PRELOAD": "include.retrain.preload",
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
        if self._made_home:
            shutil.rmtree(self.home, ignore_errors=True)

    def __enter__(self) -> LocalAirflow:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@atexit.register
def _stop_all() -> None:
    """A stack still running when the interpreter exits (an interrupted session) is stopped too."""
    for airflow in list(_RUNNING):
        airflow.stop()


__all__ = ["ADMIN", "PID_FILE", "PROJECT_ROOT", "AirflowApi", "LocalAirflow", "wait_until"]
