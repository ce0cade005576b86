"""A small client for a local Airflow's REST API v2 (bearer-token auth) and a polling helper.

Used with ``dev.local_airflow.LocalAirflow`` by ``make airflow``, the acceptance suite and the
cluster suite.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx

ADMIN = "admin"
TERMINAL_RUN_STATES = frozenset({"success", "failed"})


#: How often a request is sent while the API answers that SQLite is locked (see AirflowApi.request).
LOCKED_DATABASE_ATTEMPTS = 6

#: How long a REST call may wait for its answer: several of SQLite's 30 s lock waits.
READ_TIMEOUT_SECONDS = 120


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
