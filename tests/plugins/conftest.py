"""The API server's app in-process (Airflow's real auth, plugins and database), for the registry plugin.

``airflow.api_fastapi.app.create_app`` mounts the plugins exactly as ``airflow api-server`` does;
requests go through Starlette's test client, so every route runs with Airflow's security
dependencies, the SimpleAuthManager and the test database. The acceptance suite does the same
against a real ``airflow standalone``.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ADMIN, PASSWORD = "admin", "registry-test-password"


@dataclass
class ApiServer:
    """The in-process API server and an admin token."""

    client: Any
    token: str

    def get(self, path: str, *, login: bool = True, **kwargs: Any) -> Any:
        headers = {**({"Authorization": f"Bearer {self.token}"} if login else {}), **kwargs.pop("headers", {})}
        return self.client.get(path, headers=headers, follow_redirects=False, **kwargs)


@pytest.fixture(scope="session")
def api_server(airflow_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    from fastapi.testclient import TestClient

    passwords = tmp_path_factory.mktemp("auth") / "passwords.json"
    passwords.write_text(json.dumps({ADMIN: PASSWORD}))
    settings = {
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        # Set explicitly: whether airflow.cfg got a generated one depends on which test imported Airflow first.
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(64),
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in settings.items():
            patch.setenv(name, value)
        from airflow.api_fastapi.app import create_app, purge_cached_app

        with TestClient(create_app()) as client:
            response = client.post("/auth/token", json={"username": ADMIN, "password": PASSWORD})
            response.raise_for_status()
            yield ApiServer(client, response.json()["access_token"])
        purge_cached_app()
    assert not any(name in os.environ for name in settings)
