"""AirflowApi against a real HTTP server on loopback that answers like Airflow's API.

The server plays the API's answers to a write while SQLite is locked (503 "Database is locked",
or a 500 "Database error" whose exposed cause says so), a fault a real local Airflow produces only
under unlucky timing.
"""

from __future__ import annotations

import json
import tempfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from dev import airflow_api, local_airflow
from dev.airflow_api import AirflowApi

LOCKED = {"detail": "Database is locked. Backfill creation is not supported on SQLite under concurrent access."}
#: Airflow 3.3's answer to an OperationalError with ``[api] expose_stacktrace`` on (LocalAirflow sets it).
LOCKED_500 = {
    "detail": {
        "reason": "Database error",
        "statement": "INSERT INTO dag_run (...) VALUES (...)",
        "orig_error": "database is locked",
        "message": "Error with id Ab3dEf, statement: INSERT INTO dag_run ...",
    }
}
DATABASE_ERROR_500 = {"detail": {**LOCKED_500["detail"], "orig_error": "UNIQUE constraint failed: dag_run.run_id"}}


class FakeAirflowApi(ThreadingHTTPServer):
    """Issues a token, then answers each POST /api/v2/backfills with the next queued (status, body)."""

    def __init__(self, answers: list[tuple[int, dict]]) -> None:
        self.answers = answers
        self.backfill_posts: list[dict[str, Any]] = []
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: FakeAirflowApi

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
        if self.path == "/auth/token":
            status, answer = 201, {"access_token": "loopback-token"}
        else:
            self.server.backfill_posts.append({"auth": self.headers["Authorization"], "body": body})
            status, answer = self.server.answers.pop(0)
        payload = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:  # keep test output quiet
        pass


@pytest.fixture
def serve(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setattr(airflow_api.time, "sleep", lambda seconds: None)  # no pauses between attempts
    servers = []

    def start(answers: list[tuple[int, dict]]) -> tuple[FakeAirflowApi, AirflowApi]:
        server = FakeAirflowApi(answers)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server, AirflowApi(f"http://127.0.0.1:{server.server_address[1]}", "admin", "x")

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_a_locked_database_answer_is_sent_again_until_it_goes_through(serve: Any) -> None:
    server, api = serve([(503, LOCKED), (503, LOCKED), (200, {"id": 7})])

    response = api.request("POST", "/api/v2/backfills", json={"dag_id": "retrain_churn"})

    assert response.status_code == 200
    assert response.json() == {"id": 7}
    assert len(server.backfill_posts) == 3
    assert {post["auth"] for post in server.backfill_posts} == {"Bearer loopback-token"}
    assert all(post["body"] == {"dag_id": "retrain_churn"} for post in server.backfill_posts)


def test_a_database_error_that_says_locked_is_sent_again(serve: Any) -> None:
    server, api = serve([(500, LOCKED_500), (200, {"dag_run_id": "manual__1"})])

    response = api.request("POST", "/api/v2/backfills", json={"dag_id": "retrain_demand"})

    assert response.status_code == 200
    assert len(server.backfill_posts) == 2


def test_a_database_that_stays_locked_returns_the_last_refusal(serve: Any) -> None:
    attempts = airflow_api.LOCKED_DATABASE_ATTEMPTS
    server, api = serve([(503, LOCKED)] * attempts)

    response = api.request("POST", "/api/v2/backfills", json={})

    assert response.status_code == 503
    assert len(server.backfill_posts) == attempts


@pytest.mark.parametrize(
    "answer",
    [
        (503, {"detail": "scheduler is restarting"}),
        (409, {"detail": "Database is locked"}),
        (500, DATABASE_ERROR_500),
        (422, {}),
    ],
)
def test_other_refusals_are_returned_at_once(serve: Any, answer: tuple[int, dict]) -> None:
    server, api = serve([answer])

    response = api.request("POST", "/api/v2/backfills", json={})

    assert response.status_code == answer[0]
    assert len(server.backfill_posts) == 1


def test_the_local_airflow_waits_for_sqlite_locks_and_names_database_errors(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every process of the local Airflow gets the busy timeout; API errors expose their cause."""
    from airflow.configuration import conf

    env = local_airflow.LocalAirflow(None, home=tmp_path).environment()  # type: ignore[arg-type]

    for option in ("sql_alchemy_connect_args", "sql_alchemy_connect_args_async"):
        key = f"AIRFLOW__DATABASE__{option.upper()}"
        monkeypatch.setenv(key, env[key])
        assert conf.getimport("database", option)["timeout"] >= 30  # as Airflow's settings load it
    assert env["AIRFLOW__API__EXPOSE_STACKTRACE"] == "True"


def test_the_api_client_waits_longer_than_an_sqlite_writer_may_wait_for_its_lock() -> None:
    """A trigger answered after one full lock wait must not time out in the client first."""
    from dev.sqlite_metadata import CONNECT_ARGS

    api = AirflowApi("http://127.0.0.1:1", "admin", "unused")
    try:
        assert api._client.timeout.read > 2 * CONNECT_ARGS["timeout"]
    finally:
        api.close()


def test_a_home_it_made_is_removed_on_stop_and_a_given_home_is_kept(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stack started without a home leaves no Airflow home in /tmp; ``make airflow``'s own home stays."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where mkdtemp makes the home
    made = local_airflow.LocalAirflow(None)  # type: ignore[arg-type]
    given = local_airflow.LocalAirflow(None, home=tmp_path / "given")  # type: ignore[arg-type]
    given.home.mkdir()
    assert made.home.is_dir()
    assert made.home.parent == tmp_path

    made.stop()
    given.stop()

    assert not made.home.exists()
    assert given.home.is_dir()
